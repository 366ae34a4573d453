"""Persistence: identities and their reference embeddings, consent grants, decisions.

`Store` is the seam; `SQLiteStore` (WAL, one file) is the embedded default.
Schema changes are numbered migrations applied at open (PRAGMA user_version).
Reference embeddings are kept here too, so the FAISS index can always be rebuilt
from the store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from indexes.hashbank import Bank, BankEntry
from indexes.manifests import ManifestRecord, StoredFingerprint
from safety.verdict import Verdict


@dataclass(frozen=True)
class Reference:
    vector_id: int
    image_sha256: str
    created_at: float


@dataclass(frozen=True)
class IdentityRecord:
    id: str
    name: str
    aliases: list[str]
    reference_count: int
    external_id: str = ""
    created_at: float = 0.0
    references: list[Reference] = field(default_factory=list)


@dataclass(frozen=True)
class IdempotencyRecord:
    request_sha256: str
    request_id: str
    terminal: bytes | None  # serialized final GenerateEvent; None while running
    output_path: str  # the kept signed output, for a completed request


@dataclass(frozen=True)
class ClientRecord:
    """A caller of the service: who it is, which tenant it acts for, what it may do."""

    id: str
    name: str
    tenant: str
    role: str
    cert_subject: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class Grant:
    """Tenant `tenant` may depict identity `identity_id` in `scopes` until `expires_at`."""

    id: str
    tenant: str
    identity_id: str
    scopes: list[str]
    grantor: str
    created_at: float
    expires_at: float | None = None  # None: no expiry
    revoked_at: float | None = None
    revoked_by: str = ""

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class Store(Protocol):
    def add_identity(
        self,
        name: str,
        aliases: list[str],
        external_id: str,
        references: list[tuple[str, np.ndarray]],
    ) -> tuple[IdentityRecord, list[int]]:
        """Create an identity with one row per (image sha256, embedding); returns vector ids."""
        ...

    def identities(self) -> list[IdentityRecord]:
        """All enrolled identities, oldest first."""
        ...

    def identity(self, identity_id: str) -> IdentityRecord | None:
        """One identity with its references, or None."""
        ...

    def remove_identity(self, identity_id: str) -> list[int]:
        """Delete an identity and its references, revoke its grants; returns the vector ids."""
        ...

    def reference_owner(self, image_sha256: str) -> str | None:
        """The identity id already holding this exact reference image, if any."""
        ...

    def identity_for_vector(self, vector_id: int) -> tuple[str, str] | None:
        """(identity id, name) owning a reference vector, or None if unknown."""
        ...

    def reference_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """All (vector ids, embeddings): what the identity index is rebuilt from."""
        ...

    def set_reference_face(self, vector_id: int, jpeg: bytes) -> None:
        """Keep the face crop of a reference (shown to reviewers beside a match)."""
        ...

    def reference_face(self, identity_id: str) -> bytes | None:
        """The first reference's face crop of an identity, if one was kept."""
        ...

    def client(self, client_id: str) -> ClientRecord | None:
        """One client by id (revoked ones too)."""
        ...

    def add_grant(
        self,
        tenant: str,
        identity_id: str,
        scopes: list[str],
        grantor: str,
        expires_at: float | None,
    ) -> Grant:
        """Record a consent grant."""
        ...

    def revoke_grant(self, grant_id: str, revoked_by: str) -> Grant | None:
        """Revoke a grant (idempotent); None if no such grant."""
        ...

    def grants(self, tenant: str = "", identity_id: str = "") -> list[Grant]:
        """Grants, newest first, optionally filtered."""
        ...

    def record_decision(
        self,
        decision_id: str,
        request_id: str,
        tenant: str,
        verdict: Verdict,
        output_sha256: str = "",
    ) -> None:
        """Append a decision; durable when this returns (a failure raises, never drops)."""
        ...

    def decision(self, decision_id: str) -> dict | None:
        """One decision record with its evidence, or None."""
        ...

    def decisions(self, tenant: str = "", limit: int = 100) -> list[dict]:
        """Newest decisions first (without evidence), optionally of one tenant."""
        ...

    def heartbeat(self) -> None:
        """A real write (the health probe): raises when the store cannot record decisions."""
        ...

    def add_client(
        self, name: str, tenant: str, role: str, token_sha256: str | None, cert_subject: str
    ) -> ClientRecord:
        """Register a caller; its token is known only by hash."""
        ...

    def client_by_token(self, token_sha256: str) -> ClientRecord | None:
        """The client holding this token (revoked ones too; the caller checks)."""
        ...

    def client_by_subject(self, cert_subject: str) -> ClientRecord | None:
        """The active client bound to this client-certificate subject, if any."""
        ...

    def clients(self) -> list[ClientRecord]:
        """All clients, oldest first."""
        ...

    def revoke_client(self, client_id: str) -> ClientRecord | None:
        """Revoke a client's token and certificate binding (idempotent); None if unknown."""
        ...


MIGRATIONS = [
    """
    CREATE TABLE identities (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        aliases TEXT NOT NULL,          -- JSON list
        created_at REAL NOT NULL
    );
    CREATE TABLE identity_references (
        vector_id INTEGER PRIMARY KEY,  -- the id in the FAISS index
        identity_id TEXT NOT NULL REFERENCES identities(id),
        image_sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE decisions (
        id TEXT PRIMARY KEY,
        request_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        stage TEXT NOT NULL,
        action TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        evidence TEXT NOT NULL,         -- JSON: the whole verdict
        output_sha256 TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX decisions_tenant ON decisions(tenant, created_at);
    """,
    """
    ALTER TABLE identities ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
    ALTER TABLE identity_references ADD COLUMN embedding BLOB;  -- float32 little-endian
    CREATE UNIQUE INDEX identity_references_sha ON identity_references(image_sha256);
    CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        identity_id TEXT NOT NULL,
        scopes TEXT NOT NULL,           -- JSON list: image / video / performance
        grantor TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL,
        revoked_by TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX grants_lookup ON grants(tenant, identity_id);
    """,
    """
    CREATE TABLE manifest_repository (
        manifest_id TEXT PRIMARY KEY,   -- the decision the manifest was signed for
        alg TEXT NOT NULL,              -- soft-binding algorithm: com.meta.pdq / com.meta.vpdq
        hashes TEXT NOT NULL,           -- JSON list of PDQ hex digests
        manifest BLOB NOT NULL,         -- the signed manifest store (application/c2pa)
        mime_type TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX manifest_repository_alg ON manifest_repository(alg);
    """,
    """
    CREATE TABLE hash_banks (
        name TEXT PRIMARY KEY,
        max_distance INTEGER NOT NULL,
        description TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE bank_entries (
        id INTEGER PRIMARY KEY,
        bank TEXT NOT NULL REFERENCES hash_banks(name),
        hash TEXT NOT NULL,             -- PDQ hex
        media_id TEXT NOT NULL,         -- groups a video's frame hashes
        note TEXT NOT NULL,
        added_at REAL NOT NULL,
        UNIQUE (bank, hash)
    );
    """,
    """
    CREATE TABLE idempotency (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,   -- the request it was first used for
        request_id TEXT NOT NULL,
        terminal BLOB,                  -- the final GenerateEvent, once there is one
        output_path TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        PRIMARY KEY (tenant, key)
    );
    """,
    """
    CREATE TABLE clients (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        tenant TEXT NOT NULL,           -- "*": every tenant (platform admins, auditors)
        role TEXT NOT NULL,
        token_sha256 TEXT UNIQUE,       -- the bearer token is shown once, never stored
        cert_subject TEXT NOT NULL DEFAULT '',  -- mTLS: the client certificate's CN
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE INDEX decisions_request ON decisions(request_id);
    CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at REAL NOT NULL);
    ALTER TABLE identity_references ADD COLUMN face_jpeg BLOB;  -- for reviewers' eyes
    """,
]


class SQLiteStore:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only` is for readers beside the service (an auditor's `reelguard verify`):
        SQLite itself refuses every write, and nothing is created or migrated."""
        self._lock = threading.Lock()
        if read_only:
            self._db = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                check_same_thread=False,
                isolation_level=None,
            )
            self._require_current_schema(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._migrate()

    def _require_current_schema(self, path: Path) -> None:
        (current,) = self._db.execute("PRAGMA user_version").fetchone()
        if current != len(MIGRATIONS):
            self._db.close()
            remedy = (
                "start `reelguard serve` of this version once to upgrade it"
                if current < len(MIGRATIONS)
                else "it was written by a newer reelguard"
            )
            raise RuntimeError(
                f"{path} has schema version {current}, this reelguard reads "
                f"{len(MIGRATIONS)}: {remedy}"
            )

    def _migrate(self) -> None:
        (current,) = self._db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self._lock:
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def close(self) -> None:
        self._db.close()

    # ---- identities --------------------------------------------------------------------

    def add_identity(self, name, aliases, external_id, references):
        identity_id = uuid.uuid4().hex[:12]
        now = time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO identities (id, name, aliases, created_at, external_id)"
                " VALUES (?, ?, ?, ?, ?)",
                (identity_id, name, json.dumps(aliases), now, external_id),
            )
            vector_ids = []
            for digest, embedding in references:
                cur = db.execute(
                    "INSERT INTO identity_references"
                    " (identity_id, image_sha256, created_at, embedding) VALUES (?, ?, ?, ?)",
                    (identity_id, digest, now, np.asarray(embedding, "<f4").tobytes()),
                )
                vector_ids.append(int(cur.lastrowid))
        record = IdentityRecord(identity_id, name, aliases, len(vector_ids), external_id, now)
        return record, vector_ids

    _IDENTITY_SELECT = (
        "SELECT i.id, i.name, i.aliases, COUNT(r.vector_id), i.external_id, i.created_at "
        "FROM identities i LEFT JOIN identity_references r ON r.identity_id = i.id "
    )

    def identities(self):
        rows = self._query(self._IDENTITY_SELECT + "GROUP BY i.id ORDER BY i.created_at")
        return [IdentityRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5]) for r in rows]

    def identity(self, identity_id):
        rows = self._query(self._IDENTITY_SELECT + "WHERE i.id = ? GROUP BY i.id", (identity_id,))
        if not rows:
            return None
        r = rows[0]
        refs = [
            Reference(*row)
            for row in self._query(
                "SELECT vector_id, image_sha256, created_at FROM identity_references "
                "WHERE identity_id = ? ORDER BY vector_id",
                (identity_id,),
            )
        ]
        return IdentityRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], r[5], refs)

    def remove_identity(self, identity_id):
        now = time.time()
        with self._transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT vector_id FROM identity_references WHERE identity_id = ?",
                    (identity_id,),
                )
            ]
            db.execute("DELETE FROM identity_references WHERE identity_id = ?", (identity_id,))
            db.execute(
                "UPDATE grants SET revoked_at = ?, revoked_by = 'identity removed' "
                "WHERE identity_id = ? AND revoked_at IS NULL",
                (now, identity_id),
            )
            db.execute("DELETE FROM identities WHERE id = ?", (identity_id,))
        return ids

    def reference_owner(self, image_sha256):
        rows = self._query(
            "SELECT identity_id FROM identity_references WHERE image_sha256 = ?", (image_sha256,)
        )
        return rows[0][0] if rows else None

    def identity_for_vector(self, vector_id):
        rows = self._query(
            "SELECT i.id, i.name FROM identity_references r JOIN identities i "
            "ON i.id = r.identity_id WHERE r.vector_id = ?",
            (vector_id,),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def reference_vectors(self):
        rows = self._query(
            "SELECT vector_id, embedding FROM identity_references "
            "WHERE embedding IS NOT NULL ORDER BY vector_id"
        )
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.stack([np.frombuffer(r[1], "<f4") for r in rows]).astype(np.float32)
        return ids, vectors

    # ---- consent -----------------------------------------------------------------------

    _GRANT_COLUMNS = (
        "id, tenant, identity_id, scopes, grantor, created_at, expires_at, revoked_at, revoked_by"
    )

    @staticmethod
    def _grant(row: tuple) -> Grant:
        return Grant(row[0], row[1], row[2], json.loads(row[3]), *row[4:])

    def add_grant(self, tenant, identity_id, scopes, grantor, expires_at):
        grant = Grant(
            "grant_" + uuid.uuid4().hex[:12],
            tenant,
            identity_id,
            list(scopes),
            grantor,
            time.time(),
            expires_at,
        )
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO grants ({self._GRANT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, '')",
                (
                    grant.id,
                    tenant,
                    identity_id,
                    json.dumps(grant.scopes),
                    grantor,
                    grant.created_at,
                    expires_at,
                ),
            )
        return grant

    def revoke_grant(self, grant_id, revoked_by):
        with self._transaction() as db:
            db.execute(
                "UPDATE grants SET revoked_at = ?, revoked_by = ? "
                "WHERE id = ? AND revoked_at IS NULL",
                (time.time(), revoked_by, grant_id),
            )
            row = db.execute(
                f"SELECT {self._GRANT_COLUMNS} FROM grants WHERE id = ?", (grant_id,)
            ).fetchone()
        return self._grant(row) if row else None

    def grants(self, tenant="", identity_id=""):
        rows = self._query(
            f"SELECT {self._GRANT_COLUMNS} FROM grants "
            "WHERE (? = '' OR tenant = ?) AND (? = '' OR identity_id = ?) "
            "ORDER BY created_at DESC",
            (tenant, tenant, identity_id, identity_id),
        )
        return [self._grant(r) for r in rows]

    # ---- manifest repository (soft binding) -------------------------------------------

    def add_manifest_record(self, record: ManifestRecord) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO manifest_repository VALUES (?, ?, ?, ?, ?, ?)",
                (
                    record.manifest_id,
                    record.alg,
                    json.dumps(record.hashes),
                    record.manifest,
                    record.mime_type,
                    time.time(),
                ),
            )

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        rows = self._query(
            "SELECT rowid, manifest_id, alg, hashes FROM manifest_repository "
            "WHERE rowid > ? ORDER BY rowid",
            (after_seq,),
        )
        return [StoredFingerprint(r[0], r[1], r[2], json.loads(r[3])) for r in rows]

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        return self._manifest_record("manifest_id = ?", (manifest_id,))

    def manifest_record_by_prefix(self, prefix: str) -> ManifestRecord | None:
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return None
        # Two rows for a prefix is ambiguous (astronomically unlikely): no record.
        return self._manifest_record(
            "manifest_id >= ? AND manifest_id < ? ORDER BY manifest_id", (prefix, prefix + "g")
        )

    def _manifest_record(self, where: str, args: tuple) -> ManifestRecord | None:
        rows = self._query(
            "SELECT manifest_id, alg, hashes, manifest, mime_type FROM manifest_repository "
            f"WHERE {where} LIMIT 2",
            args,
        )
        if len(rows) != 1:
            return None
        r = rows[0]
        return ManifestRecord(r[0], r[1], json.loads(r[2]), bytes(r[3]), r[4])

    # ---- hash banks ----------------------------------------------------------------------

    def add_bank(self, bank: Bank) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO hash_banks VALUES (?, ?, ?, ?)",
                (bank.name, bank.max_distance, bank.description, time.time()),
            )

    def banks(self) -> list[Bank]:
        rows = self._query("SELECT name, max_distance, description FROM hash_banks ORDER BY name")
        return [Bank(*r) for r in rows]

    def add_bank_entries(self, bank, hashes, media_id, note):
        ids = []
        with self._transaction() as db:
            for digest in hashes:
                cur = db.execute(
                    "INSERT OR IGNORE INTO bank_entries (bank, hash, media_id, note, added_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (bank, digest, media_id, note, time.time()),
                )
                if cur.rowcount:
                    ids.append(int(cur.lastrowid))
        return ids

    def remove_bank_entry(self, entry_id: int) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM bank_entries WHERE id = ?", (entry_id,)).rowcount > 0

    def bank_entries(self) -> list[BankEntry]:
        rows = self._query("SELECT id, bank, hash, media_id, note FROM bank_entries ORDER BY id")
        return [BankEntry(*r) for r in rows]

    # ---- idempotency keys ----------------------------------------------------------------

    def claim_idempotency(
        self, tenant: str, key: str, request_sha256: str, request_id: str
    ) -> IdempotencyRecord | None:
        """Claim a key for a new request; if already claimed, the existing record instead."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT request_sha256, request_id, terminal, output_path FROM idempotency "
                "WHERE tenant = ? AND key = ?",
                (tenant, key),
            ).fetchone()
            if row is not None:
                return IdempotencyRecord(row[0], row[1], row[2], row[3])
            db.execute(
                "INSERT INTO idempotency (tenant, key, request_sha256, request_id, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (tenant, key, request_sha256, request_id, time.time()),
            )
        return None

    def finish_idempotency(self, tenant: str, key: str, terminal: bytes, output_path: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE idempotency SET terminal = ?, output_path = ? WHERE tenant = ? AND key = ?",
                (terminal, output_path, tenant, key),
            )

    def release_idempotency(self, tenant: str, key: str) -> None:
        """Forget an unfinished claim (the stream died): a retry may run anew."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM idempotency WHERE tenant = ? AND key = ? AND terminal IS NULL",
                (tenant, key),
            )

    # ---- decisions ---------------------------------------------------------------------

    def record_decision(self, decision_id, request_id, tenant, verdict, output_sha256=""):
        with self._lock:
            self._db.execute(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    decision_id,
                    request_id,
                    tenant,
                    verdict.stage.name.lower(),
                    verdict.action.name.lower(),
                    verdict.policy_version,
                    json.dumps(verdict.to_dict()),
                    output_sha256,
                    time.time(),
                ),
            )

    def decision(self, decision_id):
        with self._lock:
            cur = self._db.execute("SELECT * FROM decisions WHERE id = ?", (decision_id,))
            row = cur.fetchone()
            names = [d[0] for d in cur.description]
        if row is None:
            return None
        record = dict(zip(names, row, strict=True))
        record["evidence"] = json.loads(record["evidence"])
        return record

    def decisions(self, tenant="", limit=100):
        names = ("id", "request_id", "tenant", "stage", "action", "policy_version", "created_at")
        sql = f"SELECT {', '.join(names)} FROM decisions"
        args: tuple = ()
        if tenant:
            sql, args = sql + " WHERE tenant = ?", (tenant,)
        rows = self._query(sql + " ORDER BY created_at DESC LIMIT ?", (*args, limit))
        return [dict(zip(names, row, strict=True)) for row in rows]

    def heartbeat(self):
        with self._transaction() as db:
            db.execute("INSERT OR REPLACE INTO heartbeat VALUES (1, ?)", (time.time(),))

    def set_reference_face(self, vector_id, jpeg):
        with self._transaction() as db:
            db.execute(
                "UPDATE identity_references SET face_jpeg = ? WHERE vector_id = ?",
                (jpeg, vector_id),
            )

    def reference_face(self, identity_id):
        rows = self._query(
            "SELECT face_jpeg FROM identity_references WHERE identity_id = ? "
            "AND face_jpeg IS NOT NULL ORDER BY vector_id LIMIT 1",
            (identity_id,),
        )
        return rows[0][0] if rows else None

    def client(self, client_id):
        found = self._client_where("id = ?", (client_id,))
        return found[0] if found else None

    # ---- clients -----------------------------------------------------------------------

    _CLIENT_COLUMNS = "id, name, tenant, role, cert_subject, created_at, revoked_at"

    def add_client(self, name, tenant, role, token_sha256, cert_subject):
        record = ClientRecord(uuid.uuid4().hex[:12], name, tenant, role, cert_subject, time.time())
        with self._transaction() as db:
            db.execute(
                "INSERT INTO clients (id, name, tenant, role, token_sha256, cert_subject, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (record.id, name, tenant, role, token_sha256, cert_subject, record.created_at),
            )
        return record

    def _client_where(self, where: str, args: tuple) -> list[ClientRecord]:
        rows = self._query(f"SELECT {self._CLIENT_COLUMNS} FROM clients WHERE {where}", args)
        return [ClientRecord(*r) for r in rows]

    def client_by_token(self, token_sha256):
        found = self._client_where("token_sha256 = ?", (token_sha256,))
        return found[0] if found else None

    def client_by_subject(self, cert_subject):
        found = self._client_where(
            "cert_subject = ? AND cert_subject != '' AND revoked_at IS NULL "
            "ORDER BY created_at DESC",
            (cert_subject,),
        )
        return found[0] if found else None

    def clients(self):
        return self._client_where("1 ORDER BY created_at", ())

    def revoke_client(self, client_id):
        with self._transaction() as db:
            db.execute(
                "UPDATE clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), client_id),
            )
        return self.client(client_id)

"""The embedded store: everything `Store` (safety/store/interface.py) names, in one
SQLite file (WAL, synchronous=FULL).

Schema changes are numbered migrations (safety/store/migrations.py) applied at open.
Reference embeddings are kept here too, so the FAISS index can always be rebuilt from
the store. The rows about media live in `MediaTables` (safety/store/sqlite_media.py).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from safety.store.migrations import MIGRATIONS
from safety.store.records import ClientRecord, Grant, IdentityRecord, Reference
from safety.store.sqlite_media import MediaTables


class SQLiteStore(MediaTables):
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
        "id, tenant, identity_id, scopes, grantor, created_at, expires_at, revoked_at, revoked_by, "
        "basis"
    )

    @staticmethod
    def _grant(row: tuple) -> Grant:
        return Grant(row[0], row[1], row[2], json.loads(row[3]), *row[4:])

    def add_grant(self, tenant, identity_id, scopes, grantor, expires_at, basis=""):
        grant = Grant(
            "grant_" + uuid.uuid4().hex[:12],
            tenant,
            identity_id,
            list(scopes),
            grantor,
            time.time(),
            expires_at,
            basis=basis,
        )
        with self._transaction() as db:
            db.execute(
                f"INSERT INTO grants ({self._GRANT_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, '', ?)",
                (
                    grant.id,
                    tenant,
                    identity_id,
                    json.dumps(grant.scopes),
                    grantor,
                    grant.created_at,
                    expires_at,
                    basis,
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

    # ---- decisions ---------------------------------------------------------------------

    def record_decision(self, decision_id, request_id, tenant, verdict, output_sha256=""):
        with self._lock:
            self._db.execute(
                "INSERT INTO decisions (id, request_id, tenant, stage, action, policy_version, "
                "evidence, output_sha256, created_at, specialist) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    int(any(f.specialist for f in verdict.findings)),
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

    def decisions(self, tenant="", limit=100, specialist=False):
        names = ("id", "request_id", "tenant", "stage", "action", "policy_version", "created_at")
        names += ("specialist",)
        where, args = [], []
        if tenant:
            where, args = ["tenant = ?"], [tenant]
        if specialist:
            where.append("specialist = 1")
        sql = f"SELECT {', '.join(names)} FROM decisions"
        sql += f" WHERE {' AND '.join(where)}" if where else ""
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

"""Persistence: identities, their reference vectors, and decision records.

`Store` is the seam; `SQLiteStore` (WAL, one file) is the embedded default.
Schema changes are numbered migrations applied at open (PRAGMA user_version).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from safety.verdict import Verdict


@dataclass(frozen=True)
class IdentityRecord:
    id: str
    name: str
    aliases: list[str]
    reference_count: int


class Store(Protocol):
    def add_identity(
        self, name: str, aliases: list[str], image_sha256s: list[str]
    ) -> tuple[IdentityRecord, list[int]]:
        """Create an identity and one reference row per image; returns the new vector ids."""
        ...

    def identities(self) -> list[IdentityRecord]:
        """All enrolled identities, oldest first."""
        ...

    def identity_for_vector(self, vector_id: int) -> tuple[str, str] | None:
        """(identity id, name) owning a reference vector, or None if unknown."""
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
]


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._lock = threading.Lock()
        self._migrate()

    def _migrate(self) -> None:
        (current,) = self._db.execute("PRAGMA user_version").fetchone()
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self._lock:
                self._db.executescript(f"BEGIN; {script}; PRAGMA user_version={number}; COMMIT;")

    def close(self) -> None:
        self._db.close()

    def add_identity(self, name, aliases, image_sha256s):
        identity_id = uuid.uuid4().hex[:12]
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT INTO identities VALUES (?, ?, ?, ?)",
                    (identity_id, name, json.dumps(aliases), now),
                )
                vector_ids = []
                for digest in image_sha256s:
                    cur = self._db.execute(
                        "INSERT INTO identity_references (identity_id, image_sha256, created_at)"
                        " VALUES (?, ?, ?)",
                        (identity_id, digest, now),
                    )
                    vector_ids.append(int(cur.lastrowid))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return IdentityRecord(identity_id, name, aliases, len(vector_ids)), vector_ids

    def identities(self):
        with self._lock:
            rows = self._db.execute(
                "SELECT i.id, i.name, i.aliases, COUNT(r.vector_id) FROM identities i "
                "LEFT JOIN identity_references r ON r.identity_id = i.id "
                "GROUP BY i.id ORDER BY i.created_at"
            ).fetchall()
        return [IdentityRecord(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]

    def identity_for_vector(self, vector_id):
        with self._lock:
            row = self._db.execute(
                "SELECT i.id, i.name FROM identity_references r JOIN identities i "
                "ON i.id = r.identity_id WHERE r.vector_id = ?",
                (vector_id,),
            ).fetchone()
        return (row[0], row[1]) if row else None

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

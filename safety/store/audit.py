"""The audit log on SQL: the hash chain (audit_chain.py) in the `audit_log` table, its head
in `audit_head`, each entry appended in the transaction of the change it records."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from safety.store.audit_chain import Verification, chained, export_entries, verify_chain
from safety.store.database import write_transaction
from safety.store.schema import audit_head, audit_log


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()  # one appender per process; the head row across processes

    def append(
        self, conn: Connection, actor: str, kind: str, tenant: str, subject: str, body: dict
    ) -> int:
        """Append inside the caller's transaction (so the entry commits with the change it
        records); returns the entry's sequence number."""
        head = conn.execute(
            sa.select(audit_head.c.seq, audit_head.c.hash)
            .where(audit_head.c.id == 1)
            .with_for_update()
        ).one()
        row = chained(
            head.seq, head.hash, time.time_ns() // 1000, actor, kind, tenant, subject, body
        )
        seq, digest = row["seq"], row["hash"]
        conn.execute(audit_log.insert().values(**row))
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=seq, hash=digest))
        return seq

    def record(self, actor: str, kind: str, tenant: str, subject: str, body: dict) -> int:
        """Append in a transaction of its own; durable when this returns."""
        with self.transaction() as conn:
            return self.append(conn, actor, kind, tenant, subject, body)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction for a change plus its audit entry (holds the process's append lock)."""
        with self._lock, write_transaction(self.engine) as conn:
            yield conn

    def entries(self, tenant: str | None = None) -> Iterator[dict]:
        query = sa.select(audit_log).order_by(audit_log.c.seq)
        if tenant is not None:
            query = query.where(audit_log.c.tenant == tenant)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield dict(row._mapping)

    def verify(self) -> Verification:
        entries = list(self.entries())
        with self.engine.connect() as conn:
            head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).one()
        return verify_chain(entries, (head.seq, head.hash))

    def export(self, out: IO[str], tenant: str | None = None) -> int:
        """JSON Lines, one entry per line with its hashes, oldest first."""
        return export_entries(self.entries(tenant), out)

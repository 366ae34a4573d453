"""The audit log: every automatic and human decision, hash-chained.

Each entry's hash covers its fields and the previous entry's hash, so editing an entry
breaks its own hash, deleting one breaks the next entry's link (and the sequence),
and cutting off the tail disagrees with the head row. `verify` names the first
broken entry. This detects tampering by anyone without the ability to rewrite the
whole chain and its head; exporting the head hash elsewhere (regulators, a
transparency log) closes that gap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from safety.store.database import write_transaction
from safety.store.schema import GENESIS, audit_head, audit_log


def canonical(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(
    prev_hash: str,
    seq: int,
    at_us: int,
    actor: str,
    kind: str,
    tenant: str,
    subject: str,
    body: str,
) -> str:
    fields = json.dumps([seq, at_us, actor, kind, tenant, subject, body], ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{fields}".encode()).hexdigest()


@dataclass(frozen=True)
class Verification:
    entries: int
    head_hash: str
    broken_seq: int | None = None  # the first entry that does not check out
    why: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


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
        seq, at_us, text = head.seq + 1, time.time_ns() // 1000, canonical(body)
        digest = entry_hash(head.hash, seq, at_us, actor, kind, tenant, subject, text)
        conn.execute(
            audit_log.insert().values(
                seq=seq,
                at_us=at_us,
                actor=actor,
                kind=kind,
                tenant=tenant,
                subject=subject,
                body=text,
                prev_hash=head.hash,
                hash=digest,
            )
        )
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
        prev, expected, count = GENESIS, 1, 0
        for e in self.entries():
            if e["seq"] != expected:
                return Verification(
                    count, prev, expected, f"entry {expected} is missing (deleted?)"
                )
            if e["prev_hash"] != prev:
                return Verification(count, prev, e["seq"], "does not link to the entry before it")
            fields = (e["actor"], e["kind"], e["tenant"], e["subject"], e["body"])
            if entry_hash(prev, e["seq"], e["at_us"], *fields) != e["hash"]:
                return Verification(count, prev, e["seq"], "its content was changed")
            prev, expected, count = e["hash"], expected + 1, count + 1
        with self.engine.connect() as conn:
            head = conn.execute(sa.select(audit_head).where(audit_head.c.id == 1)).one()
        if head.seq != count or head.hash != prev:
            return Verification(
                count,
                prev,
                count + 1,
                f"entries after {count} are missing (the head is at {head.seq})",
            )
        return Verification(count, prev)

    def export(self, out: IO[str], tenant: str | None = None) -> int:
        """JSON Lines, one entry per line with its hashes, oldest first."""
        n = 0
        for e in self.entries(tenant):
            e["body"] = json.loads(e["body"])
            out.write(json.dumps(e, ensure_ascii=False) + "\n")
            n += 1
        return n

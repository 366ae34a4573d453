"""The store in this process's memory: everything `Store` names, gone when it closes.

A real implementation, held to the same conformance tests as SQLite and PostgreSQL
(tests/safety/store/test_conformance.py): what a test of the gate, the review queue,
consent or the allowlist needs from a store, without a database or a server. One lock
makes each call a transaction (a change and its audit entry land together or not at
all); records handed out are copies, so a caller cannot change what is stored. The
media, bank, client and review rows are `MemoryRows` (memory_rows.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO

import numpy as np

from safety.store.audit_chain import (
    GENESIS,
    Verification,
    chained,
    export_entries,
    verify_chain,
)
from safety.store.memory_people import MemoryPeople
from safety.store.memory_rows import MemoryRows
from safety.store.people_interface import match_rows
from safety.store.records import (
    AuditEntry,
    Change,
    Grant,
    IdempotencyRecord,
    IdentityRecord,
    Reference,
)
from safety.verdict import Verdict


class MemoryAudit:
    """The hash chain in a list (audit_chain.py), under the store's lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._entries: list[dict] = []
        self._head = (0, GENESIS)

    def append(self, entry: AuditEntry) -> int:
        with self._lock:
            row = chained(
                *self._head,
                time.time_ns() // 1000,
                entry.actor,
                entry.kind,
                entry.tenant,
                entry.subject,
                entry.body,
            )
            self._entries.append(row)
            self._head = (row["seq"], row["hash"])
            return row["seq"]

    def record(self, actor: str, kind: str, tenant: str, subject: str, body: dict) -> int:
        return self.append(AuditEntry(actor, kind, tenant, subject, body))

    def entries(self, tenant: str | None = None) -> Iterator[dict]:
        with self._lock:
            rows = [dict(e) for e in self._entries if tenant is None or e["tenant"] == tenant]
        yield from rows

    def verify(self) -> Verification:
        with self._lock:
            return verify_chain([dict(e) for e in self._entries], self._head)

    def export(self, out: IO[str], tenant: str | None = None) -> int:
        return export_entries(self.entries(tenant), out)


@dataclass
class _Reference:
    vector_id: int
    identity_id: str
    image_sha256: str
    created_at: float
    embedding: np.ndarray
    face_jpeg: bytes | None = None


@dataclass
class _Claim:
    record: IdempotencyRecord
    created_at: float
    owner: str
    lease_until: float


class MemoryStore(MemoryRows, MemoryPeople):
    def __init__(self, origin: str = "") -> None:
        """`origin` names this front door in the change feed, as for `SqlStore`."""
        self._lock = threading.RLock()
        self._changed_event = threading.Condition(self._lock)
        self.audit = MemoryAudit(self._lock)
        self.origin = origin
        self._identities: dict[str, IdentityRecord] = {}
        self._references: dict[int, _Reference] = {}
        self._grants: dict[str, Grant] = {}
        self._decisions: dict[str, dict] = {}
        self._claims: dict[tuple[str, str], _Claim] = {}
        self._changes: list[Change] = []
        self._heartbeats: dict[str, float] = {}
        self._ids = 0  # vector ids, bank entry ids, clearance ids, manifest seqs
        MemoryRows.__init__(self)
        MemoryPeople.__init__(self)

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def close(self) -> None:
        """Nothing to release: the data goes with the object."""

    # ---- change feed -------------------------------------------------------------------

    def _changed(self, kind: str, body: dict) -> None:
        """Number a change, under the lock of the change itself."""
        self._changes.append(Change(len(self._changes) + 1, kind, self.origin, body, time.time()))
        self._changed_event.notify_all()

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        with self._lock:
            return [c for c in self._changes if c.seq > seq][:limit]

    def last_change(self) -> int:
        with self._lock:
            return len(self._changes)

    def wait_for_change(self, timeout_s: float) -> None:
        with self._lock:
            seen = len(self._changes)
            self._changed_event.wait_for(lambda: len(self._changes) > seen, timeout_s)

    # ---- identities --------------------------------------------------------------------

    def add_identity(self, name, aliases, external_id, references):
        with self._lock:
            taken = {r.image_sha256 for r in self._references.values()}
            digests = [digest for digest, _ in references]
            if taken & set(digests) or len(set(digests)) != len(digests):
                raise ValueError("a reference image already belongs to an enrolled identity")
            identity_id, now = uuid.uuid4().hex[:12], time.time()
            vector_ids = []
            for digest, embedding in references:
                vector_id = self._next_id()
                self._references[vector_id] = _Reference(
                    vector_id, identity_id, digest, now, np.asarray(embedding, np.float32).copy()
                )
                vector_ids.append(vector_id)
            record = IdentityRecord(identity_id, name, list(aliases), 0, external_id, now)
            self._identities[identity_id] = record
            self._changed("identity_added", {"id": identity_id, "vectors": vector_ids})
        return replace(record, reference_count=len(vector_ids)), vector_ids

    def _refs_of(self, identity_id: str) -> list[_Reference]:
        return sorted(
            (r for r in self._references.values() if r.identity_id == identity_id),
            key=lambda r: r.vector_id,
        )

    def _record(self, record: IdentityRecord, references: bool) -> IdentityRecord:
        refs = self._refs_of(record.id)
        return replace(
            record,
            aliases=list(record.aliases),
            reference_count=len(refs),
            references=[Reference(r.vector_id, r.image_sha256, r.created_at) for r in refs]
            if references
            else [],
        )

    def identities(self):
        with self._lock:
            found = sorted(self._identities.values(), key=lambda r: r.created_at)
            return [self._record(r, references=False) for r in found]

    def identity(self, identity_id):
        with self._lock:
            record = self._identities.get(identity_id)
            return None if record is None else self._record(record, references=True)

    def remove_identity(self, identity_id):
        with self._lock:
            ids = [r.vector_id for r in self._refs_of(identity_id)]
            for vector_id in ids:
                del self._references[vector_id]
            now = time.time()
            for grant in list(self._grants.values()):
                if grant.identity_id == identity_id and grant.revoked_at is None:
                    self._grants[grant.id] = replace(
                        grant, revoked_at=now, revoked_by="identity removed"
                    )
            if self._identities.pop(identity_id, None) is not None:
                self._changed("identity_removed", {"id": identity_id, "vectors": ids})
        return ids

    def reference_owner(self, image_sha256):
        with self._lock:
            for r in self._references.values():
                if r.image_sha256 == image_sha256:
                    return r.identity_id
        return None

    def identity_for_vector(self, vector_id):
        with self._lock:
            ref = self._references.get(int(vector_id))
            if ref is None or ref.identity_id not in self._identities:
                return None
            return ref.identity_id, self._identities[ref.identity_id].name

    def reference_vectors(self, vector_ids: list[int] | None = None):
        with self._lock:
            wanted = None if vector_ids is None else {int(v) for v in vector_ids}
            refs = sorted(
                (r for r in self._references.values() if wanted is None or r.vector_id in wanted),
                key=lambda r: r.vector_id,
            )
            if not refs:
                return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
            ids = np.array([r.vector_id for r in refs], dtype=np.int64)
            return ids, np.stack([r.embedding for r in refs]).astype(np.float32)

    def reference_vector_ids(self):
        with self._lock:
            return np.array(sorted(r.vector_id for r in self._references.values()), np.int64)

    def set_reference_face(self, vector_id, jpeg):
        with self._lock:
            if vector_id in self._references:
                self._references[vector_id].face_jpeg = bytes(jpeg)

    def reference_face(self, identity_id):
        with self._lock:
            faces = [r.face_jpeg for r in self._refs_of(identity_id) if r.face_jpeg is not None]
        return faces[0] if faces else None

    # ---- consent -----------------------------------------------------------------------

    def add_grant(self, tenant, identity_id, scopes, grantor, expires_at, basis=""):
        grant = Grant.new(tenant, identity_id, scopes, grantor, expires_at, basis)
        with self._lock:
            self._grants[grant.id] = grant
        return replace(grant, scopes=list(grant.scopes))

    def revoke_grant(self, grant_id, revoked_by):
        with self._lock:
            grant = self._grants.get(grant_id)
            if grant is None:
                return None
            if grant.revoked_at is None:
                grant = self._grants[grant_id] = replace(
                    grant, revoked_at=time.time(), revoked_by=revoked_by
                )
            return replace(grant, scopes=list(grant.scopes))

    def grants(self, tenant="", identity_id=""):
        with self._lock:
            found = [
                replace(g, scopes=list(g.scopes))
                for g in self._grants.values()
                if (not tenant or g.tenant == tenant)
                and (not identity_id or g.identity_id == identity_id)
            ]
        return sorted(found, key=lambda g: g.created_at, reverse=True)

    # ---- decisions ---------------------------------------------------------------------

    def record_decision(
        self, decision_id, request_id, tenant, verdict: Verdict, output_sha256="", entry=None
    ):
        row = dict(
            id=decision_id,
            request_id=request_id,
            tenant=tenant,
            stage=verdict.stage.name.lower(),
            action=verdict.action.name.lower(),
            policy_version=verdict.policy_version,
            evidence=verdict.to_dict(),
            output_sha256=output_sha256,
            created_at=time.time(),
            specialist=int(any(f.specialist for f in verdict.findings)),
        )
        with self._lock:  # the decision and its entry, or neither
            if decision_id in self._decisions:
                raise ValueError(f"decision {decision_id!r} is recorded already")
            if entry is not None:
                self.audit.append(entry)
            self._decisions[decision_id] = row
            self._add_matches(match_rows(decision_id, request_id, tenant, verdict))

    def decision(self, decision_id):
        with self._lock:
            row = self._decisions.get(decision_id)
            return None if row is None else _deep_copy(row)

    def decisions(self, tenant="", limit=100, specialist=False):
        with self._lock:
            rows = [
                {k: v for k, v in row.items() if k not in ("evidence", "output_sha256")}
                for row in self._decisions.values()
                if (not tenant or row["tenant"] == tenant) and (not specialist or row["specialist"])
            ]
        return sorted(rows, key=lambda r: r["created_at"], reverse=True)[:limit]

    def decision_ids(self) -> list[str]:
        with self._lock:
            return list(self._decisions)

    def heartbeat(self):
        with self._lock:
            self._heartbeats[self.origin.partition("#")[0] or "-"] = time.time()

    # ---- idempotency keys ----------------------------------------------------------------

    def claim_idempotency(self, tenant, key, request_sha256, request_id, owner, lease_s):
        now = time.time()
        with self._lock:
            claim = self._claims.get((tenant, key))
            if claim is None:
                record = IdempotencyRecord(request_sha256, request_id, None, "")
                self._claims[tenant, key] = _Claim(record, now, owner, now + lease_s)
                return None
            expired = claim.record.terminal is None and claim.lease_until < now
            if not (expired and claim.record.request_sha256 == request_sha256):
                return claim.record
            # Its owner died mid-request: this retry takes the key over.
            claim.record = replace(claim.record, request_id=request_id)
            claim.owner, claim.lease_until = owner, now + lease_s
        return None

    def finish_idempotency(self, tenant, key, terminal, output_path, owner):
        with self._lock:
            claim = self._claims.get((tenant, key))
            if claim is not None and claim.owner == owner:
                claim.record = replace(
                    claim.record, terminal=bytes(terminal), output_path=output_path
                )

    def release_idempotency(self, tenant, key, owner):
        with self._lock:
            claim = self._claims.get((tenant, key))
            if claim is not None and claim.owner == owner and claim.record.terminal is None:
                del self._claims[tenant, key]

    def expire_idempotency(self, before):
        with self._lock:
            gone = [
                k
                for k, c in self._claims.items()
                if c.record.terminal is not None and c.created_at < before
            ]
            paths = [self._claims[k].record.output_path for k in gone]
            for k in gone:
                del self._claims[k]
        return [p for p in paths if p]

    def release_claims_of(self, owner_prefix, except_owner):
        with self._lock:
            dead = [
                k
                for k, c in self._claims.items()
                if c.record.terminal is None
                and c.owner != except_owner
                and c.owner.startswith(owner_prefix)
            ]
            for k in dead:
                del self._claims[k]
        return len(dead)


def _deep_copy(value):
    """A copy a caller may change without changing what is stored (JSON-shaped values)."""
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value

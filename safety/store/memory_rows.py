"""`MemoryStore`'s rows about media, callers and review: the manifest repository, hash
banks, media bytes, clients, web sessions, shared secrets, review items and clearances.
A mixin of `MemoryStore` (memory.py): it uses the store's lock, ids, change feed and
audit log, as the SQL mixins use the engine."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexes.hamming import rows
from indexes.hashbank import Bank, BankEntry
from indexes.manifests import ManifestRecord, StoredFingerprint
from safety.store.records import (
    AuditEntry,
    Clearance,
    ClientRecord,
    DuplicateCredential,
    ReviewItem,
    SigningAuthorization,
)

MEDIA_CHUNK = 1 << 20  # what `read_media` yields at a time, as the SQL store does
REVIEW_DEFAULTS = dict(  # the columns a new review item leaves unset
    claimed_by=None,
    claim_expires=None,
    decision=None,
    reason_code=None,
    notes=None,
    decided_by=None,
    decided_at=None,
    previous_decider=None,
    appeal_reason=None,
    signed_path=None,
    signed_sha256=None,
    release_json=None,
    first_review=None,
)


class MemoryRows:
    _lock: threading.RLock
    audit: object  # MemoryAudit

    def __init__(self) -> None:
        self._manifests: dict[str, tuple[int, ManifestRecord]] = {}
        self._banks: dict[str, Bank] = {}
        self._entries: dict[int, BankEntry] = {}
        self._media: dict[str, bytes] = {}
        self._clients: dict[str, tuple[ClientRecord, str | None]] = {}
        self._sessions: dict[str, tuple[str, float]] = {}
        self._secrets: dict[str, bytes] = {}
        self._review: dict[str, ReviewItem] = {}
        self._clearances: dict[int, Clearance] = {}
        self._authorizations: dict[str, SigningAuthorization] = {}

    # ---- signing authorizations ----------------------------------------------------------

    def authorize_signing(self, authorization: SigningAuthorization) -> None:
        with self._lock:
            self._authorizations[authorization.decision_id] = authorization

    def use_signing_authorization(
        self, decision_id: str, content_sha256: str, spec_sha256: str
    ) -> bool:
        with self._lock:
            found = self._authorizations.get(decision_id)
            if (
                found is None
                or found.used_at is not None
                or (found.content_sha256, found.spec_sha256) != (content_sha256, spec_sha256)
            ):
                return False
            self._authorizations[decision_id] = replace(found, used_at=time.time())
            return True

    # ---- manifest repository -------------------------------------------------------------

    def add_manifest_record(self, record: ManifestRecord) -> None:
        with self._lock:  # replaced: a resumed release re-signs under the same id
            self._manifests[record.manifest_id] = (self._next_id(), record)

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        with self._lock:
            rows = sorted(self._manifests.values(), key=lambda row: row[0])
        return [
            StoredFingerprint(seq, r.manifest_id, r.alg, list(r.hashes))
            for seq, r in rows
            if seq > after_seq
        ]

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        with self._lock:
            row = self._manifests.get(manifest_id)
        return None if row is None else row[1]

    def manifest_record_by_prefix(self, prefix: str) -> ManifestRecord | None:
        if not prefix or not all(c in "0123456789abcdef" for c in prefix):
            return None
        with self._lock:
            found = [r for _, r in self._manifests.values() if r.manifest_id.startswith(prefix)]
        return found[0] if len(found) == 1 else None  # two for a prefix is ambiguous

    # ---- hash banks ----------------------------------------------------------------------

    def add_bank(self, bank: Bank) -> None:
        with self._lock:
            if bank.name in self._banks:
                raise ValueError(f"hash bank {bank.name!r} exists already")
            self._banks[bank.name] = bank
            self._changed("banks", {"bank": bank.name})

    def banks(self) -> list[Bank]:
        with self._lock:
            return sorted(self._banks.values(), key=lambda b: b.name)

    def add_bank_entries(self, bank, hashes, media_id, note):
        with self._lock:
            if bank not in self._banks:
                raise ValueError(f"no hash bank {bank!r}")
            held = {(e.bank, e.hash) for e in self._entries.values()}
            ids = []
            for digest in hashes:
                if (bank, digest) in held:
                    continue
                entry_id = self._next_id()
                self._entries[entry_id] = BankEntry(entry_id, bank, digest, media_id, note)
                held.add((bank, digest))
                ids.append(entry_id)
            if ids:
                self._changed("banks", {"bank": bank, "entries": ids})
        return ids

    def remove_bank_entry(self, entry_id: int) -> bool:
        with self._lock:
            gone = self._entries.pop(entry_id, None) is not None
            if gone:
                self._changed("banks", {"entry": entry_id})
        return gone

    def bank_entries(self, media_id=None) -> list[BankEntry]:
        with self._lock:
            every = [self._entries[i] for i in sorted(self._entries)]
        return [e for e in every if media_id is None or e.media_id == media_id]

    def bank_entry(self, entry_id):
        return self._entries.get(int(entry_id))  # one dict read: atomic under the GIL

    def bank_counts(self):
        return dict(Counter(e.bank for e in self.bank_entries()))

    def bank_hashes(self, bank=None, ids=None):
        keep = None if ids is None else {int(i) for i in ids}
        every = [e for e in self.bank_entries()
                 if bank in (None, e.bank) and (keep is None or e.id in keep)]  # fmt: skip
        by = {bank: [e for e in every if e.bank == bank] for bank in {e.bank for e in every}}
        return {b: (np.array([e.id for e in m]), rows([e.hash for e in m])) for b, m in by.items()}

    # ---- media ---------------------------------------------------------------------------

    def put_media(self, key: str, path: Path) -> str:
        data = Path(path).read_bytes()
        with self._lock:
            self._media[key] = data
        return hashlib.sha256(data).hexdigest()

    def media_size(self, key: str) -> int | None:
        with self._lock:
            data = self._media.get(key)
        return None if data is None else len(data)

    def read_media(self, key: str) -> Iterator[bytes]:
        with self._lock:
            data = self._media.get(key, b"")
        for start in range(0, len(data), MEDIA_CHUNK):
            yield data[start : start + MEDIA_CHUNK]

    def delete_media(self, key: str) -> bool:
        with self._lock:
            return self._media.pop(key, None) is not None

    # ---- clients, web sessions, shared secrets -------------------------------------------

    def add_client(self, name, tenant, role, token_sha256, cert_subject):
        record = ClientRecord(uuid.uuid4().hex[:12], name, tenant, role, cert_subject, time.time())
        with self._lock:
            if token_sha256 is not None and any(
                token == token_sha256 for _, token in self._clients.values()
            ):
                raise DuplicateCredential("a client holds this token already")
            if cert_subject and any(
                r.cert_subject == cert_subject for r, _ in self._clients.values()
            ):
                raise DuplicateCredential("a client holds this certificate subject already")
            self._clients[record.id] = (record, token_sha256)
        return record

    def client(self, client_id):
        with self._lock:
            found = self._clients.get(client_id)
        return None if found is None else found[0]

    def client_by_token(self, token_sha256):
        with self._lock:
            found = [r for r, token in self._clients.values() if token == token_sha256]
        return found[0] if found else None

    def client_by_subject(self, cert_subject):
        with self._lock:
            found = [
                r
                for r, _ in self._clients.values()
                if cert_subject and r.cert_subject == cert_subject and r.revoked_at is None
            ]
        return max(found, key=lambda r: r.created_at) if found else None

    def clients(self):
        with self._lock:
            return sorted((r for r, _ in self._clients.values()), key=lambda r: r.created_at)

    def revoke_client(self, client_id):
        with self._lock:
            found = self._clients.get(client_id)
            if found is None:
                return None
            record, token = found
            if record.revoked_at is None:
                record = replace(record, revoked_at=time.time())
                self._clients[client_id] = (record, token)
        return record

    def add_web_session(self, id_sha256: str, client_id: str, expires_at: float) -> None:
        with self._lock:
            now = time.time()
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
            self._sessions[id_sha256] = (client_id, expires_at)

    def web_session(self, id_sha256: str, now: float) -> str | None:
        with self._lock:
            found = self._sessions.get(id_sha256)
        return found[0] if found is not None and found[1] > now else None

    def end_web_session(self, id_sha256: str) -> None:
        with self._lock:
            self._sessions.pop(id_sha256, None)

    def shared_secret(self, name: str) -> bytes:
        with self._lock:
            return self._secrets.setdefault(name, secrets.token_bytes(32))

    # ---- review items and the allowlist ----------------------------------------------------

    def append_audit(self, entry: AuditEntry) -> None:
        self.audit.append(entry)

    def add_review_item(self, fields: dict, entry: AuditEntry) -> None:
        item = ReviewItem(**{**REVIEW_DEFAULTS, **fields})
        with self._lock:
            if item.ticket in self._review:
                raise ValueError(f"review item {item.ticket!r} exists already")
            self.audit.append(entry)
            self._review[item.ticket] = item

    def review_item(self, ticket: str) -> ReviewItem | None:
        with self._lock:
            return self._review.get(ticket)

    def review_items(
        self,
        statuses: tuple[str, ...],
        tenant: str = "",
        category: str = "",
        min_priority: int = 0,
        limit: int = 100,
        created_before: float | None = None,
    ) -> list[ReviewItem]:
        with self._lock:
            found = [
                i
                for i in self._review.values()
                if i.status in statuses
                and (created_before is None or i.created_at <= created_before)
                and (not tenant or i.tenant == tenant)
                and (not category or i.category == category)
                and i.priority >= min_priority
            ]
        return sorted(found, key=lambda i: (-i.priority, i.created_at))[:limit]

    def decided_items_with_media(
        self, statuses: tuple[str, ...], decided_before: float
    ) -> list[ReviewItem]:
        with self._lock:
            return [
                i
                for i in self._review.values()
                if i.status in statuses
                and i.decided_at is not None
                and i.decided_at <= decided_before
                and i.held_path != ""
            ]

    def count_review_items(self, statuses: tuple[str, ...]) -> int:
        with self._lock:
            return sum(i.status in statuses for i in self._review.values())

    def review_item_counts(
        self, statuses: tuple[str, ...], tenant: str = ""
    ) -> list[tuple[str, str, int, float]]:
        groups: dict[tuple[str, str], list[float]] = {}
        with self._lock:
            for i in self._review.values():
                if i.status in statuses and (not tenant or i.tenant == tenant):
                    groups.setdefault((i.category, i.tenant), []).append(i.created_at)
        return [(cat, ten, len(times), min(times)) for (cat, ten), times in groups.items()]

    def claim_review_item(
        self, ticket: str, status: str, client_id: str, until: float, now: float, entry: AuditEntry
    ) -> bool:
        with self._lock:
            item = self._review.get(ticket)
            free = item is not None and (
                item.claimed_by is None
                or item.claimed_by == client_id
                or (item.claim_expires is not None and item.claim_expires < now)
            )
            if item is None or item.status != status or not free:
                return False
            self.audit.append(entry)
            self._review[ticket] = replace(item, claimed_by=client_id, claim_expires=until)
        return True

    def update_review_item(
        self,
        ticket: str,
        status: str,
        values: dict,
        entry: AuditEntry,
        claimed_by: str | None = None,
        clearances: tuple[Clearance, ...] = (),
    ) -> bool:
        with self._lock:
            item = self._review.get(ticket)
            if item is None or item.status != status:
                return False
            if claimed_by is not None and item.claimed_by != claimed_by:
                return False
            updated = replace(item, **values)  # a value of no column raises before any change
            self.audit.append(entry)
            self._review[ticket] = updated
            for c in clearances:
                clearance_id = self._next_id()
                self._clearances[clearance_id] = replace(c, id=clearance_id, created_at=time.time())
        return True

    def clearances(self, tenant: str, content_sha256: str, now: float) -> list[Clearance]:
        if not content_sha256:
            return []
        return self._select(
            lambda c: (
                c.kind == "content"
                and c.content_sha256 == content_sha256
                and c.tenant == tenant
                and (c.expires_at is None or c.expires_at > now)
            )
        )

    def list_clearances(self, tenant: str | None, limit: int) -> list[Clearance]:
        return self._select(lambda c: tenant is None or c.tenant == tenant)[:limit]

    def remove_clearances(
        self, entry: AuditEntry, *, clearance_id: int | None = None, ticket: str | None = None
    ) -> list[Clearance]:
        if (clearance_id is None) == (ticket is None):
            raise ValueError("remove by clearance_id or by ticket")
        with self._lock:
            gone = self._select(
                (lambda c: c.id == clearance_id)
                if ticket is None
                else (lambda c: c.ticket == ticket)
            )
            if gone:
                for c in gone:
                    del self._clearances[c.id]
                body = {**entry.body, "removed": [c.id for c in gone]}
                self.audit.append(replace(entry, body=body))
        return gone

    def _select(self, keep) -> list[Clearance]:
        with self._lock:
            found = [c for c in self._clearances.values() if keep(c)]
        return sorted(found, key=lambda c: c.id, reverse=True)

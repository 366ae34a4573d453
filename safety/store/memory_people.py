"""`ReviewerSettingsStore` and `LikenessOwnerStore` (people_interface.py) in memory, under
the `MemoryStore`'s lock; held to the same conformance tests as the SQL store."""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import replace

from safety.store.records import AuditEntry, LikenessMatch, TakedownNotice


class MemoryPeople:
    _lock: threading.RLock
    audit: object  # MemoryAudit

    def __init__(self) -> None:
        self._settings: dict[str, str] = {}
        self._owners: dict[str, set[str]] = {}
        self._matches: list[tuple[LikenessMatch, bytes | None]] = []
        self._notices: dict[str, TakedownNotice] = {}

    def reviewer_settings(self, client_id: str) -> dict:
        with self._lock:
            return json.loads(self._settings.get(client_id, "{}"))

    def set_reviewer_settings(self, client_id: str, settings: dict) -> None:
        with self._lock:
            self._settings[client_id] = json.dumps(settings)

    def bind_likeness_owner(
        self, client_id: str, identity_ids: list[str], entry: AuditEntry
    ) -> None:
        with self._lock:
            self.audit.append(entry)
            self._owners.setdefault(client_id, set()).update(identity_ids)

    def owned_identities(self, client_id: str) -> list[str]:
        with self._lock:
            return sorted(self._owners.get(client_id, ()))

    def _add_matches(self, rows: list[dict]) -> None:
        """Called by `record_decision` under the lock, beside the decision."""
        for row in rows:
            jpeg = row.pop("evidence_jpeg")
            match = LikenessMatch(
                id=len(self._matches) + 1,
                created_at=time.time(),
                has_evidence=jpeg is not None,
                **row,
            )
            self._matches.append((match, jpeg))

    def likeness_matches(self, identity_ids: list[str], limit: int = 100) -> list[LikenessMatch]:
        with self._lock:
            found = [m for m, _ in self._matches if m.identity_id in identity_ids]
        return sorted(found, key=lambda m: (m.created_at, m.id), reverse=True)[:limit]

    def match_evidence(self, match_id: int) -> tuple[str, bytes] | None:
        with self._lock:
            if not 1 <= match_id <= len(self._matches):
                return None
            match, jpeg = self._matches[match_id - 1]
        return None if jpeg is None else (match.identity_id, jpeg)

    def add_takedown(self, notice: TakedownNotice, entry: AuditEntry) -> None:
        with self._lock:
            if notice.id in self._notices:
                raise ValueError(f"takedown notice {notice.id!r} exists already")
            self.audit.append(entry)
            self._notices[notice.id] = replace(
                notice, fingerprints=copy.deepcopy(notice.fingerprints)
            )

    def takedowns(
        self, *, tenant: str = "", identity_ids: list[str] | None = None, limit: int = 100
    ) -> list[TakedownNotice]:
        with self._lock:
            found = [
                replace(n, fingerprints=copy.deepcopy(n.fingerprints))
                for n in self._notices.values()
                if (not tenant or n.tenant == tenant)
                and (identity_ids is None or n.identity_id in identity_ids)
            ]
        return sorted(found, key=lambda n: n.filed_at, reverse=True)[:limit]

    def acknowledge_takedown(
        self, notice_id: str, client_id: str, now: float, entry: AuditEntry
    ) -> TakedownNotice | None:
        with self._lock:
            notice = self._notices.get(notice_id)
            if notice is None:
                return None
            if notice.acknowledged_at is None:
                self.audit.append(entry)
                notice = replace(
                    notice, status="acknowledged", acknowledged_at=now, acknowledged_by=client_id
                )
                self._notices[notice_id] = notice
            return replace(notice, fingerprints=copy.deepcopy(notice.fingerprints))

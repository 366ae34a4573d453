"""`ReviewerSettingsStore` and `LikenessOwnerStore` (people_interface.py) on SQLite or
PostgreSQL; audited writes hold the audit log's append lock."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import sqlalchemy as sa

from safety.store.audit import AuditLog
from safety.store.records import AuditEntry, LikenessMatch, TakedownNotice
from safety.store.schema import (
    likeness_matches,
    likeness_owners,
    reviewer_settings,
    takedown_notices,
)
from safety.store.sql_media import upsert


def _notice(row) -> TakedownNotice:
    m = dict(row._mapping)
    m["fingerprints"] = json.loads(m["fingerprints"])
    return TakedownNotice(**m)


MATCH_COLUMNS = [c for c in likeness_matches.c if c.name != "evidence_jpeg"]


class PeopleTables:
    audit: AuditLog
    engine: sa.Engine

    def reviewer_settings(self, client_id: str) -> dict:
        with self.engine.connect() as conn:
            text = conn.execute(
                sa.select(reviewer_settings.c.settings).where(
                    reviewer_settings.c.client_id == client_id
                )
            ).scalar()
        return json.loads(text or "{}")

    def set_reviewer_settings(self, client_id: str, settings: dict) -> None:
        row = {"client_id": client_id, "settings": json.dumps(settings), "updated_at": time.time()}
        with self._write() as conn:
            upsert(conn, reviewer_settings, row, ["client_id"])

    def bind_likeness_owner(
        self, client_id: str, identity_ids: list[str], entry: AuditEntry
    ) -> None:
        have = set(self.owned_identities(client_id))
        with self.audit.transaction() as conn:
            for identity_id in sorted(set(identity_ids) - have):
                conn.execute(
                    likeness_owners.insert().values(
                        client_id=client_id, identity_id=identity_id, created_at=time.time()
                    )
                )
            self._append(conn, entry)

    def owned_identities(self, client_id: str) -> list[str]:
        query = (
            sa.select(likeness_owners.c.identity_id)
            .where(likeness_owners.c.client_id == client_id)
            .order_by(likeness_owners.c.identity_id)
        )
        return [r[0] for r in self._rows(query)]

    def _add_matches(self, conn, rows: list[dict]) -> None:
        """Called by `record_decision` inside the decision's transaction."""
        now = time.time()
        for row in rows:
            conn.execute(likeness_matches.insert().values(**row, created_at=now))

    def likeness_matches(self, identity_ids: list[str], limit: int = 100) -> list[LikenessMatch]:
        if not identity_ids:
            return []
        has = likeness_matches.c.evidence_jpeg.is_not(None).label("has_evidence")
        query = (
            sa.select(*MATCH_COLUMNS, has)
            .where(likeness_matches.c.identity_id.in_(identity_ids))
            .order_by(likeness_matches.c.created_at.desc(), likeness_matches.c.id.desc())
            .limit(limit)
        )
        return [
            LikenessMatch(**{**r._mapping, "has_evidence": bool(r.has_evidence)})
            for r in self._rows(query)
        ]

    def match_evidence(self, match_id: int) -> tuple[str, bytes] | None:
        query = sa.select(likeness_matches.c.identity_id, likeness_matches.c.evidence_jpeg).where(
            likeness_matches.c.id == match_id
        )
        rows = self._rows(query)
        if not rows or rows[0][1] is None:
            return None
        return rows[0][0], bytes(rows[0][1])

    def add_takedown(self, notice: TakedownNotice, entry: AuditEntry) -> None:
        row = asdict(notice)
        row["fingerprints"] = json.dumps(row["fingerprints"])
        with self.audit.transaction() as conn:
            conn.execute(takedown_notices.insert().values(**row))
            self._append(conn, entry)

    def takedowns(
        self, *, tenant: str = "", identity_ids: list[str] | None = None, limit: int = 100
    ) -> list[TakedownNotice]:
        query = (
            sa.select(takedown_notices).order_by(takedown_notices.c.filed_at.desc()).limit(limit)
        )
        if tenant:
            query = query.where(takedown_notices.c.tenant == tenant)
        if identity_ids is not None:
            query = query.where(takedown_notices.c.identity_id.in_(identity_ids))
        return [_notice(r) for r in self._rows(query)]

    def acknowledge_takedown(
        self, notice_id: str, client_id: str, now: float, entry: AuditEntry
    ) -> TakedownNotice | None:
        with self.audit.transaction() as conn:
            changed = conn.execute(
                takedown_notices.update()
                .where(
                    takedown_notices.c.id == notice_id,
                    takedown_notices.c.acknowledged_at.is_(None),
                )
                .values(status="acknowledged", acknowledged_at=now, acknowledged_by=client_id)
            ).rowcount
            if changed:
                self._append(conn, entry)
            row = conn.execute(
                sa.select(takedown_notices).where(takedown_notices.c.id == notice_id)
            ).one_or_none()
        return None if row is None else _notice(row)

"""The review queue's and the allowlist's rows, each change committed together with its
audit-log entry. A mixin of `SqlStore` (safety/store/sql.py): it uses the store's engine
and audit log."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import sqlalchemy as sa

from safety.store.audit import AuditLog
from safety.store.records import AuditEntry, Clearance, ReviewItem
from safety.store.schema import allowlist, review_items


def _item(row) -> ReviewItem:
    m = dict(row._mapping)
    m["verdict"] = json.loads(m.pop("verdict_json"))
    m["spec"] = json.loads(m.pop("spec_json"))
    return ReviewItem(**m)


def _clearance(row) -> Clearance:
    return Clearance(**dict(row._mapping))


class ReviewTables:
    """`ReviewStore` and `AllowlistStore` (safety/store/interface.py); their transactions
    hold the audit log's append lock."""

    audit: AuditLog
    engine: sa.Engine

    def append_audit(self, entry: AuditEntry) -> None:
        with self.audit.transaction() as conn:
            self._append(conn, entry)

    def _append(self, conn, entry: AuditEntry) -> None:
        self.audit.append(conn, entry.actor, entry.kind, entry.tenant, entry.subject, entry.body)

    def add_review_item(self, fields: dict, entry: AuditEntry) -> None:
        row = dict(fields)
        row["verdict_json"] = json.dumps(row.pop("verdict"))
        row["spec_json"] = json.dumps(row.pop("spec"))
        with self.audit.transaction() as conn:
            conn.execute(review_items.insert().values(**row))
            self._append(conn, entry)

    def review_item(self, ticket: str) -> ReviewItem | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(review_items).where(review_items.c.ticket == ticket)
            ).one_or_none()
        return None if row is None else _item(row)

    def review_items(
        self,
        statuses: tuple[str, ...],
        tenant: str = "",
        category: str = "",
        min_priority: int = 0,
        limit: int = 100,
        created_before: float | None = None,
    ) -> list[ReviewItem]:
        q = sa.select(review_items).where(review_items.c.status.in_(statuses))
        if created_before is not None:
            q = q.where(review_items.c.created_at <= created_before)
        if tenant:
            q = q.where(review_items.c.tenant == tenant)
        if category:
            q = q.where(review_items.c.category == category)
        if min_priority:
            q = q.where(review_items.c.priority >= min_priority)
        q = q.order_by(review_items.c.priority.desc(), review_items.c.created_at).limit(limit)
        with self.engine.connect() as conn:
            return [_item(r) for r in conn.execute(q)]

    def decided_items_with_media(
        self, statuses: tuple[str, ...], decided_before: float
    ) -> list[ReviewItem]:
        q = sa.select(review_items).where(
            review_items.c.status.in_(statuses),
            review_items.c.decided_at <= decided_before,
            review_items.c.held_path != "",
        )
        with self.engine.connect() as conn:
            return [_item(r) for r in conn.execute(q)]

    def count_review_items(self, statuses: tuple[str, ...]) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(review_items.c.status.in_(statuses))
            ).scalar_one()

    def review_item_counts(
        self, statuses: tuple[str, ...], tenant: str = ""
    ) -> list[tuple[str, str, int, float]]:
        c = review_items.c
        query = (
            sa.select(c.category, c.tenant, sa.func.count(), sa.func.min(c.created_at))
            .where(c.status.in_(statuses))
            .group_by(c.category, c.tenant)
        )
        if tenant:
            query = query.where(c.tenant == tenant)
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(query)]

    def claim_review_item(
        self, ticket: str, status: str, client_id: str, until: float, now: float, entry: AuditEntry
    ) -> bool:
        with self.audit.transaction() as conn:
            taken = conn.execute(
                review_items.update()
                .where(
                    review_items.c.ticket == ticket,
                    review_items.c.status == status,
                    sa.or_(
                        review_items.c.claimed_by.is_(None),
                        review_items.c.claimed_by == client_id,
                        review_items.c.claim_expires < now,
                    ),
                )
                .values(claimed_by=client_id, claim_expires=until)
            ).rowcount
            if taken:
                self._append(conn, entry)
        return bool(taken)

    def update_review_item(
        self,
        ticket: str,
        status: str,
        values: dict,
        entry: AuditEntry,
        claimed_by: str | None = None,
        clearances: tuple[Clearance, ...] = (),
    ) -> bool:
        where = [review_items.c.ticket == ticket, review_items.c.status == status]
        if claimed_by is not None:
            where.append(review_items.c.claimed_by == claimed_by)
        with self.audit.transaction() as conn:
            done = conn.execute(review_items.update().where(*where).values(**values)).rowcount
            if not done:
                return False
            for c in clearances:
                row = {k: v for k, v in asdict(c).items() if k not in ("id", "created_at")}
                conn.execute(allowlist.insert().values(**row, created_at=time.time()))
            self._append(conn, entry)
        return True

    def clearances(self, tenant: str, content_sha256: str, now: float) -> list[Clearance]:
        if not content_sha256:
            return []
        return self._select(
            allowlist.c.kind == "content",
            allowlist.c.content_sha256 == content_sha256,
            allowlist.c.tenant == tenant,
            sa.or_(allowlist.c.expires_at.is_(None), allowlist.c.expires_at > now),
        )

    def list_clearances(self, tenant: str | None, limit: int) -> list[Clearance]:
        where = [allowlist.c.tenant == tenant] if tenant is not None else []
        return self._select(*where, limit=limit)

    def remove_clearances(
        self, entry: AuditEntry, *, clearance_id: int | None = None, ticket: str | None = None
    ) -> list[Clearance]:
        if (clearance_id is None) == (ticket is None):
            raise ValueError("remove by clearance_id or by ticket")
        where = allowlist.c.id == clearance_id if ticket is None else allowlist.c.ticket == ticket
        with self.audit.transaction() as conn:
            gone = [_clearance(r) for r in conn.execute(sa.select(allowlist).where(where)).all()]
            if gone:
                conn.execute(allowlist.delete().where(where))
                body = {**entry.body, "removed": [c.id for c in gone]}
                self._append(
                    conn, AuditEntry(entry.actor, entry.kind, entry.tenant, entry.subject, body)
                )
        return gone

    def _select(self, *where, limit: int = 10_000) -> list[Clearance]:
        query = sa.select(allowlist).where(*where).order_by(allowlist.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_clearance(r) for r in conn.execute(query).all()]

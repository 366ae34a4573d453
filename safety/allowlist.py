"""What human reviewers cleared: approved false positives stop coming back.

Two kinds, both created by approving a review item:
- content: requests whose input has this SHA-256 are allowed for the categories the
  reviewer cleared (the look-alike that is not the enrolled person);
- identity: a tenant may depict an identity (like a consent grant, decided in review).
Check errors are never allowlisted: a check that did not run still blocks.
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from safety.store.review_schema import allowlist
from safety.verdict import Finding

LIKENESS = "public_figure"


class Allowlist:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_content(
        self, conn: Connection, sha256: str, categories: list[str], ticket: str, by: str
    ) -> None:
        for category in categories:
            self._add(conn, "content", ticket, by, content_sha256=sha256, category=category)

    def add_identity(
        self, conn: Connection, tenant: str, identity_id: str, ticket: str, by: str
    ) -> None:
        self._add(conn, "identity", ticket, by, tenant=tenant, identity_id=identity_id)

    @staticmethod
    def _add(conn: Connection, kind: str, ticket: str, by: str, **what: str) -> None:
        conn.execute(
            allowlist.insert().values(
                kind=kind, ticket=ticket, created_by=by, created_at=time.time(), **what
            )
        )

    def annotate(self, findings: list[Finding], tenant: str, content_sha256: str) -> None:
        """Mark findings a review cleared (the policy then allows them, naming the ticket)."""
        if not findings:
            return
        query = sa.select(allowlist).where(
            sa.or_(
                sa.and_(allowlist.c.kind == "content", allowlist.c.content_sha256 == content_sha256)
                if content_sha256
                else sa.false(),
                sa.and_(allowlist.c.kind == "identity", allowlist.c.tenant == tenant),
            )
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        cleared_categories = {r.category: r.ticket for r in rows if r.kind == "content"}
        cleared_identities = {r.identity_id: r.ticket for r in rows if r.kind == "identity"}
        for f in findings:
            if f.category == LIKENESS and f.identity_id in cleared_identities:
                f.allowlisted = cleared_identities[f.identity_id]
            elif f.category in cleared_categories:
                f.allowlisted = cleared_categories[f.category]

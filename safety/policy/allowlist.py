"""What human reviewers cleared: approved false positives stop coming back.

Content clearances, created by approving a review item: a tenant's requests whose input
has this SHA-256 are allowed for the findings the reviewer judged (the look-alike that is
not the enrolled person) — each category on its own subject, up to the score seen, for 90
days. Whether a tenant may depict a person is never a clearance: only a
consent grant says so (review writes one, `ReviewQueue.decide(grant_consent=True)`).
Check errors are never allowlisted: a check that did not run still blocks.
"""

from __future__ import annotations

import time

from safety.auth import Principal
from safety.errors import NotFound
from safety.policy.rules import CHECK_ERROR, always_blocked
from safety.store.records import AuditEntry, Clearance
from safety.store.review_interface import AllowlistStore
from safety.verdict import LIKENESS_CATEGORIES, Finding

DEFAULT_DAYS = 90
# A cleared finding may score this much above what the reviewer saw and stay cleared
# (re-encoding moves scores a little); beyond it, the finding is judged again.
SCORE_MARGIN = 0.02


def content_clearances(
    item_reasons: list[dict],
    sha256: str,
    tenant: str,
    ticket: str,
    by: str,
    days: float = DEFAULT_DAYS,
    now: float | None = None,
) -> list[Clearance]:
    """What an approval with allowlist_content clears: for this tenant and this input,
    each category on the subject it was found on, up to the score the reviewer saw, for
    `days`. A reviewer judged those findings; nothing else is cleared."""
    now = time.time() if now is None else now
    bands: dict[tuple[str, str], float] = {}
    for r in item_reasons:
        category = r.get("category", "")
        # Never cleared: a check that did not run, what is always blocked, and a likeness
        # (who is depicted is authorized by consent grants only).
        if (
            category == CHECK_ERROR
            or always_blocked(category)
            or category in LIKENESS_CATEGORIES
            or not r.get("subject")
        ):
            continue
        key = (r["subject"], r["category"])
        bands[key] = max(bands.get(key, 0.0), float(r.get("score", 1.0)))
    return [
        Clearance(
            "content",
            ticket,
            by,
            content_sha256=sha256,
            category=category,
            tenant=tenant,
            subject=subject,
            max_score=min(1.0, score + SCORE_MARGIN),
            expires_at=now + days * 86400,
        )
        for (subject, category), score in sorted(bands.items())
    ]


class Cleared:
    """One request's clearances, loaded once, applied to each check's findings as they
    come (before anything decides to stop early)."""

    def __init__(self, rows: list[Clearance]) -> None:
        self.rows = rows

    def annotate(self, findings: list[Finding]) -> None:
        """Mark the findings a review cleared (the policy then allows them, naming the
        ticket): same category, same subject, a score within the band — never a likeness,
        whatever a stored row says (consent grants alone authorize those)."""
        for f in findings:
            if f.category in LIKENESS_CATEGORIES:
                continue
            for row in self.rows:
                if (
                    row.category == f.category
                    and row.subject == f.subject
                    and f.score <= row.max_score
                ):
                    f.allowlisted = row.ticket
                    break


class Allowlist:
    def __init__(self, store: AllowlistStore) -> None:
        self.store = store

    def for_request(self, tenant: str, content_sha256: str) -> Cleared:
        """This request's clearances; none when it has no input to key them by."""
        if not content_sha256:
            return Cleared([])
        return Cleared(self.store.clearances(tenant, content_sha256, time.time()))

    def entries(self, who: Principal, tenant: str = "", limit: int = 100) -> list[Clearance]:
        """The clearances an admin may see: a tenant admin's own tenant's only."""
        scope = (tenant or None) if who.is_platform else who.tenant
        return self.store.list_clearances(scope, limit)

    def remove(self, clearance_id: int, who: Principal) -> Clearance:
        """Remove one clearance; another tenant's reads as not found."""
        visible = [c for c in self.entries(who, limit=100_000) if c.id == clearance_id]
        if not visible:
            raise NotFound(f"no allowlist entry {clearance_id}")
        entry = AuditEntry(
            who.client_id, "allowlist.removed", visible[0].tenant, visible[0].ticket, {}
        )
        (removed,) = self.store.remove_clearances(entry, clearance_id=clearance_id)
        return removed

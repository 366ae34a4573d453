"""What human reviewers cleared: approved false positives stop coming back.

Content clearances, created by approving a review item: requests whose input has this
SHA-256 are allowed for the categories the reviewer cleared (the look-alike that is not
the enrolled person). Whether a tenant may depict a person is never a clearance: only a
consent grant says so (review writes one, `ReviewQueue.decide(grant_consent=True)`).
Check errors are never allowlisted: a check that did not run still blocks.
"""

from __future__ import annotations

from safety.store.interface import AllowlistStore
from safety.store.records import Clearance
from safety.verdict import Finding


def content_clearances(
    sha256: str, categories: list[str], ticket: str, by: str, tenant: str = ""
) -> list[Clearance]:
    """Clear this content for these categories (an approval with allowlist_content), for
    one tenant, or for every tenant when `tenant` is empty."""
    return [
        Clearance("content", ticket, by, content_sha256=sha256, category=c, tenant=tenant)
        for c in categories
    ]


class Allowlist:
    def __init__(self, store: AllowlistStore) -> None:
        self.store = store

    def annotate(self, findings: list[Finding], tenant: str, content_sha256: str) -> None:
        """Mark findings a review cleared (the policy then allows them, naming the ticket)."""
        if not findings:
            return
        rows = self.store.clearances(tenant, content_sha256)
        # Only content clearances: who may depict a person is a consent grant's question
        # alone (rows of the retired "identity" kind are ignored).
        cleared_categories = {r.category: r.ticket for r in rows if r.kind == "content"}
        for f in findings:
            if f.category in cleared_categories:
                f.allowlisted = cleared_categories[f.category]

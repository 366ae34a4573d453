"""What human reviewers cleared: approved false positives stop coming back.

Two kinds, both created by approving a review item:
- content: requests whose input has this SHA-256 are allowed for the categories the
  reviewer cleared (the look-alike that is not the enrolled person);
- identity: a tenant may depict an identity (like a consent grant, decided in review).
Check errors are never allowlisted: a check that did not run still blocks.
"""

from __future__ import annotations

from safety.store.interface import AllowlistStore
from safety.store.records import Clearance
from safety.verdict import Finding

LIKENESS = "public_figure"


def content_clearances(
    sha256: str, categories: list[str], ticket: str, by: str, tenant: str = ""
) -> list[Clearance]:
    """Clear this content for these categories (an approval with allowlist_content), for
    one tenant, or for every tenant when `tenant` is empty."""
    return [
        Clearance("content", ticket, by, content_sha256=sha256, category=c, tenant=tenant)
        for c in categories
    ]


def identity_clearance(tenant: str, identity_id: str, ticket: str, by: str) -> Clearance:
    """Let this tenant depict this identity (an approval with allowlist_identity)."""
    return Clearance("identity", ticket, by, tenant=tenant, identity_id=identity_id)


class Allowlist:
    def __init__(self, store: AllowlistStore) -> None:
        self.store = store

    def annotate(self, findings: list[Finding], tenant: str, content_sha256: str) -> None:
        """Mark findings a review cleared (the policy then allows them, naming the ticket)."""
        if not findings:
            return
        rows = self.store.clearances(tenant, content_sha256)
        cleared_categories = {r.category: r.ticket for r in rows if r.kind == "content"}
        cleared_identities = {r.identity_id: r.ticket for r in rows if r.kind == "identity"}
        for f in findings:
            if f.category == LIKENESS and f.identity_id in cleared_identities:
                f.allowlisted = cleared_identities[f.identity_id]
            elif f.category in cleared_categories:
                f.allowlisted = cleared_categories[f.category]

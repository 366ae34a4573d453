"""What the store keeps of human review: held items and their decisions, what reviewers
cleared, and the audit log every such change is chained into (part of `Store`,
interface.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol

from safety.store.audit_chain import Verification
from safety.store.records import AuditEntry, Clearance, ReviewItem


class ReviewStore(Protocol):
    """Held items and their human decisions. Every change is written with its audit entry
    in one transaction: a change without its entry, or an entry without its change, is
    never committed."""

    def add_review_item(self, fields: dict, entry: AuditEntry) -> None:
        """Insert a held item (`fields` are the ReviewItem's, verdict and spec as dicts)."""
        ...

    def review_item(self, ticket: str) -> ReviewItem | None:
        """One item by ticket, or None."""
        ...

    def review_items(
        self,
        statuses: tuple[str, ...],
        tenant: str = "",
        category: str = "",
        min_priority: int = 0,
        limit: int = 100,
        created_before: float | None = None,
    ) -> list[ReviewItem]:
        """Items in these statuses, highest priority first, then oldest."""
        ...

    def decided_items_with_media(
        self, statuses: tuple[str, ...], decided_before: float
    ) -> list[ReviewItem]:
        """Items in these statuses decided before `decided_before` whose held media are
        still on disk (held_path not yet cleared): what retention deletes next."""
        ...

    def count_review_items(self, statuses: tuple[str, ...]) -> int:
        """How many items are in these statuses."""
        ...

    def review_item_counts(
        self, statuses: tuple[str, ...], tenant: str = ""
    ) -> list[tuple[str, str, int, float]]:
        """(category, tenant, how many, oldest created_at) of the items in these
        statuses (of one tenant, or all), one row per category and tenant."""
        ...

    def claim_review_item(
        self, ticket: str, status: str, client_id: str, until: float, now: float, entry: AuditEntry
    ) -> bool:
        """Give `client_id` the claim until `until`, atomically, if the item is still in
        `status` and unclaimed, already this client's, or its claim expired before `now`;
        False (nothing written) otherwise."""
        ...

    def update_review_item(
        self,
        ticket: str,
        status: str,
        values: dict,
        entry: AuditEntry,
        claimed_by: str | None = None,
        clearances: tuple[Clearance, ...] = (),
    ) -> bool:
        """Change an item still in `status` (and still claimed by `claimed_by`, when
        given), add the reviewer's clearances, in one transaction; False (nothing
        written) if the item changed meanwhile."""
        ...

    def append_audit(self, entry: AuditEntry) -> None:
        """Record a change made elsewhere (a hash bank's, say) in the audit log."""
        ...


class AuditTrail(Protocol):
    """The hash-chained audit log (audit_chain.py): what auditors verify and export."""

    def record(self, actor: str, kind: str, tenant: str, subject: str, body: dict) -> int:
        """Append an entry in a transaction of its own; its sequence number."""
        ...

    def entries(self, tenant: str | None = None) -> Iterator[dict]:
        """Every entry (of one tenant, or all), oldest first, with its hashes."""
        ...

    def verify(self) -> Verification:
        """Check the whole chain and its head; names the first broken entry."""
        ...

    def export(self, out: IO[str], tenant: str | None = None) -> int:
        """JSON Lines, one entry a line, oldest first; how many were written."""
        ...


class AllowlistStore(Protocol):
    """What reviewers cleared (written by `update_review_item`)."""

    def clearances(self, tenant: str, content_sha256: str, now: float) -> list[Clearance]:
        """This tenant's clearances of this content that have not expired by `now`."""
        ...

    def list_clearances(self, tenant: str | None, limit: int) -> list[Clearance]:
        """Every clearance (of one tenant, or of all when None), newest first."""
        ...

    def remove_clearances(
        self, entry: AuditEntry, *, clearance_id: int | None = None, ticket: str | None = None
    ) -> list[Clearance]:
        """Delete one clearance, or every one an approval of `ticket` made, with `entry`
        (its body extended by the ids removed) in the same transaction; what was removed."""
        ...

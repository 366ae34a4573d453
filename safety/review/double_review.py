"""Double review: a share of first decisions is held back for a second reviewer, who
does not see the first. Agreement applies the decision as usual (the record names both
reviewers); disagreement sends the item to a senior reviewer with both decisions.

This is how a review team measures itself (agreement rate, on the oversight page) and
catches one reviewer's drift before it reaches users."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from safety.auth import Principal
from safety.errors import Busy, Forbidden
from safety.review.states import ESCALATED, PENDING, SECOND_REVIEW
from safety.store.records import AuditEntry, ReviewItem
from safety.store.review_interface import ReviewStore

DISAGREED = "reviewers_disagreed"


def picked(share: float) -> bool:
    """Whether this first decision goes to a second reviewer (`share` of them, at random:
    a reviewer cannot tell which of their decisions will be checked)."""
    return share > 0 and secrets.randbelow(1_000_000) < share * 1_000_000


def first_review(item: ReviewItem) -> dict | None:
    return json.loads(item.first_review) if item.first_review else None


def refuse_first_reviewer(item: ReviewItem, who: Principal) -> None:
    first = first_review(item)
    if item.status == SECOND_REVIEW and first and first["reviewer"] == who.client_id:
        raise Forbidden(
            f"you made ticket {item.ticket}'s first decision; its second review goes to "
            "someone else"
        )


@dataclass(frozen=True)
class Decision:
    """One reviewer's decision on an item, as double review records it."""

    who: Principal
    decision: str
    reason_code: str
    notes: str
    at: float

    def record(self) -> dict:
        return {
            "reviewer": self.who.client_id,
            "decision": self.decision,
            "reason_code": self.reason_code,
            "notes": self.notes,
            "at": self.at,
        }


def hold_for_second(store: ReviewStore, item: ReviewItem, d: Decision) -> None:
    """Record the first decision out of sight and put the item back for someone else."""
    first = d.record()
    values = {
        "status": SECOND_REVIEW,
        "first_review": json.dumps(first),
        "claimed_by": None,
        "claim_expires": None,
    }
    entry = AuditEntry(d.who.client_id, "review.first", item.tenant, item.ticket, first)
    if not store.update_review_item(
        item.ticket, PENDING, values, entry, claimed_by=d.who.client_id
    ):
        raise Busy(f"ticket {item.ticket} changed while you decided; reload it")


def escalate_disagreement(store: ReviewStore, item: ReviewItem, d: Decision) -> None:
    """Two reviewers differ: a senior decides, seeing both decisions."""
    first = first_review(item) or {}
    second = d.record()
    values = {
        "status": ESCALATED,
        "decision": "escalate",
        "reason_code": DISAGREED,
        "notes": (
            f"first: {first.get('decision')} ({first.get('reason_code')}); "
            f"second: {d.decision} ({d.reason_code}). {d.notes}".strip()
        ),
        "decided_by": d.who.client_id,
        "decided_at": d.at,
        "claimed_by": None,
        "claim_expires": None,
    }
    entry = AuditEntry(
        d.who.client_id,
        "review.disagreed",
        item.tenant,
        item.ticket,
        {"first": first, "second": second, "double_review": "disagreed"},
    )
    if not store.update_review_item(
        item.ticket, SECOND_REVIEW, values, entry, claimed_by=d.who.client_id
    ):
        raise Busy(f"ticket {item.ticket} changed while you decided; reload it")


def divert(store: ReviewStore, item: ReviewItem, d: Decision, share: float) -> bool:
    """Whether double review takes this decision instead of applying it: a picked first
    decision is held for a second reviewer; a second that differs goes to a senior.
    Escalations always go straight through."""
    if d.decision == "escalate":
        return False
    if item.status == PENDING and picked(share):
        hold_for_second(store, item, d)
        return True
    first = first_review(item) if item.status == SECOND_REVIEW else None
    if first and d.decision != first["decision"]:
        escalate_disagreement(store, item, d)
        return True
    return False

"""The golden set: decided items a senior reviewer chose as known answers, mixed back
into the queue as ordinary-looking items. A reviewer's decision on one is scored against
the known answer (audit `review.golden`, counted on the oversight page) and changes
nothing else: no release, no bank entry, no clearance, no consent grant."""

from __future__ import annotations

import secrets
import time
from pathlib import PurePosixPath

from safety.auth import ADMIN, SENIOR_REVIEWER, Principal
from safety.errors import Busy, Forbidden, InvalidInput
from safety.review.double_review import Decision
from safety.review.states import APPROVED, GOLDEN_SCORED, PENDING, REJECTED
from safety.store.records import AuditEntry, ReviewItem
from safety.store.review_interface import ReviewStore
from safety.store.shared_media import SharedMedia


def is_golden(item: ReviewItem) -> bool:
    return bool(item.spec.get("golden"))


def add(store: ReviewStore, media: SharedMedia, source: ReviewItem, who: Principal) -> ReviewItem:
    """Put a copy of a decided item in the queue, its decision the known answer."""
    if who.role not in (SENIOR_REVIEWER, ADMIN):
        raise Forbidden("a senior reviewer chooses the golden set")
    if source.status not in (APPROVED, REJECTED) or not source.held_path:
        raise InvalidInput(
            f"ticket {source.ticket} is {source.status}"
            + ("" if source.held_path else " and its media were deleted")
            + "; a golden item is a decided one whose media are kept"
        )
    ticket = secrets.token_hex(8)

    def copy(key: str) -> str:
        return media.keep(f"golden/{ticket}/{PurePosixPath(key).name}", media.path(key))

    spec = dict(source.spec)
    spec["ingredients"] = [{**i, "path": copy(i["path"])} for i in spec.get("ingredients", [])]
    expected = "approve" if source.status == APPROVED else "reject"
    spec["golden"] = {"expected": expected, "source": source.ticket, "by": who.client_id}
    store.add_review_item(
        {
            "ticket": ticket,
            "request_id": source.request_id,
            "tenant": source.tenant,
            "decision_id": source.decision_id,
            "prompt": source.prompt,
            "category": source.category,
            "priority": source.priority,
            "status": PENDING,
            "verdict": source.verdict,
            "held_path": copy(source.held_path),
            "mime_type": source.mime_type,
            "spec": spec,
            "content_sha256": source.content_sha256,
            "created_at": time.time(),
        },
        AuditEntry(who.client_id, "golden.added", source.tenant, ticket, spec["golden"]),
    )
    return store.review_item(ticket)


def score(store: ReviewStore, item: ReviewItem, d: Decision) -> None:
    """Record a reviewer's answer to a golden item against the known one."""
    expected = item.spec["golden"]["expected"]
    values = {
        "status": GOLDEN_SCORED,
        "decision": d.decision,
        "reason_code": d.reason_code,
        "notes": d.notes,
        "decided_by": d.who.client_id,
        "decided_at": d.at,
        "claimed_by": None,
        "claim_expires": None,
    }
    body = {**d.record(), "expected": expected, "correct": d.decision == expected}
    entry = AuditEntry(d.who.client_id, "review.golden", item.tenant, item.ticket, body)
    if not store.update_review_item(
        item.ticket, item.status, values, entry, claimed_by=d.who.client_id
    ):
        raise Busy(f"ticket {item.ticket} changed while you decided; reload it")

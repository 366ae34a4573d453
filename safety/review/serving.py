"""A reviewer's day: the queues at a glance, "start reviewing" (the next item, claimed),
and the oversight figures senior reviewers watch (per-reviewer counts, agreement in
double review, median handling time), read from the audit log."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass

from safety.auth import ADMIN, SENIOR_REVIEWER, Principal
from safety.errors import Busy, Forbidden, InvalidInput
from safety.review.queue import ReviewQueue
from safety.review.states import APPEALED, ESCALATED, OPEN
from safety.store.review_interface import AuditTrail


@dataclass(frozen=True)
class QueueCount:
    name: str  # a category or a tenant
    count: int
    oldest_s: float  # age of the oldest open item


def summary(queue: ReviewQueue, who: Principal) -> dict[str, list[QueueCount]]:
    """Open items per category and per tenant (this reviewer's tenants), oldest age:
    counted by the store, not read item by item."""
    rows = queue.store.review_item_counts(OPEN, "" if who.is_platform else who.tenant)
    now = time.time()
    out: dict[str, list[QueueCount]] = {}
    for key, column in (("category", 0), ("tenant", 1)):
        groups: dict[str, tuple[int, float]] = {}
        for row in rows:
            count, oldest = groups.get(row[column], (0, now))
            groups[row[column]] = (count + row[2], min(oldest, row[3]))
        out[key] = [QueueCount(name, n, now - t) for name, (n, t) in sorted(groups.items())]
    return out


def next_item(queue: ReviewQueue, who: Principal, category: str = "", tenant: str = ""):
    """Claim and return the first open item this reviewer may decide (highest priority,
    then oldest), skipping those another reviewer holds; None when the queue is empty."""
    statuses = tuple(
        s for s in OPEN if who.role in (SENIOR_REVIEWER, ADMIN) or s not in (ESCALATED, APPEALED)
    )
    scope = tenant if who.is_platform else who.tenant
    for item in queue.list(statuses, scope, category, limit=200):
        if item.claimed_by not in (None, who.client_id) and (item.claim_expires or 0) > time.time():
            continue
        try:
            return queue.claim(item.ticket, who)
        except (Busy, Forbidden, InvalidInput):
            continue  # taken meanwhile, or one this reviewer may not decide (their own first)
    return None


def may_decide(queue: ReviewQueue, item, who: Principal) -> bool:
    """Whether the reviewer's controls are shown at all: the queue's own rule, asked."""
    try:
        queue.check_may_work_on(item, who)
    except (Forbidden, InvalidInput):
        return False
    return True


@dataclass(frozen=True)
class ReviewerFigures:
    reviewer: str
    decisions: int
    double_reviewed: int  # second reviews this reviewer's decisions met (or made)
    agreed: int
    median_handling_s: float | None  # claim to decision
    golden_answered: int = 0  # golden items (golden.py) this reviewer decided
    golden_correct: int = 0


def oversight(audit: AuditTrail, tenant: str | None = None) -> list[ReviewerFigures]:
    """Per reviewer: decisions, agreement in double review, median claim-to-decision."""
    claimed_at: dict[tuple[str, str], float] = {}
    handling: dict[str, list[float]] = defaultdict(list)
    decisions: dict[str, int] = defaultdict(int)
    double: dict[str, int] = defaultdict(int)
    agreed: dict[str, int] = defaultdict(int)
    golden: dict[str, list[bool]] = defaultdict(list)
    for e in audit.entries(tenant):
        actor, kind, at = e["actor"], e["kind"], e["at_us"] / 1e6
        if kind == "claimed":
            claimed_at.setdefault((actor, e["subject"]), at)
            continue
        if not kind.startswith("review."):
            continue
        decisions[actor] += 1
        start = claimed_at.pop((actor, e["subject"]), None)
        if start is not None:
            handling[actor].append(at - start)
        body = json.loads(e["body"]) if isinstance(e["body"], str) else e["body"]
        if kind == "review.golden":
            golden[actor].append(bool(body.get("correct")))
        outcome = body.get("double_review")
        if outcome:
            first = (body.get("first_review") or body.get("first") or {}).get("reviewer", "")
            for reviewer in {actor, first} - {""}:
                double[reviewer] += 1
                agreed[reviewer] += outcome == "agreed"
    return [
        ReviewerFigures(
            r,
            decisions[r],
            double[r],
            agreed[r],
            statistics.median(handling[r]) if handling[r] else None,
            len(golden[r]),
            sum(golden[r]),
        )
        for r in sorted(decisions)
    ]

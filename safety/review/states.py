"""The review queue's states and order: what an item can be, what a decision can say,
and which item comes first."""

from __future__ import annotations

import re
from dataclasses import dataclass

from safety.verdict import Verdict

PENDING, ESCALATED, APPEALED = "pending", "escalated", "appealed"
# Picked for double review: decided once, waiting for a second reviewer who does not see
# the first decision; agreement applies it, disagreement escalates to a senior.
SECOND_REVIEW = "second_review"
APPROVED, REJECTED = "approved", "rejected"
# An approval is recorded first (releasing), then signed, then marked approved: a crash
# in between resumes at start-up instead of signing twice or losing the release.
RELEASING = "releasing"
# A golden item (golden.py) once a reviewer answered it: scored, nothing else changed.
GOLDEN_SCORED = "golden_scored"
OPEN = (PENDING, SECOND_REVIEW, ESCALATED, APPEALED)
STATUSES = (*OPEN, RELEASING, APPROVED, REJECTED, GOLDEN_SCORED)
DECISIONS = ("approve", "reject", "escalate")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
# Queue order: the category's weight, then the score; older first among equals.
CATEGORY_WEIGHT = {"sexual_minors": 9, "sexual": 5, "public_figure": 4, "violence": 4}


@dataclass(frozen=True)
class Released:
    signed_path: str
    signed_sha256: str
    decision_id: str


def priority_of(verdict: Verdict) -> tuple[str, int]:
    """(leading category, priority) of a held verdict."""
    reasons = sorted(verdict.reasons, key=lambda f: f.score, reverse=True)
    if not reasons:
        return "unknown", 0
    top = reasons[0]
    return top.category, CATEGORY_WEIGHT.get(top.category, 1) * 100 + round(top.score * 100)

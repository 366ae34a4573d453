"""The review queue: held outputs wait for a human; decisions are leased, audited, final.

A held item is claimed with a lease (two reviewers never work the same item; an
abandoned claim expires), then approved (signed and released to the client, the
C2PA manifest recording the human review), rejected (its content goes to a hash bank
so it is blocked next time) or escalated to a senior reviewer. An appeal reopens a
decided item for a senior reviewer other than the one who decided it. Every step is
an audit-log entry written in the same transaction as the change.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from safety.allowlist import Allowlist
from safety.auth import ADMIN, REVIEWER, SENIOR_REVIEWER, Principal
from safety.errors import Busy, Forbidden, InvalidInput, NotFound
from safety.store.audit import AuditLog
from safety.store.review_schema import review_items
from safety.verdict import Verdict

PENDING, ESCALATED, APPEALED = "pending", "escalated", "appealed"
APPROVED, REJECTED = "approved", "rejected"
OPEN = (PENDING, ESCALATED, APPEALED)
DECISIONS = ("approve", "reject", "escalate")
REASON_CODE = re.compile(r"^[a-z][a-z0-9_]{1,49}$")
# Queue order: the category's weight, then the score; older first among equals.
CATEGORY_WEIGHT = {"sexual_minors": 9, "sexual": 5, "public_figure": 4, "violence": 4}


@dataclass(frozen=True)
class ReviewItem:
    ticket: str
    request_id: str
    tenant: str
    decision_id: str
    prompt: str
    category: str
    priority: int
    status: str
    claimed_by: str | None
    claim_expires: float | None
    verdict: dict
    held_path: str
    mime_type: str
    spec: dict
    content_sha256: str
    decision: str | None
    reason_code: str | None
    notes: str | None
    decided_by: str | None
    decided_at: float | None
    previous_decider: str | None
    appeal_reason: str | None
    signed_path: str | None
    signed_sha256: str | None
    created_at: float

    @classmethod
    def from_row(cls, row) -> ReviewItem:
        m = dict(row._mapping)
        m["verdict"] = json.loads(m.pop("verdict_json"))
        m["spec"] = json.loads(m.pop("spec_json"))
        return cls(**m)

    def claimed_by_other(self, client_id: str, now: float) -> bool:
        return bool(self.claimed_by) and self.claimed_by != client_id and self.claim_expires > now


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


class ReviewQueue:
    def __init__(
        self,
        audit: AuditLog,
        allowlist: Allowlist,
        held_dir: Path,
        release: Callable[[ReviewItem, dict], Released],
        bank_rejected: Callable[[ReviewItem], int],
        lease_s: float = 600.0,
    ) -> None:
        self.audit = audit
        self.engine = audit.engine
        self.allowlist = allowlist
        self.held_dir = held_dir
        self.release = release
        self.bank_rejected = bank_rejected
        self.lease_s = lease_s
        held_dir.mkdir(parents=True, exist_ok=True)

    # ---- the generation side ------------------------------------------------------

    def hold(
        self,
        *,
        request_id: str,
        tenant: str,
        prompt: str,
        verdict: Verdict,
        output: Path,
        mime_type: str,
        spec: dict,
        content_sha256: str,
    ) -> str:
        """Keep an output for review (moved out of the scratch dir); returns its ticket."""
        ticket = secrets.token_hex(8)
        held = self.held_dir / f"{ticket}{output.suffix}"
        shutil.move(output, held)
        category, priority = priority_of(verdict)
        with self.audit.transaction() as conn:
            conn.execute(
                review_items.insert().values(
                    ticket=ticket,
                    request_id=request_id,
                    tenant=tenant,
                    decision_id=verdict.decision_id,
                    prompt=prompt,
                    category=category,
                    priority=priority,
                    status=PENDING,
                    verdict_json=json.dumps(verdict.to_dict()),
                    held_path=str(held),
                    mime_type=mime_type,
                    spec_json=json.dumps(spec),
                    content_sha256=content_sha256,
                    created_at=time.time(),
                )
            )
            self.audit.append(
                conn,
                "reelguard",
                "held",
                tenant,
                ticket,
                {"decision_id": verdict.decision_id, "category": category, "priority": priority},
            )
        return ticket

    # ---- reading --------------------------------------------------------------------

    def get(self, ticket: str) -> ReviewItem:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(review_items).where(review_items.c.ticket == ticket)
            ).one_or_none()
        if row is None:
            raise NotFound(f"no review ticket {ticket!r}")
        return ReviewItem.from_row(row)

    def get_for(self, ticket: str, who: Principal) -> ReviewItem:
        """The item if `who`'s tenant may see it; another tenant's reads like a missing one."""
        item = self.get(ticket)
        if not who.sees(item.tenant):
            raise NotFound(f"no review ticket {ticket!r}")
        return item

    def list(
        self,
        statuses: tuple[str, ...] = OPEN,
        tenant: str = "",
        category: str = "",
        min_priority: int = 0,
        limit: int = 100,
        older_than_s: float = 0.0,
    ) -> list[ReviewItem]:
        """Highest priority first, then oldest."""
        q = sa.select(review_items).where(review_items.c.status.in_(statuses))
        if older_than_s:
            q = q.where(review_items.c.created_at <= time.time() - older_than_s)
        if tenant:
            q = q.where(review_items.c.tenant == tenant)
        if category:
            q = q.where(review_items.c.category == category)
        if min_priority:
            q = q.where(review_items.c.priority >= min_priority)
        q = q.order_by(review_items.c.priority.desc(), review_items.c.created_at).limit(limit)
        with self.engine.connect() as conn:
            return [ReviewItem.from_row(r) for r in conn.execute(q)]

    def open_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).where(review_items.c.status.in_(OPEN))
            ).scalar_one()

    # ---- reviewing ------------------------------------------------------------------

    def claim(self, ticket: str, who: Principal) -> ReviewItem:
        """Take the item for `lease_s`; refused while another reviewer's lease runs."""
        item = self.get(ticket)
        self._may_work_on(item, who)
        now = time.time()
        with self.audit.transaction() as conn:
            taken = conn.execute(
                review_items.update()
                .where(
                    review_items.c.ticket == ticket,
                    review_items.c.status == item.status,
                    sa.or_(
                        review_items.c.claimed_by.is_(None),
                        review_items.c.claimed_by == who.client_id,
                        review_items.c.claim_expires < now,
                    ),
                )
                .values(claimed_by=who.client_id, claim_expires=now + self.lease_s)
            ).rowcount
            if not taken:
                raise Busy(f"ticket {ticket} is being reviewed by someone else; pick another")
            self.audit.append(conn, who.client_id, "claimed", item.tenant, ticket, {})
        return self.get(ticket)

    def decide(
        self,
        ticket: str,
        who: Principal,
        decision: str,
        reason_code: str,
        notes: str = "",
        allowlist_content: bool = False,
        allowlist_identity: bool = False,
    ) -> ReviewItem:
        """Approve, reject or escalate an item this reviewer holds the claim on."""
        if decision not in DECISIONS:
            raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if not REASON_CODE.match(reason_code or ""):
            raise InvalidInput(
                "reason_code must be a short snake_case code, e.g. false_positive or "
                "likeness_no_consent"
            )
        item = self.get(ticket)
        self._may_work_on(item, who)
        now = time.time()
        if item.claimed_by != who.client_id or (item.claim_expires or 0) < now:
            raise Busy(f"claim ticket {ticket} first (or again: claims expire after a while)")
        review = {
            "ticket": ticket,
            "reviewer": who.client_id,
            "reviewer_role": who.role,
            "decision": decision,
            "reason_code": reason_code,
            "at": now,
            **({"appeal_of": item.previous_decider} if item.status == APPEALED else {}),
        }
        values: dict = {
            "decision": decision,
            "reason_code": reason_code,
            "notes": notes,
            "decided_by": who.client_id,
            "decided_at": now,
            "claimed_by": None,
            "claim_expires": None,
        }
        if decision == "escalate":
            values["status"] = ESCALATED
        elif decision == "approve":
            released = self.release(item, review)
            values.update(
                status=APPROVED,
                signed_path=released.signed_path,
                signed_sha256=released.signed_sha256,
            )
            review["release_decision_id"] = released.decision_id
        else:
            values["status"] = REJECTED
            review["banked_hashes"] = self.bank_rejected(item)
        with self.audit.transaction() as conn:
            done = conn.execute(
                review_items.update()
                .where(
                    review_items.c.ticket == ticket,
                    review_items.c.claimed_by == who.client_id,
                    review_items.c.status == item.status,
                )
                .values(**values)
            ).rowcount
            if not done:
                raise Busy(f"ticket {ticket} changed while you decided; reload it")
            if decision == "approve" and allowlist_content and item.content_sha256:
                categories = sorted({r["category"] for r in item.verdict.get("reasons", [])})
                self.allowlist.add_content(
                    conn, item.content_sha256, categories, ticket, who.client_id
                )
                review["allowlisted_content"] = categories
            if decision == "approve" and allowlist_identity:
                for identity in _identities(item):
                    self.allowlist.add_identity(conn, item.tenant, identity, ticket, who.client_id)
                    review.setdefault("allowlisted_identities", []).append(identity)
            self.audit.append(
                conn,
                who.client_id,
                f"review.{decision}",
                item.tenant,
                ticket,
                {**review, "notes": notes},
            )
        return self.get(ticket)

    def claim_and_decide(
        self,
        ticket: str,
        who: Principal,
        decision: str,
        reason_code: str,
        notes: str = "",
        allowlist_content: bool = False,
        allowlist_identity: bool = False,
    ) -> ReviewItem:
        """Take (or renew) the claim, then decide: one step for the UI's form, bulk actions
        and the Decide RPC. Refused while another reviewer holds the item."""
        self.get_for(ticket, who)
        self.claim(ticket, who)
        return self.decide(
            ticket, who, decision, reason_code, notes, allowlist_content, allowlist_identity
        )

    def appeal(self, ticket: str, who: Principal, reason: str) -> ReviewItem:
        """Reopen a decided item for a senior reviewer other than the one who decided."""
        item = self.get(ticket)
        if item.status not in (APPROVED, REJECTED):
            raise InvalidInput(f"ticket {ticket} is {item.status}; only decisions can be appealed")
        if not reason.strip():
            raise InvalidInput("say why the decision should be reviewed again")
        with self.audit.transaction() as conn:
            conn.execute(
                review_items.update()
                .where(review_items.c.ticket == ticket, review_items.c.status == item.status)
                .values(
                    status=APPEALED,
                    previous_decider=item.decided_by,
                    appeal_reason=reason.strip(),
                    claimed_by=None,
                    claim_expires=None,
                )
            )
            self.audit.append(
                conn,
                who.client_id,
                "appealed",
                item.tenant,
                ticket,
                {"reason": reason.strip(), "was": item.status, "decided_by": item.decided_by},
            )
        return self.get(ticket)

    def _may_work_on(self, item: ReviewItem, who: Principal) -> None:
        if item.status in (APPROVED, REJECTED):
            raise InvalidInput(f"ticket {item.ticket} is already {item.status}; appeal it instead")
        if item.status in (ESCALATED, APPEALED) and who.role not in (SENIOR_REVIEWER, ADMIN):
            raise Forbidden(f"ticket {item.ticket} is {item.status}: a senior reviewer decides it")
        if item.status == APPEALED and who.client_id == item.previous_decider:
            raise Forbidden(f"you decided ticket {item.ticket}; its appeal goes to someone else")
        if who.role not in (REVIEWER, SENIOR_REVIEWER, ADMIN):
            raise Forbidden(f"role {who.role!r} does not review")


def _identities(item: ReviewItem) -> list[str]:
    return sorted(
        {r["identity_id"] for r in item.verdict.get("reasons", []) if r.get("identity_id")}
    )

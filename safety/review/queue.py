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
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from safety import failpoints
from safety.auth import ADMIN, REVIEWER, SENIOR_REVIEWER, Principal
from safety.errors import Busy, FailedPrecondition, Forbidden, InvalidInput, NotFound
from safety.likeness.consent import ConsentRegistry
from safety.policy.allowlist import DEFAULT_DAYS
from safety.review import double_review, golden
from safety.review.effects import DecisionEffects, may_clear
from safety.review.states import (
    APPEALED,
    APPROVED,
    DECISIONS,
    ESCALATED,
    OPEN,
    PENDING,
    REASON_CODE,
    REJECTED,
    RELEASING,
    SECOND_REVIEW,
    STATUSES,
    Released,
    priority_of,
)
from safety.store.records import AuditEntry, ReviewItem
from safety.store.review_interface import ReviewStore
from safety.store.shared_media import SharedMedia
from safety.verdict import Verdict

log = logging.getLogger(__name__)


class ReviewQueue:
    def __init__(
        self,
        store: ReviewStore,
        media: SharedMedia,
        release: Callable[[ReviewItem, dict], Released],
        bank_rejected: Callable[[ReviewItem], int],
        lease_s: float = 600.0,
        consent: ConsentRegistry | None = None,
        unbank: Callable[[str], int] | None = None,
        allowlist_days: float = DEFAULT_DAYS,
        policy_version: Callable[[str], str] | None = None,
        double_review_share: float = 0.0,
    ) -> None:
        self.store = store
        self.double_review_share = double_review_share  # of first decisions (double_review.py)
        # What a decision changes beyond its item (clearances, consent grants, bank
        # entries), and what a release re-checks.
        self.effects = DecisionEffects(store, consent, unbank, allowlist_days, policy_version)
        self.media = media  # held outputs and ingredients, reachable from any front door
        self.release = release
        self.bank_rejected = bank_rejected
        self.lease_s = lease_s

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
        held = self.media.keep(f"held/{ticket}{output.suffix}", output, move=True)
        category, priority = priority_of(verdict)
        self.store.add_review_item(
            {
                "ticket": ticket,
                "request_id": request_id,
                "tenant": tenant,
                "decision_id": verdict.decision_id,
                "prompt": prompt,
                "category": category,
                "priority": priority,
                "status": PENDING,
                "verdict": verdict.to_dict(),
                "held_path": held,
                "mime_type": mime_type,
                "spec": spec,
                "content_sha256": content_sha256,
                "created_at": time.time(),
            },
            AuditEntry(
                "reelguard",
                "held",
                tenant,
                ticket,
                {"decision_id": verdict.decision_id, "category": category, "priority": priority},
            ),
        )
        return ticket

    # ---- reading --------------------------------------------------------------------

    def get(self, ticket: str) -> ReviewItem:
        item = self.store.review_item(ticket)
        if item is None:
            raise NotFound(f"no review ticket {ticket!r}")
        return item

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
        """Highest priority first, then oldest. An unknown status is refused rather than
        matched by nothing (a typo listed an empty queue)."""
        unknown = sorted(set(statuses) - set(STATUSES))
        if unknown:
            raise InvalidInput(
                f"unknown review status {', '.join(map(repr, unknown))}; one of "
                f"{', '.join(STATUSES)}"
            )
        created_before = time.time() - older_than_s if older_than_s else None
        return self.store.review_items(
            statuses, tenant, category, min_priority, limit, created_before
        )

    def open_count(self) -> int:
        return self.store.count_review_items(OPEN)

    # ---- reviewing ------------------------------------------------------------------

    def claim(self, ticket: str, who: Principal) -> ReviewItem:
        """Take the item for `lease_s`; refused while another reviewer's lease runs."""
        item = self.get(ticket)
        self.check_may_work_on(item, who)
        now = time.time()
        entry = AuditEntry(who.client_id, "claimed", item.tenant, ticket, {})
        if not self.store.claim_review_item(
            ticket, item.status, who.client_id, now + self.lease_s, now, entry
        ):
            raise Busy(f"ticket {ticket} is being reviewed by someone else; pick another")
        return self.get(ticket)

    def decide(
        self,
        ticket: str,
        who: Principal,
        decision: str,
        reason_code: str,
        notes: str = "",
        allowlist_content: bool = False,
        grant_consent: bool = False,
        consent_days: int = 0,
    ) -> ReviewItem:
        """Approve, reject or escalate an item this reviewer holds the claim on."""
        if decision not in DECISIONS:
            raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if not REASON_CODE.match(reason_code or ""):
            raise InvalidInput(
                "reason_code must be a short snake_case code, e.g. false_positive or "
                "likeness_no_consent"
            )
        may_clear(who, decision, grant_consent)
        item = self.get(ticket)
        self.check_may_work_on(item, who)
        now = time.time()
        if item.claimed_by != who.client_id or (item.claim_expires or 0) < now:
            raise Busy(f"claim ticket {ticket} first (or again: claims expire after a while)")
        first = double_review.first_review(item) if item.status == SECOND_REVIEW else None
        mine = double_review.Decision(who, decision, reason_code, notes, now)
        if golden.is_golden(item):  # scored against the known answer, nothing else
            golden.score(self.store, item, mine)
            return self.get(ticket)
        if double_review.divert(self.store, item, mine, self.double_review_share):
            return self.get(ticket)
        review = {
            "ticket": ticket,
            "reviewer": who.client_id,
            "reviewer_role": who.role,
            "decision": decision,
            "reason_code": reason_code,
            "at": now,
            **({"appeal_of": item.previous_decider} if item.status == APPEALED else {}),
            **({"first_review": first, "double_review": "agreed"} if first else {}),
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
            # A release re-checks what may have changed while the item waited.
            changed = self.effects.changed_since_held(item)
            if changed:
                raise FailedPrecondition(
                    f"ticket {ticket} cannot be released: {'; '.join(changed)}. Reject it "
                    "(the client may ask again once consent is in place)"
                )
            review["release_decision_id"] = uuid.uuid4().hex
            review["at_release"] = self.effects.state_at_release(item)
            values.update(status=RELEASING, release_json=json.dumps(review))
        else:
            values["status"] = REJECTED
            review["banked_hashes"] = self.bank_rejected(item)
        approving = decision == "approve"
        clearances = self.effects.clearances(item, who) if approving and allowlist_content else []
        if clearances:
            review["allowlisted_content"] = [f"{c.subject}/{c.category}" for c in clearances]
        grants = (
            self.effects.grant_consent(item, who, consent_days)
            if approving and grant_consent
            else []
        )
        if grants:
            review["consent_grants"] = [g.id for g in grants]
        entry = AuditEntry(
            who.client_id, f"review.{decision}", item.tenant, ticket, {**review, "notes": notes}
        )
        if not self.store.update_review_item(
            ticket,
            item.status,
            values,
            entry,
            claimed_by=who.client_id,
            clearances=tuple(clearances),
        ):
            self.effects.revoke(grants)  # the decision was not recorded: neither is its consent
            raise Busy(f"ticket {ticket} changed while you decided; reload it")
        if item.status == APPEALED and item.decision and item.decision != decision:
            self.effects.undo(item, who)
        if decision == "approve":
            return self.finish_release(ticket)
        return self.get(ticket)

    def finish_release(self, ticket: str) -> ReviewItem:
        """Sign an approved item and mark it approved; idempotent (the release decision id
        was fixed when the approval was recorded), so it can run again after a crash."""
        item = self.get(ticket)
        if item.status != RELEASING:
            return item
        review = json.loads(item.release_json)
        released = self.release(item, review)
        failpoints.reach("review.released_not_recorded")
        self.store.update_review_item(
            ticket,
            RELEASING,
            {
                "status": APPROVED,
                "signed_path": released.signed_path,
                "signed_sha256": released.signed_sha256,
                "release_json": None,
            },
            AuditEntry(
                "reelguard", "released", item.tenant, ticket, {"decision_id": released.decision_id}
            ),
        )
        return self.get(ticket)

    def purge_decided(self, older_than_s: float, now: float | None = None) -> int:
        """Delete the media of items decided more than `older_than_s` ago: the unsigned
        held output and the inputs kept for signing (an approval's signed output stays:
        it is the client's result). Each deletion is an audit entry; returns how many."""
        cutoff = (now or time.time()) - older_than_s
        purged = 0
        for item in self.store.decided_items_with_media((APPROVED, REJECTED), cutoff):
            keys = [item.held_path] + [i["path"] for i in item.spec["ingredients"]]
            for key in keys:
                self.media.forget(key)
            entry = AuditEntry(
                "reelguard",
                "purged",
                item.tenant,
                item.ticket,
                {"files": len(keys), "decided_at": item.decided_at, "retention_s": older_than_s},
            )
            purged += self.store.update_review_item(
                item.ticket, item.status, {"held_path": ""}, entry
            )
        return purged

    def resume_releases(self) -> int:
        """Finish every release a crash interrupted (called at start-up); returns how many."""
        done = 0
        for item in self.store.review_items((RELEASING,), limit=10_000):
            try:
                self.finish_release(item.ticket)
                done += 1
            except Exception:  # one that cannot finish now stays releasing, for next time
                log.exception("could not finish releasing ticket %s", item.ticket)
        return done

    def claim_and_decide(
        self,
        ticket: str,
        who: Principal,
        decision: str,
        reason_code: str,
        notes: str = "",
        allowlist_content: bool = False,
        grant_consent: bool = False,
        consent_days: int = 0,
    ) -> ReviewItem:
        """Take (or renew) the claim, then decide: one step for the UI's form, bulk actions
        and the Decide RPC. Refused while another reviewer holds the item."""
        self.get_for(ticket, who)
        may_clear(who, decision, grant_consent)  # before the claim: refused, nothing held
        self.claim(ticket, who)
        return self.decide(
            ticket,
            who,
            decision,
            reason_code,
            notes,
            allowlist_content,
            grant_consent,
            consent_days,
        )

    def add_golden(self, ticket: str, who: Principal) -> ReviewItem:
        """Mix a copy of a decided item into the queue as a known answer (golden.py)."""
        return golden.add(self.store, self.media, self.get_for(ticket, who), who)

    def appeal(self, ticket: str, who: Principal, reason: str) -> ReviewItem:
        """Reopen a decided item for a senior reviewer other than the one who decided."""
        item = self.get(ticket)
        if item.status not in (APPROVED, REJECTED):
            raise InvalidInput(f"ticket {ticket} is {item.status}; only decisions can be appealed")
        if not reason.strip():
            raise InvalidInput("say why the decision should be reviewed again")
        self.store.update_review_item(
            ticket,
            item.status,
            {
                "status": APPEALED,
                "previous_decider": item.decided_by,
                "appeal_reason": reason.strip(),
                "claimed_by": None,
                "claim_expires": None,
            },
            AuditEntry(
                who.client_id,
                "appealed",
                item.tenant,
                ticket,
                {"reason": reason.strip(), "was": item.status, "decided_by": item.decided_by},
            ),
        )
        return self.get(ticket)

    def check_may_work_on(self, item: ReviewItem, who: Principal) -> None:
        """Raise (InvalidInput, Forbidden) unless `who` may claim and decide `item` now."""
        if item.status == RELEASING:
            raise InvalidInput(f"ticket {item.ticket} is approved and being released")
        if item.status in (APPROVED, REJECTED):
            raise InvalidInput(f"ticket {item.ticket} is already {item.status}; appeal it instead")
        if item.status not in OPEN:  # a scored golden item, say: answered once
            raise InvalidInput(f"ticket {item.ticket} is {item.status}: nothing is left to decide")
        if item.status in (ESCALATED, APPEALED) and who.role not in (SENIOR_REVIEWER, ADMIN):
            raise Forbidden(f"ticket {item.ticket} is {item.status}: a senior reviewer decides it")
        if item.status == APPEALED and who.client_id == item.previous_decider:
            raise Forbidden(f"you decided ticket {item.ticket}; its appeal goes to someone else")
        if who.role not in (REVIEWER, SENIOR_REVIEWER, ADMIN):
            raise Forbidden(f"role {who.role!r} does not review")
        double_review.refuse_first_reviewer(item, who)

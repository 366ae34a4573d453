"""What a review decision changes beyond its item, and who may make those changes.

An approval may clear its content (`safety.policy.allowlist`) and grant the tenant consent to
depict the matched person (`safety.likeness.consent`); a rejection banks its content. An appeal
that reverses a decision removes what that decision created.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from safety.auth import ADMIN, SENIOR_REVIEWER, Principal
from safety.errors import Forbidden, InvalidInput
from safety.likeness.consent import ConsentRegistry
from safety.policy.allowlist import content_clearances
from safety.store.records import AuditEntry, Clearance, Grant, ReviewItem
from safety.store.review_interface import ReviewStore
from safety.verdict import LIKENESS_CATEGORIES

DEFAULT_CONSENT_DAYS, MAX_CONSENT_DAYS = 30, 366  # a consent grant written in review


class DecisionEffects:
    def __init__(
        self,
        store: ReviewStore,
        consent: ConsentRegistry | None,
        unbank: Callable[[str], int] | None,
        allowlist_days: float,
        policy_version: Callable[[str], str] | None = None,
    ) -> None:
        self.store = store
        self.policy_version = policy_version  # a tenant's policy version now
        self.consent = consent  # where an approval's consent grant is written
        self.unbank = unbank  # removes the bank entries a rejection of a ticket made
        self.allowlist_days = allowlist_days

    def clearances(self, item: ReviewItem, who: Principal) -> list[Clearance]:
        """An approval's content clearances: for the item's tenant only, whoever reviews."""
        if not item.content_sha256:
            return []
        return content_clearances(
            item.verdict.get("reasons", []),
            item.content_sha256,
            item.tenant,
            item.ticket,
            who.client_id,
            days=self.allowlist_days,
        )

    def grant_consent(self, item: ReviewItem, who: Principal, days: int) -> list[Grant]:
        """A consent grant per identity the item matched: the reviewer as grantor, this
        ticket as basis, for the scope the request needed, expiring after `days`."""
        if self.consent is None:
            raise InvalidInput("this deployment records no consent grants from review")
        identities = _identities(item)
        if not identities:
            raise InvalidInput(f"ticket {item.ticket} matched no enrolled identity to consent to")
        days = days or DEFAULT_CONSENT_DAYS
        if not 1 <= days <= MAX_CONSENT_DAYS:
            raise InvalidInput(f"consent_days must be within 1..{MAX_CONSENT_DAYS}, not {days}")
        expires_at = time.time() + days * 86400
        return [
            self.consent.grant(
                item.tenant,
                identity,
                [_consent_scope(item)],
                grantor=who.client_id,
                expires_at=expires_at,
                basis=f"review {item.ticket}",
            )
            for identity in identities
        ]

    def changed_since_held(self, item: ReviewItem) -> list[str]:
        """What the held verdict relied on that no longer holds: a consent grant it cites
        that was revoked or has expired, a person it matched who was removed. Either one
        means releasing would sign a decision whose grounds are gone."""
        if self.consent is None:
            return []
        now, problems, seen = time.time(), [], set()
        cited = [*item.verdict.get("reasons", []), *item.verdict.get("findings", [])]
        for finding in cited:
            person = finding.get("identity_id", "")
            if finding.get("category") not in LIKENESS_CATEGORIES or not person:
                continue
            name = finding.get("identity_name") or person
            if person not in seen:
                seen.add(person)
                if self.consent.identities.identity(person) is None:
                    problems.append(f"{name} was removed from the enrolled people since")
            basis = finding.get("consent") or {}
            if basis.get("grant_id") and basis["grant_id"] not in seen:
                seen.add(basis["grant_id"])
                grants = self.consent.store.grants(tenant=item.tenant, identity_id=person)
                grant = next((g for g in grants if g.id == basis["grant_id"]), None)
                if grant is None or not grant.active(now):
                    problems.append(
                        f"consent grant {basis['grant_id']} for {name} was revoked or has "
                        "expired since"
                    )
        return problems

    def state_at_release(self, item: ReviewItem) -> dict:
        """What a release was checked against (recorded in its manifest): the tenant's
        policy now, and whether it is the one the item was held under."""
        held_under = item.verdict.get("policy_version", "")
        now = self.policy_version(item.tenant) if self.policy_version else held_under
        return {"policy_version": now, "policy_changed": now != held_under, "at": time.time()}

    def revoke(self, grants: list[Grant]) -> None:
        for grant in grants:
            self.consent.revoke(grant.id, "reelguard: the review decision was not recorded")

    def undo(self, item: ReviewItem, who: Principal) -> None:
        """An appeal reversed `item`'s decision: remove what that decision created — an
        approval's clearances and consent grants, a rejection's bank entries."""
        ticket = item.ticket
        if item.decision == "approve":
            entry = AuditEntry(who.client_id, "allowlist.removed", item.tenant, ticket, {})
            self.store.remove_clearances(entry, ticket=ticket)
            if self.consent is not None:
                for grant in self.consent.store.grants(tenant=item.tenant):
                    if grant.basis == f"review {ticket}" and grant.revoked_at is None:
                        self.consent.revoke(grant.id, f"{who.client_id}: appeal of {ticket}")
        elif item.decision == "reject" and self.unbank is not None:
            removed = self.unbank(ticket)
            if removed:
                body = {"entries": removed}
                self.store.append_audit(
                    AuditEntry(who.client_id, "bank.removed", item.tenant, ticket, body)
                )


def may_clear(who: Principal, decision: str, grant_consent: bool) -> None:
    """Letting a tenant depict an identity is a consent decision: a platform senior
    reviewer's or admin's. A tenant's own reviewer or admin would be the tenant consenting
    for someone else."""
    if decision != "approve" or not grant_consent:
        return
    if not who.is_platform or who.role not in (SENIOR_REVIEWER, ADMIN):
        raise Forbidden(
            "granting a tenant consent to depict someone is for platform (tenant '*') senior "
            f"reviewers and admins; this client is a {who.role} of tenant {who.tenant!r}"
        )


def _consent_scope(item: ReviewItem) -> str:
    """The scope the held request needed: animating from a driving video is `performance`."""
    videos = [i for i in item.spec.get("ingredients", []) if i["mime_type"].startswith("video/")]
    return "performance" if videos else "video"


def _identities(item: ReviewItem) -> list[str]:
    return sorted(
        {r["identity_id"] for r in item.verdict.get("reasons", []) if r.get("identity_id")}
    )

"""What a decision cited beyond the models' scores, replayed as it stood when it was made.

A consented output was allowed because a grant authorized the likeness; a cleared one
because a reviewer had cleared its content; a released one because a reviewer approved
its hold. A recheck re-runs the models on the file and then applies these as the record
cites them, each looked up in the store and honoured only if it held at the decision's
time: a grant revoked since still authorized that decision; one made afterwards, or for
another tenant or scope, never did.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from safety.store.interface import GrantStore
from safety.store.records import Grant, ReviewItem
from safety.store.review_interface import ReviewStore
from safety.verdict import LIKENESS_CATEGORIES, Finding, Verdict


@dataclass
class Replay:
    """The authorizations a decision cited that held at its time, and what was said of each."""

    consents: dict[str, dict] = field(default_factory=dict)  # identity id -> recorded basis
    cleared: dict[tuple[str, str, str], str] = field(default_factory=dict)  # -> ticket
    notes: list[str] = field(default_factory=list)

    def apply(self, findings: list[Finding]) -> None:
        """Attach them (in place) to the rechecked findings they covered, before judging."""
        for f in findings:
            if f.category in LIKENESS_CATEGORIES and f.identity_id in self.consents:
                f.consent = dict(self.consents[f.identity_id])
            ticket = self.cleared.get((f.check, f.category, f.subject))
            if ticket:
                f.allowlisted = ticket


def replay(
    recorded: Verdict,
    tenant: str,
    decided_at: float,
    grants: GrantStore,
    reviews: ReviewStore,
) -> Replay:
    """The grants and content clearances `recorded` cites, checked against the store."""
    out = Replay()
    for f in recorded.findings:
        basis = f.consent or {}
        person = f.identity_name or f.identity_id
        if basis.get("grant_id") and f.identity_id not in out.consents:
            grant = _grant(grants, f.identity_id, basis["grant_id"])
            why_not = _invalid(grant, tenant, basis.get("scope", ""), decided_at)
            if why_not:
                out.notes.append(
                    f"consent grant {basis['grant_id']} for {person} NOT honoured: {why_not}"
                )
            else:
                out.consents[f.identity_id] = basis
                out.notes.append(
                    f"consent grant {grant.id} for {person} ({basis.get('scope')}, from "
                    f"{grant.grantor}) was valid when decided{_since(grant)}"
                )
        if f.allowlisted and (f.check, f.category, f.subject) not in out.cleared:
            item = reviews.review_item(f.allowlisted)
            if _approved_before(item, tenant, decided_at):
                out.cleared[(f.check, f.category, f.subject)] = f.allowlisted
                out.notes.append(
                    f"{f.subject}/{f.category} cleared by human review {f.allowlisted} "
                    f"(approved by {item.decided_by})"
                )
            else:
                out.notes.append(
                    f"clearance by review {f.allowlisted} NOT honoured: no approval of it "
                    f"for tenant {tenant!r} before the decision"
                )
    return out


def release(review: dict, held_decision_id: str, tenant: str, reviews: ReviewStore) -> str:
    """Why the human review a released output's manifest records does not hold ("" when it
    does): the ticket must be this tenant's hold of `held_decision_id`, approved."""
    ticket = review.get("ticket", "")
    item = reviews.review_item(ticket) if ticket else None
    if item is None or item.tenant != tenant or item.decision_id != held_decision_id:
        return f"no review ticket {ticket!r} held decision {held_decision_id} for this tenant"
    if review.get("decision") != "approve":
        return f"the recorded review of ticket {ticket} is not an approval"
    return ""


def _grant(grants: GrantStore, identity_id: str, grant_id: str) -> Grant | None:
    """Any tenant's: a grant cited for another tenant is refused by name, not as missing."""
    return next((g for g in grants.grants(identity_id=identity_id) if g.id == grant_id), None)


def _invalid(grant: Grant | None, tenant: str, scope: str, at: float) -> str:
    if grant is None:
        return "no such grant for this person"
    if grant.tenant != tenant:
        return f"it is tenant {grant.tenant!r}'s, not {tenant!r}'s"
    if scope not in grant.scopes:
        return f"it covers {', '.join(grant.scopes)}, not {scope!r}"
    if grant.created_at > at:
        return "it was made after the decision"
    if grant.revoked_at is not None and grant.revoked_at <= at:
        return "it was revoked before the decision"
    if grant.expires_at is not None and grant.expires_at <= at:
        return "it had expired before the decision"
    return ""


def _since(grant: Grant) -> str:
    if grant.revoked_at is not None:
        return f" (revoked since by {grant.revoked_by})"
    return ""


def _approved_before(item: ReviewItem | None, tenant: str, at: float) -> bool:
    return (
        item is not None
        and item.tenant == tenant
        and item.decision == "approve"
        and item.decided_at is not None
        and item.decided_at <= at
    )

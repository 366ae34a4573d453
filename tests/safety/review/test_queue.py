"""The review queue in the domain, on the in-memory store: held outputs wait unsigned;
approval signs them with the review in the manifest, rejection banks their content;
claims are exclusive for a lease; escalations and appeals go to another senior; every
step is chained in the audit log. (The RPCs over it: tests/safety/service/test_review_rpc.py.)"""

from __future__ import annotations

import pytest

from safety.errors import Busy, Forbidden, InvalidInput
from safety.job import Blocked, Completed, Held
from signing.verify import Verifier
from tests.safety.domain import OTHER_REVIEWER, OTHER_SENIOR, REVIEWER, SENIOR
from tests.safety.review.conftest import held_ticket
from tests.support import encode


def test_approval_signs_the_held_output_with_the_review_in_its_manifest(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    item = d.review.get(ticket)
    assert item.category == "public_figure" and item.tenant == "studio-a"
    approved = d.review.claim_and_decide(ticket, REVIEWER, "approve", "false_positive")
    assert approved.status == "approved" and approved.signed_sha256
    signed = d.review.media.path(approved.signed_path)
    report = Verifier(d.anchors).verify_file(signed)
    assert report.status == "trusted", report.summary
    review = report.moderation["human_review"]
    assert review["decision"] == "approve" and review["ticket"] == ticket
    assert review["reviewer"] == REVIEWER.client_id and review["reviewer_role"] == "reviewer"
    assert report.moderation["held_decision_id"] == item.decision_id
    # Released after review, it is labelled like any output of its generator.
    assert [t.rsplit("/", 1)[-1] for t in report.digital_source_types] == ["algorithmicMedia"]
    assert d.store.decision(report.moderation["decision_id"])["output_sha256"] == (
        approved.signed_sha256
    )


def test_rejection_banks_the_content_and_blocks_it_next_time(review_domain, pictures):
    d = review_domain
    image = pictures()
    ticket = held_ticket(d, image)
    rejected = d.review.claim_and_decide(ticket, REVIEWER, "reject", "likeness_no_consent")
    assert rejected.status == "rejected"
    assert [e for e in d.banks.storage.bank_entries() if e.media_id == ticket]
    again = d.generate(image)  # the same content: blocked by the bank at pre-check
    assert isinstance(again, Blocked) and again.verdict.stage.name == "PRE_CHECK"
    assert any(r.bank == "review-rejected" for r in again.verdict.reasons)


def test_a_claim_is_exclusive_until_its_lease_runs_out(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    d.review.claim(ticket, REVIEWER)
    with pytest.raises(Busy, match="someone else"):
        d.review.claim(ticket, OTHER_REVIEWER)
    with pytest.raises(Busy, match="claim ticket"):  # deciding needs the claim
        d.review.decide(ticket, OTHER_REVIEWER, "reject", "likeness_no_consent")
    d.review.lease_s = -1.0  # the first reviewer's claim has run out
    try:
        d.review.claim(ticket, REVIEWER)
        d.review.lease_s = 600.0
        assert d.review.claim(ticket, OTHER_REVIEWER).claimed_by == OTHER_REVIEWER.client_id
    finally:
        d.review.lease_s = 600.0
    decided = d.review.decide(ticket, OTHER_REVIEWER, "reject", "likeness_no_consent")
    assert decided.status == "rejected" and decided.decided_by == OTHER_REVIEWER.client_id


def test_escalation_and_appeal_go_to_a_different_senior_reviewer(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    d.review.claim_and_decide(ticket, REVIEWER, "escalate", "needs_senior")
    with pytest.raises(Forbidden, match="senior"):
        d.review.claim(ticket, OTHER_REVIEWER)
    d.review.claim_and_decide(ticket, SENIOR, "reject", "likeness_no_consent")
    with pytest.raises(InvalidInput, match="appeal"):
        d.review.claim(ticket, OTHER_SENIOR)  # decided: only an appeal reopens it
    assert d.review.appeal(ticket, REVIEWER, "a release is on file").status == "appealed"
    with pytest.raises(Forbidden, match="someone else"):
        d.review.claim_and_decide(ticket, SENIOR, "approve", "consent_on_file")
    approved = d.review.claim_and_decide(ticket, OTHER_SENIOR, "approve", "consent_on_file")
    assert approved.status == "approved" and approved.previous_decider == SENIOR.client_id
    # The reversal took back what the rejection banked.
    assert not [e for e in d.banks.storage.bank_entries() if e.media_id == ticket]


def test_bad_decisions_change_nothing(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    for decision, code, words in [("maybe", "x_y", "decision must be"), ("approve", "", "reason")]:
        with pytest.raises(InvalidInput, match=words):
            d.review.claim_and_decide(ticket, REVIEWER, decision, code)
    assert d.review.get(ticket).status == "pending"
    d.review.claim_and_decide(ticket, REVIEWER, "reject", "likeness_no_consent")


def test_every_step_is_in_the_audit_chain(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    d.review.claim_and_decide(ticket, REVIEWER, "approve", "false_positive")
    kinds = {e["kind"] for e in d.store.audit.entries()}
    assert {"decision", "held", "claimed", "review.approve", "review.reject"} <= kinds
    assert d.store.audit.verify().ok


def test_an_output_nobody_is_depicted_in_is_not_held(review_domain, coffee):
    last = review_domain.generate(encode(coffee))
    assert isinstance(last, Completed) and last.verdict.action.name == "ALLOW"


def test_a_release_rechecks_the_grants_and_people_its_verdict_cites(tmp_path, astronaut):
    """Held for its words while a consent grant authorized the likeness; the grant was
    revoked (or the person removed) before a reviewer approved: the release used to sign
    an "allow" whose grounds were gone. The reviewer is told why; nothing is signed."""
    from media.decode import decode_image
    from safety.errors import FailedPrecondition
    from safety.job import Held
    from signing.verify import Verifier
    from tests.safety.domain import REVIEWER, build_domain
    from tests.support import OFFENSIVE, REVIEW_LIKENESS, encode

    d = build_domain(tmp_path, policy=REVIEW_LIKENESS)
    collins = d.enroller.enroll(
        "Eileen Collins", [], [decode_image(encode(astronaut), max_pixels=10**8)]
    )
    grant = d.consent.grant("studio-a", collins.id, ["video"], "admin", None)

    def held_with_consent() -> Held:
        last = d.generate(encode(astronaut), prompt=OFFENSIVE)
        assert isinstance(last, Held), last
        cited = [f.consent for f in last.verdict.findings if f.consent]
        assert cited and cited[0]["grant_id"] == grant.id
        return last

    revoked, removed = held_with_consent(), held_with_consent()
    d.consent.revoke(grant.id, "Eileen Collins withdrew consent")
    with pytest.raises(FailedPrecondition, match=f"consent grant {grant.id} for Eileen Collins"):
        d.review.claim_and_decide(revoked.ticket, REVIEWER, "approve", "false_positive")
    assert d.review.get(revoked.ticket).status == "pending"  # nothing recorded, nothing signed
    d.enroller.remove(collins.id)
    with pytest.raises(FailedPrecondition, match="Eileen Collins was removed"):
        d.review.claim_and_decide(removed.ticket, REVIEWER, "approve", "false_positive")
    # An item whose grounds still hold is released, the state it was checked against kept.
    fresh = d.generate(encode(astronaut[::-1]), prompt=OFFENSIVE)  # no face: words only
    assert isinstance(fresh, Held)
    item = d.review.claim_and_decide(fresh.ticket, REVIEWER, "approve", "false_positive")
    assert item.status == "approved"
    signed = d.review.media.path(item.signed_path)
    at_release = Verifier(d.anchors).verify_file(signed).moderation["human_review"]["at_release"]
    assert at_release["policy_version"] == fresh.verdict.policy_version
    assert at_release["policy_changed"] is False

"""Double review, "start reviewing" and the oversight figures, in the domain (no server):
a picked first decision waits, unseen, for a second reviewer; agreement applies it,
disagreement goes to a senior; the first reviewer cannot be their own second."""

from __future__ import annotations

import pytest

from safety.errors import Forbidden, InvalidInput
from safety.review import serving
from tests.safety.domain import OTHER_REVIEWER, REVIEWER, SENIOR
from tests.safety.review.conftest import held_ticket


@pytest.fixture
def every_decision_twice(review_domain):
    review_domain.review.double_review_share = 1.0
    yield review_domain
    review_domain.review.double_review_share = 0.0


def test_agreement_applies_the_decision_and_names_both_reviewers(every_decision_twice, pictures):
    d = every_decision_twice
    ticket = held_ticket(d, pictures())
    first = d.review.claim_and_decide(ticket, REVIEWER, "reject", "likeness_no_consent")
    # Held back, and blind: nothing of the first decision shows on the item.
    assert first.status == "second_review" and first.decision is None
    with pytest.raises(Forbidden, match="first decision"):
        d.review.claim(ticket, REVIEWER)
    second = d.review.claim_and_decide(ticket, OTHER_REVIEWER, "reject", "likeness_no_consent")
    assert second.status == "rejected" and second.decided_by == OTHER_REVIEWER.client_id
    entry = [e for e in d.store.audit.entries() if e["subject"] == ticket][-1]
    assert entry["kind"] == "review.reject" and '"double_review":"agreed"' in entry["body"]


def test_disagreement_goes_to_a_senior_with_both_decisions(every_decision_twice, pictures):
    d = every_decision_twice
    ticket = held_ticket(d, pictures())
    d.review.claim_and_decide(ticket, REVIEWER, "approve", "false_positive")
    split = d.review.claim_and_decide(ticket, OTHER_REVIEWER, "reject", "likeness_no_consent")
    assert split.status == "escalated" and split.reason_code == "reviewers_disagreed"
    assert "first: approve" in split.notes and "second: reject" in split.notes
    with pytest.raises(Forbidden, match="senior"):
        d.review.claim(ticket, OTHER_REVIEWER)
    # The senior's decision is final: not sent round again.
    final = d.review.claim_and_decide(ticket, SENIOR, "reject", "likeness_no_consent")
    assert final.status == "rejected"
    figures = {f.reviewer: f for f in serving.oversight(d.store.audit)}
    assert figures[REVIEWER.client_id].double_reviewed >= 1
    assert (
        figures[OTHER_REVIEWER.client_id].agreed < figures[OTHER_REVIEWER.client_id].double_reviewed
    )
    assert figures[SENIOR.client_id].median_handling_s is not None


def test_start_reviewing_claims_the_next_item_and_the_summary_counts_queues(
    review_domain, pictures
):
    d = review_domain
    tickets = {held_ticket(d, pictures()) for _ in range(2)}
    counts = serving.summary(d.review, REVIEWER)
    public = {c.name: c for c in counts["category"]}["public_figure"]
    assert public.count >= 2 and public.oldest_s >= 0
    assert {c.name for c in counts["tenant"]} >= {"studio-a"}
    got = serving.next_item(d.review, REVIEWER, category="public_figure")
    assert got.claimed_by == REVIEWER.client_id and got.status == "pending"
    # Another reviewer is served a different item, not the one claimed.
    other = serving.next_item(d.review, OTHER_REVIEWER, category="public_figure")
    assert other is not None and other.ticket != got.ticket
    for ticket in tickets:
        for who in (REVIEWER, OTHER_REVIEWER):
            try:
                d.review.claim_and_decide(ticket, who, "reject", "likeness_no_consent")
                break
            except Exception:
                continue


def test_a_golden_item_is_scored_and_changes_nothing_else(review_domain, pictures):
    d = review_domain
    ticket = held_ticket(d, pictures())
    d.review.claim_and_decide(ticket, SENIOR, "reject", "likeness_no_consent")
    with pytest.raises(Forbidden, match="senior"):
        d.review.add_golden(ticket, REVIEWER)
    gold = d.review.add_golden(ticket, SENIOR)
    assert gold.status == "pending" and gold.ticket != ticket and gold.decision is None
    banked = {b.name: len(list(d.banks.storage.bank_entries())) for b in d.banks.storage.banks()}
    # Served like any other item: the reviewer cannot tell it is a known answer.
    answered = d.review.claim_and_decide(gold.ticket, OTHER_REVIEWER, "approve", "false_positive")
    assert answered.status == "golden_scored" and answered.signed_path is None
    with pytest.raises(InvalidInput, match="nothing is left to decide"):
        d.review.claim(gold.ticket, REVIEWER)  # answered once: not again
    after = {b.name: len(list(d.banks.storage.bank_entries())) for b in d.banks.storage.banks()}
    assert after == banked  # not released, not banked
    figures = {f.reviewer: f for f in serving.oversight(d.store.audit)}
    mine = figures[OTHER_REVIEWER.client_id]
    assert mine.golden_answered == 1 and mine.golden_correct == 0  # the answer was reject

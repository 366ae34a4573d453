"""The Review RPCs over the real server: what generation clients see of a held request
(GetResult), who may list, claim and decide what, bulk decisions, filters, and domain
errors as statuses. The queue's own rules are tested in the domain
(tests/safety/review/test_queue.py); the store on both backends in
tests/safety/store/test_conformance.py."""

from __future__ import annotations

import time

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from signing.verify import Verifier
from tests.review_support import distinct_scenes, generate_events, review_service
from tests.support import banks_in_record, encode, output_bytes, terminal


# Likeness of an enrolled person goes to a human instead of being blocked outright.
@pytest.fixture(scope="module", params=["sqlite"])
def svc(request, tmp_path_factory, enrol_collins):
    """The service on its embedded database."""
    r = review_service(request, tmp_path_factory, enrol_collins, "review_flow")
    yield r
    r.close()


@pytest.fixture(scope="module")
def scenes(astronaut):
    """A distinct picture of the enrolled person per call."""
    return distinct_scenes(astronaut)


def generate(channel, pixels, prompt="a portrait, slowly zooming"):
    return generate_events(channel, encode(pixels), prompt)


def held_ticket(svc, pixels) -> str:
    events = generate(svc.studio, pixels)
    kind, held = terminal(events)
    assert kind == "held" and held.ticket and held.status == "pending", held.verdict.reasons
    assert output_bytes(events) == b""  # held output is never delivered unsigned
    assert held.verdict.action == pb.REVIEW
    return held.ticket


def result(channel, ticket):
    return list(rpc.GenerationStub(channel).GetResult(pb.TicketRef(ticket=ticket), timeout=60))


def decide(channel, ticket, decision, code="false_positive", **kw):
    response = rpc.ReviewStub(channel).Decide(
        pb.DecideRequest(tickets=[ticket], decision=decision, reason_code=code, **kw)
    )
    return response.results[0].item


def test_approval_signs_and_releases_with_the_review_in_the_manifest(svc, scenes):
    ticket = held_ticket(svc, scenes())
    kind, pending = terminal(result(svc.studio, ticket))
    assert kind == "held" and pending.status == "pending"
    queue = rpc.ReviewStub(svc.reviewer).List(pb.ListReviewRequest()).items
    item = next(i for i in queue if i.ticket == ticket)
    assert item.category == "public_figure" and item.tenant == "studio-a"
    assert item.verdict.reasons[0].identity_name == "Eileen Collins"
    approved = decide(svc.reviewer, ticket, "approve", notes="consent is on file offline")
    assert approved.status == "approved"
    events = result(svc.studio, ticket)
    kind, completed = terminal(events)
    assert kind == "completed" and completed.verdict.action == pb.ALLOW
    signed = output_bytes(events)
    import hashlib

    assert hashlib.sha256(signed).hexdigest() == completed.sha256
    anchors = (svc.config.keys_dir / "root.pem").read_text()
    report = Verifier(anchors).verify_bytes(signed, "video/mp4")
    assert report.status == "trusted", report.summary
    review = report.moderation["human_review"]
    assert review["decision"] == "approve" and review["ticket"] == ticket
    assert review["reason_code"] == "false_positive" and review["reviewer_role"] == "reviewer"
    # Released after review, it is labelled like any output of its generator.
    assert [t.rsplit("/", 1)[-1] for t in report.digital_source_types] == ["algorithmicMedia"]
    # An auditor's recheck replays the hold on the signed file and the review that released it.
    recheck = svc.provenance.Recheck(pb.RecheckRequest(media=pb.Media(data=signed)))
    assert recheck.reproduces, recheck
    assert recheck.decision_id == report.moderation["decision_id"] != recheck.held_action
    assert recheck.recorded_action == recheck.rechecked_action == "allow"
    assert recheck.held_action == recheck.held_rechecked_action == "review"
    assert recheck.scores and all(s.reproduces for s in recheck.scores)
    assert any(f"ticket {ticket}" in line and "released by" in line for line in recheck.replayed)


def test_rejection_banks_the_content_and_blocks_it_next_time(svc, scenes):
    flipped = scenes()
    ticket = held_ticket(svc, flipped)
    before = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    rejected = decide(svc.reviewer, ticket, "reject", "likeness_no_consent")
    assert rejected.status == "rejected"
    after = {b.name: b.entries for b in svc.banks.List(pb.ListBanksRequest()).banks}
    assert after["review-rejected"] > before.get("review-rejected", 0)
    kind, blocked = terminal(result(svc.studio, ticket))
    assert kind == "blocked" and blocked.verdict.action == pb.BLOCK
    assert any(r.check == "human_review" for r in blocked.verdict.reasons)
    # The same content again: blocked by the bank at pre-check, not held for review.
    kind, again = terminal(generate(svc.studio, flipped))
    assert kind == "blocked" and again.verdict.stage == pb.PRE_CHECK
    # The client is told the category; the decision record names the bank.
    assert "hash_match" in [r.category for r in again.verdict.reasons]
    assert banks_in_record(svc, again.verdict.decision_id) == {"review-rejected"}


def test_tenants_see_only_their_own_tickets(svc, scenes):
    ticket = held_ticket(svc, scenes())
    with pytest.raises(grpc.RpcError) as e:
        result(svc.other_tenant, ticket)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    _, tenant_b_reviewer = svc.client("reviewer", "studio-b")
    listed = rpc.ReviewStub(tenant_b_reviewer).List(pb.ListReviewRequest()).items
    assert ticket not in {i.ticket for i in listed}
    with pytest.raises(grpc.RpcError) as e:
        rpc.ReviewStub(tenant_b_reviewer).Claim(pb.TicketRef(ticket=ticket))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    # Generation clients don't review.
    with pytest.raises(grpc.RpcError) as e:
        rpc.ReviewStub(svc.studio).List(pb.ListReviewRequest())
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    decide(svc.reviewer, ticket, "reject", "likeness_no_consent")


def test_bulk_decisions_report_each_ticket(svc, scenes):
    tickets = [held_ticket(svc, scenes()) for i in (20, 21)]
    response = rpc.ReviewStub(svc.reviewer).Decide(
        pb.DecideRequest(
            tickets=[*tickets, "no-such-ticket"],
            decision="reject",
            reason_code="likeness_no_consent",
        )
    )
    outcome = {r.ticket: r for r in response.results}
    assert all(outcome[t].ok and outcome[t].item.status == "rejected" for t in tickets)
    assert (
        not outcome["no-such-ticket"].ok and "no review ticket" in outcome["no-such-ticket"].error
    )


def test_bad_decisions_are_invalid_argument(svc, scenes):
    ticket = held_ticket(svc, scenes())
    for decision, code, words in [
        ("maybe", "x_y", "decision must be"),
        ("approve", "", "reason_code"),
    ]:
        with pytest.raises(grpc.RpcError) as e:
            decide(svc.reviewer, ticket, decision, code)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in e.value.details()
    decide(svc.reviewer, ticket, "reject", "likeness_no_consent")


def test_queue_filters(svc, scenes):
    ticket = held_ticket(svc, scenes())
    review = rpc.ReviewStub(svc.reviewer)

    def listed(**kw):
        return {i.ticket for i in review.List(pb.ListReviewRequest(**kw)).items}

    assert ticket in listed(category="public_figure", tenant="studio-a")
    assert ticket not in listed(category="sexual")
    assert ticket not in listed(tenant="studio-b")
    assert ticket not in listed(min_priority=10_000)
    assert ticket not in listed(older_than_s=3600)
    time.sleep(0.2)
    assert ticket in listed(older_than_s=0.1)
    items = review.List(pb.ListReviewRequest()).items
    assert [i.priority for i in items] == sorted((i.priority for i in items), reverse=True)
    decide(svc.reviewer, ticket, "reject", "likeness_no_consent")


def test_a_tenant_admin_cannot_clear_its_own_tenant_to_depict_someone(svc, scenes):
    """Approving its own held likeness with grant_consent would be a consent grant the
    tenant wrote for itself."""
    studio_admin = svc.client("admin", "studio-a")[1]
    ticket = held_ticket(svc, scenes())
    with pytest.raises(grpc.RpcError) as e:
        decide(studio_admin, ticket, "approve", grant_consent=True)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    item = rpc.ReviewStub(svc.reviewer).Get(pb.TicketRef(ticket=ticket))
    assert item.status == "pending" and not item.claimed_by  # refused before any claim
    kind, again = terminal(generate(svc.studio, scenes()))
    assert kind == "held"  # nothing was cleared: the next likeness still waits for review
    for t in (ticket, again.ticket):
        decide(svc.reviewer, t, "reject", "likeness_no_consent")


def test_review_actions_log_under_the_request_id_the_client_got_back(svc, scenes, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="reelguard.requests")
    events = generate(svc.studio, scenes())
    request_id = events[0].accepted.request_id
    kind, held = terminal(events)
    assert kind == "held"
    decide(svc.reviewer, held.ticket, "reject", code="not_consented", notes="private remark")
    found = [
        r
        for r in caplog.records
        if getattr(r, "request_id", "") == request_id
        and getattr(r, "event", "") in ("outcome", "review")
    ]
    assert [(r.event, getattr(r, "action", r.__dict__.get("outcome"))) for r in found] == [
        ("outcome", "held"),
        ("review", "reject"),
    ]
    review = found[1]
    assert review.ticket == held.ticket and review.status == "rejected" and review.call_id
    assert review.tenant == "studio-a" and review.client and review.call_id != request_id
    assert "private remark" not in caplog.text

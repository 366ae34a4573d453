"""A reviewer's content clearance clears what the reviewer judged and nothing else: the
item's tenant, the input, each category on its own subject, up to the score seen, for
90 days. Admins list and remove clearances; an appeal that reverses a decision undoes
what it created. Through the real server, on both review-store backends."""

from __future__ import annotations

import time

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from tests.support import (
    encode,
    performance,
    review_service,
    scene,
    terminal,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def svc(request, tmp_path_factory, enrol_collins):
    r = review_service(request, tmp_path_factory, enrol_collins, "allowlist_flow")
    yield r
    r.close()


def generate(channel, pixels, driving: bytes | None = None) -> tuple[str, object]:
    request = pb.GenerateRequest(
        prompt="a portrait, slowly zooming",
        image=pb.Media(data=encode(pixels)),
        output=pb.OutputSpec(width=96, height=96, num_frames=12),
    )
    if driving is not None:
        request.driving_video.CopyFrom(pb.Media(data=driving))
    return terminal(list(rpc.GenerationStub(channel).Generate(request, timeout=120)))


def decide(channel, ticket, decision, **kw):
    code = "false_positive" if decision == "approve" else "likeness_no_consent"
    request = pb.DecideRequest(tickets=[ticket], decision=decision, reason_code=code, **kw)
    return rpc.ReviewStub(channel).Decide(request).results[0].item


def entries(channel, **kw):
    return list(rpc.ReviewStub(channel).ListAllowlist(pb.ListAllowlistRequest(**kw)).entries)


def test_a_clearance_covers_what_the_reviewer_judged_and_nothing_else(svc, astronaut):
    look_alike = scene(astronaut, "camera", (120, 40))
    kind, held = generate(svc.studio, look_alike)
    assert kind == "held"
    decide(svc.reviewer, held.ticket, "approve", allowlist_content=True)  # a platform reviewer
    assert generate(svc.studio, look_alike)[0] == "completed"  # the false positive, cleared
    # Not for the enrolled person in a driving video sent beside the same input ...
    kind, driven = generate(svc.studio, look_alike, driving=performance(astronaut))
    assert kind == "held", driven
    assert any(r.subject == "driving_video" for r in driven.verdict.reasons)
    # ... and not for another tenant, even though a platform reviewer made it.
    kind, other = generate(svc.other_tenant, look_alike)
    assert kind == "held"
    for ticket in (driven.ticket, other.ticket):  # (rejecting banks the look-alike)
        decide(svc.reviewer, ticket, "reject")
    (entry,) = [e for e in entries(svc.channel) if e.ticket == held.ticket][:1]
    assert entry.tenant == "studio-a" and entry.subject in ("input_image", "output_frame")
    seen = max(r.score for r in held.verdict.reasons if r.subject == entry.subject)
    assert entry.max_score == pytest.approx(min(1.0, seen + 0.02), abs=1e-4)
    assert 89 * 86400 < entry.expires_at - time.time() <= 90 * 86400
    # After its expiry the store no longer returns it.
    store = svc.service.review.store
    assert store.clearances("studio-a", entry.content_sha256, time.time())
    assert not store.clearances("studio-a", entry.content_sha256, entry.expires_at + 1)


def test_admins_list_and_remove_clearances_of_their_own_tenant(svc, astronaut):
    look_alike = scene(astronaut, "coins", (120, 40))
    kind, held = generate(svc.studio, look_alike)
    decide(svc.reviewer, held.ticket, "approve", allowlist_content=True)
    mine = [e for e in entries(svc.channel) if e.ticket == held.ticket]
    assert mine and {e.subject for e in mine} <= {"input_image", "output_frame"}
    # Another tenant's admin sees none of them and cannot remove one.
    other_admin = svc.client("admin", "studio-b")[1]
    assert not [e for e in entries(other_admin) if e.ticket == held.ticket]
    with pytest.raises(grpc.RpcError) as e:
        rpc.ReviewStub(other_admin).RemoveAllowlist(pb.AllowlistRef(id=mine[0].id))
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as e:  # nor may a reviewer
        entries(svc.reviewer)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = svc.cli("allowlist", "list", "--tenant", "studio-a")
    assert listed.returncode == 0 and f"ticket {held.ticket}" in listed.stdout
    for entry in mine:
        removed = svc.cli("allowlist", "remove", str(entry.id))
        assert removed.returncode == 0, removed.stderr
    kind, again = generate(svc.studio, look_alike)
    assert kind == "held"  # judged again
    decide(svc.reviewer, again.ticket, "reject")


def test_an_appeal_that_reverses_a_decision_undoes_what_it_created(svc, astronaut):
    look_alike = scene(astronaut, "page", (120, 40))
    kind, held = generate(svc.studio, look_alike)
    decide(svc.reviewer, held.ticket, "approve", allowlist_content=True)
    review = rpc.ReviewStub(svc.studio)
    review.Appeal(pb.AppealRequest(ticket=held.ticket, reason="that is her"))
    decide(svc.senior, held.ticket, "reject")  # reversed: the clearances go, the content is banked
    assert not [e for e in entries(svc.channel) if e.ticket == held.ticket]
    kind, _ = generate(svc.studio, look_alike)
    assert kind == "blocked"  # banked by the rejection
    review.Appeal(pb.AppealRequest(ticket=held.ticket, reason="it is a look-alike after all"))
    decide(svc.senior2, held.ticket, "approve")  # reversed again: the bank entries go
    banked = [e for e in svc.service.banks.storage.bank_entries() if e.media_id == held.ticket]
    assert not banked
    kind, last = generate(svc.studio, look_alike)
    assert kind == "held"  # neither cleared nor banked: a reviewer looks again
    decide(svc.reviewer, last.ticket, "reject")

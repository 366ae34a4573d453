"""Admins list and remove clearances of their own tenant through the Review RPCs and the
CLI, over the real server. What a clearance covers is tested in the domain
(tests/safety/policy/test_allowlist.py)."""

from __future__ import annotations

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from tests.review_support import review_service
from tests.support import OFFENSIVE, encode, terminal


@pytest.fixture(scope="module", params=["sqlite"])
def svc(request, tmp_path_factory, enrol_collins):
    r = review_service(request, tmp_path_factory, enrol_collins, "allowlist_flow")
    yield r
    r.close()


def generate(channel, pixels, driving: bytes | None = None, prompt=OFFENSIVE):
    request = pb.GenerateRequest(
        prompt=prompt,
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


def test_admins_list_and_remove_clearances_of_their_own_tenant(svc, coffee):
    cup = coffee  # with an offensive prompt: held for its words
    kind, held = generate(svc.studio, cup)
    decide(svc.reviewer, held.ticket, "approve", allowlist_content=True)
    mine = [e for e in entries(svc.channel) if e.ticket == held.ticket]
    assert mine and {(e.subject, e.category) for e in mine} == {("prompt", "profanity")}
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
    kind, again = generate(svc.studio, cup)
    assert kind == "held"  # judged again
    decide(svc.reviewer, again.ticket, "reject")

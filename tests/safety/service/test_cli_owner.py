"""The depicted person's door from a terminal and over gRPC: a platform admin binds a
likeness owner; the owner lists the matches of their likeness and saves the face of
one, grants a tenant consent, files a takedown; the tenant lists and acknowledges it;
other roles are refused."""

from __future__ import annotations

import json

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from tests.support import Running, encode, make_config, terminal


@pytest.fixture(scope="module")
def svc(tmp_path_factory, enrol_collins):
    r = Running(make_config(tmp_path_factory.mktemp("cli-owner")))
    r.collins = enrol_collins(r.identities).id
    r.studio_token, r.studio = r.client("generator-client", "studio-b")
    r.tenant_admin = r.client("admin", "studio-b")[0]
    r.reviewer = r.client("reviewer")[0]
    yield r
    r.close()


def as_(svc, token, *args):
    return svc.cli(*args, env={"REELGUARD_TOKEN": token})


def generate(svc, image: bytes):
    request = pb.GenerateRequest(
        prompt="a portrait", image=pb.Media(data=image), output=pb.OutputSpec(num_frames=12)
    )
    return terminal(list(rpc.GenerationStub(svc.studio).Generate(request, timeout=120)))


def test_an_owner_works_their_door_from_the_terminal(svc, astronaut, tmp_path):
    made = svc.cli(
        "clients",
        "create",
        "--name",
        "Eileen Collins",
        "--tenant",
        "owners",
        "--role",
        "likeness_owner",
        "--json",
    )
    assert made.returncode == 0, made.stderr
    created = json.loads(made.stdout)
    owner, token = created["client"]["id"], created["token"]
    bound = svc.cli("clients", "bind-owner", owner, svc.collins)
    assert bound.returncode == 0 and svc.collins in bound.stdout
    # Only a platform admin binds: a tenant's admin cannot make itself someone's agent.
    refused = as_(svc, svc.tenant_admin, "clients", "bind-owner", owner, svc.collins)
    assert refused.returncode == 4 and "platform" in refused.stderr

    image = encode(astronaut)
    assert generate(svc, image)[0] == "blocked"
    listed = json.loads(as_(svc, token, "owner", "matches", "--json").stdout)
    assert listed["schema"] == "reelguard.likeness-matches/1"
    blocked = [m for m in listed["matches"] if m["tenant"] == "studio-b"]
    assert blocked and blocked[0]["action"] == "block" and blocked[0]["has_evidence"]
    face = tmp_path / "face.jpg"
    saved = as_(svc, token, "owner", "evidence", blocked[0]["id"], "--out", face)
    assert saved.returncode == 0 and face.read_bytes()[:2] == b"\xff\xd8"

    granted = as_(
        svc,
        token,
        "owner",
        "grant",
        "--identity",
        svc.collins,
        "--tenant",
        "studio-b",
        "--scope",
        "video",
        "--days",
        "1",
        "--json",
    )
    assert granted.returncode == 0, granted.stderr
    kind, done = generate(svc, image)
    assert kind == "completed"
    filed = as_(
        svc,
        token,
        "owner",
        "takedown",
        "--manifest-id",
        done.verdict.decision_id,
        "--reason",
        "withdrawn",
        "--json",
    )
    assert filed.returncode == 0, filed.stderr
    notice = json.loads(filed.stdout)
    assert notice["tenant"] == "studio-b" and notice["pdq_hex"] and notice["repeat_offences"] == 1

    # The tenant it is against sees it in its queue and acknowledges it.
    theirs = as_(svc, svc.tenant_admin, "takedowns", "list")
    assert notice["id"] in theirs.stdout and "not yet acknowledged" in theirs.stdout
    acked = as_(svc, svc.tenant_admin, "takedowns", "ack", notice["id"])
    assert acked.returncode == 0 and "acknowledged" in acked.stdout
    # Nobody else's door: a reviewer is refused, another tenant's notice reads as missing.
    assert as_(svc, svc.reviewer, "owner", "matches").returncode == 4
    other_tenant = svc.client("admin", "studio-c")[0]
    assert as_(svc, other_tenant, "takedowns", "ack", notice["id"]).returncode != 0
    revoked = as_(svc, token, "owner", "revoke", json.loads(granted.stdout)["id"])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout

"""An auditor re-runs a signed output's recorded checks on its own frames (Provenance.Recheck)."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.provenance.recheck import recheck
from safety.verdict import Verdict
from tests.support import encode, output_bytes, terminal


@pytest.fixture(scope="module")
def generated(running, coffee, tmp_path_factory):
    """A generated, signed output, and its decision as recorded."""
    events = running.generate("steam rising from a cup of coffee", encode(coffee))
    kind, done = terminal(events)
    assert kind == "completed"
    path = tmp_path_factory.mktemp("recheck") / "out.mp4"
    path.write_bytes(output_bytes(events))
    record = running.service.store.decision(done.verdict.decision_id)
    return path, Verdict.from_dict(record["evidence"])


def ask(stub, path) -> pb.RecheckReport:
    return stub.Recheck(pb.RecheckRequest(media=pb.Media(data=path.read_bytes())))


def test_a_generated_output_reproduces_score_by_score(running, generated):
    path, recorded = generated
    report = ask(running.provenance, path)
    assert report.reproduces, report
    assert report.recorded_action == report.rechecked_action == "allow"
    times = recorded.frames_checked["output_frame"]["times_s"]
    assert report.frames == len(times) >= 2
    nudity = [s for s in report.scores if s.category == "sexual"]
    assert nudity and all(abs(s.rechecked - s.recorded) <= 0.05 for s in nudity)
    assert not report.refused


def test_a_recorded_score_the_file_does_not_give_is_reported(running, generated):
    path, recorded = generated
    inflated = dataclasses.replace(
        recorded,
        findings=[
            dataclasses.replace(f, score=f.score + 0.3) if f.category == "sexual" else f
            for f in recorded.findings
        ],
    )
    gate = running.service.gate
    result = recheck(
        path,
        inflated,
        gate.checks.image_moderators,
        running.service.policies.for_tenant("default"),
        gate.sampling,
    )
    assert not result.reproduces
    assert any(s.category == "sexual" and not s.reproduces for s in result.scores)


def test_a_model_version_that_differs_is_refused_not_compared(running, generated, monkeypatch):
    path, _ = generated
    nudity = next(
        m for m in running.service.gate.checks.image_moderators if m.name == "image.nudity"
    )
    monkeypatch.setattr(nudity, "model_version", "retrained")
    report = ask(running.provenance, path)
    assert not report.reproduces and report.rechecked_action == ""
    assert any("image.nudity" in why and "retrained" in why for why in report.refused)
    assert not any(s.check == "image.nudity" for s in report.scores)


def test_an_unsigned_or_altered_file_is_refused(running, generated):
    path, _ = generated
    altered = bytearray(path.read_bytes())
    altered[len(altered) // 2] ^= 0xFF
    with pytest.raises(grpc.RpcError) as err:
        running.provenance.Recheck(pb.RecheckRequest(media=pb.Media(data=bytes(altered))))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "only a trusted reelguard output" in err.value.details()


def test_another_tenants_auditor_cannot_recheck_it(running, generated):
    path, _ = generated
    _, channel = running.client("auditor", tenant="someone-else")
    with pytest.raises(grpc.RpcError) as err:
        ask(rpc.ProvenanceStub(channel), path)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_the_cli_says_whether_it_reproduces(running, generated):
    path, _ = generated
    r = running.cli("recheck", str(path))
    assert r.returncode == 0, r.stderr
    assert "REPRODUCES" in r.stdout and "image.nudity/sexual" in r.stdout


def test_a_consented_output_reproduces_with_the_grant_it_cites(running, astronaut, tmp_path):
    """The decision allowed Collins because a grant authorized her: the recheck applies
    that grant as it stood then, and still does after it is revoked."""
    collins = next(
        i
        for i in running.identities.List(pb.ListIdentitiesRequest()).identities
        if i.name == "Eileen Collins"
    )
    grant = running.consent.Grant(
        pb.GrantRequest(
            tenant="recheck-studio", identity_id=collins.id, scopes=["video"], grantor="agency"
        )
    )
    _, studio = running.client("generator-client", "recheck-studio")
    try:
        request = pb.GenerateRequest(
            prompt="a portrait, slowly zooming",
            image=pb.Media(data=encode(astronaut)),
            output=pb.OutputSpec(width=128, height=128, num_frames=12),
        )
        events = list(rpc.GenerationStub(studio).Generate(request, timeout=120))
        kind, done = terminal(events)
        assert kind == "completed", done
        path = tmp_path / "consented.mp4"
        path.write_bytes(output_bytes(events))
    finally:
        running.consent.Revoke(pb.RevokeRequest(grant_id=grant.id, revoked_by="agency"))
    report = ask(running.provenance, path)
    assert report.reproduces, report
    assert report.recorded_action == report.rechecked_action == "allow"
    assert any(s.category == "public_figure" and s.reproduces for s in report.scores)
    assert any(grant.id in line and "revoked since" in line for line in report.replayed)
    r = running.cli("recheck", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"replayed: consent grant {grant.id}" in r.stdout and "REPRODUCES" in r.stdout

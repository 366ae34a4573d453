"""An auditor on another machine: a token, the service's address, and nothing of its data
dir. `reelguard verify` asks the service (Provenance.Verify) and gets the server's answer,
watermark recovery included; `--local` trusts the service's trust list
(Provenance.TrustList); `trust-list` hands that list out."""

from __future__ import annotations

import hashlib
import json

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import cli, encode, output_bytes, reencode, terminal


@pytest.fixture(scope="module")
def outputs(running, coffee, tmp_path_factory):
    """A signed output, and a transcoded copy that lost its manifest."""
    events = running.generate("fog over the cup", encode(coffee, "JPEG"), seed=33)
    kind, done = terminal(events)
    assert kind == "completed"
    d = tmp_path_factory.mktemp("audit")
    (d / "signed.mp4").write_bytes(output_bytes(events))
    (d / "copy.mp4").write_bytes(reencode(output_bytes(events), d, scale=1.0, crf=23))
    return d, done.verdict.decision_id


@pytest.fixture(scope="module")
def elsewhere(running, tmp_path_factory):
    """The environment of an auditor's machine: another HOME, no data dir of the service's."""
    token, _ = running.client("auditor")
    home = tmp_path_factory.mktemp("auditor-home")
    return {
        "HOME": str(home),
        "REELGUARD_DATA_DIR": str(home / ".reelguard"),
        "REELGUARD_TOKEN": token,
    }


def server_report(running, path) -> dict:
    answer = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=path.read_bytes())))
    return json.loads(answer.report_json)


def test_verify_from_another_machine_agrees_with_the_server(running, outputs, elsewhere):
    d, decision_id = outputs
    # Without the service, this machine trusts nothing: the problem the issue met.
    alone = cli("verify", d / "signed.mp4", env=elsewhere)
    assert alone.returncode == 1 and "VALID_UNTRUSTED" in alone.stdout
    configured = {**elsewhere, "REELGUARD_ADDRESS": running.address}
    for name in ("signed.mp4", "copy.mp4"):
        here = cli("verify", d / name, "--json", env=configured)
        mine, theirs = json.loads(here.stdout), server_report(running, d / name)
        assert mine["path"] == str(d / name)
        mine.pop("path"), theirs.pop("path")
        assert mine == theirs
    assert theirs["recovered"]["by"] == "watermark"  # the copy: recovered by the service
    assert theirs["recovered"]["manifest_id"] == decision_id
    words = cli("verify", d / "signed.mp4", env=configured)
    assert words.returncode == 0 and "TRUSTED" in words.stdout, words.stdout + words.stderr
    flagged = cli(
        "--address", running.address, "verify", "--remote", d / "signed.mp4", env=elsewhere
    )
    assert flagged.returncode == 0, flagged.stderr


def test_local_verify_trusts_the_services_trust_list(running, outputs, elsewhere):
    d, _ = outputs
    configured = {**elsewhere, "REELGUARD_ADDRESS": running.address}
    local = cli("verify", "--local", d / "signed.mp4", env=configured)
    assert local.returncode == 0 and "TRUSTED" in local.stdout, local.stdout + local.stderr


def test_trust_list_hands_out_the_deployments_roots(running, elsewhere, tmp_path):
    roots = tmp_path / "roots.pem"
    env = {**elsewhere, "REELGUARD_ADDRESS": running.address}
    listed = cli("trust-list", "--out", roots, "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    body = json.loads(listed.stdout)
    assert body["schema"] == "reelguard.trust-list/1"
    served = (running.config.keys_dir / "root.pem").read_text()
    assert roots.read_text() == body["trust_anchors_pem"] == served
    assert body["sha256"] == hashlib.sha256(served.encode()).hexdigest()
    assert any("CN=" in s for s in body["subjects"])
    words = cli("trust-list", env=env)
    assert words.returncode == 0 and "trusted root: " in words.stdout


def test_crjson_is_read_here_not_asked_of_the_service(running, outputs, elsewhere):
    d, _ = outputs
    env = {**elsewhere, "REELGUARD_ADDRESS": running.address}
    refused = cli("verify", "--remote", "--crjson", d / "signed.mp4", env=env)
    assert refused.returncode == 64 and "--crjson" in refused.stderr

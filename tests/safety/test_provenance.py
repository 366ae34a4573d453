"""Provenance.Sign and batch verification through the real server and CLI."""

from __future__ import annotations

import json

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from signing.verify import Verifier
from tests.support import cli, encode, output_bytes, terminal


def sign(running, data: bytes, *ingredients: bytes, filename="made-elsewhere.jpg"):
    return running.provenance.Sign(
        pb.SignRequest(
            media=pb.Media(data=data, filename=filename),
            ingredients=[pb.Media(data=d, filename=f"in{i}") for i, d in enumerate(ingredients)],
            generator_name="acme/videogen",
            generator_version="2.1",
            model_id="acme/vg-2",
        )
    )


def anchors(running) -> str:
    return running.config.keys_dir.joinpath("root.pem").read_text()


def test_sign_moderates_then_signs(running, coffee):
    response = sign(running, encode(coffee, "JPEG"))
    assert response.verdict.action == pb.ALLOW and response.signed.mime_type == "image/jpeg"
    report = Verifier(anchors(running)).verify_bytes(response.signed.data)
    assert report.status == "trusted"
    assert report.moderation["decision_id"] == response.verdict.decision_id
    action = report.manifest["assertions"][0]["data"]["actions"][0]
    assert action["softwareAgent"] == {"name": "acme/videogen", "version": "2.1"}
    assert action["parameters"] == {"model_id": "acme/vg-2"}


def test_sign_refuses_what_moderation_blocks(running, astronaut):
    response = sign(running, encode(astronaut, "JPEG"))
    assert response.verdict.action == pb.BLOCK
    assert not response.signed.data


def test_sign_refuses_unsupported_formats(running, coffee):
    with pytest.raises(grpc.RpcError) as err:
        sign(running, encode(coffee, "GIF"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "sign JPEG, PNG, WebP, MP4 or MOV" in err.value.details()


def test_our_own_signed_output_fed_back_keeps_its_manifest(running, coffee):
    first = sign(running, encode(coffee, "JPEG")).signed.data
    events = running.generate("steam again", first)
    kind, _ = terminal(events)
    assert kind == "completed"
    report = Verifier(anchors(running)).verify_bytes(output_bytes(events))
    (ing,) = report.manifest["ingredients"]
    assert ing["title"] == "input.jpeg" and ing["failures_at_ingest"] == []
    inner = ing["manifest"]
    assert inner["signer"] == "reelguard dev signer"
    assert any(a["label"] == "org.reelguard.moderation" for a in inner["assertions"])


def test_cli_sign_and_verify_a_directory(running, coffee, hopper, tmp_path):
    media = tmp_path / "media"
    (media / "sub").mkdir(parents=True)
    (media / "raw.jpg").write_bytes(encode(coffee, "JPEG"))
    out = media / "sub" / "signed.jpg"
    r = running.cli(
        "sign",
        media / "raw.jpg",
        "--out",
        out,
        "--ingredient",
        media / "raw.jpg",
        "--generator",
        "acme/videogen",
    )
    assert r.returncode == 0, r.stdout + r.stderr
    roots = tmp_path / "roots.pem"
    roots.write_text(anchors(running))

    single = cli("verify", out, "--trust-anchors", roots)
    assert single.returncode == 0 and "ingredient: raw.jpg" in single.stdout

    flat = cli("verify", media, "--trust-anchors", roots)  # not recursive: only raw.jpg
    assert flat.returncode == 1 and "summary: 1 no_manifest (1 files)" in flat.stdout

    deep = cli("verify", media, "--recursive", "--trust-anchors", roots)
    assert deep.returncode == 1  # raw.jpg has no manifest
    assert "sub/signed.jpg" in deep.stdout and "trusted" in deep.stdout
    assert "summary: 1 no_manifest, 1 trusted (2 files)" in deep.stdout
    assert "verifying" in deep.stderr  # the progress bar

    (media / "raw.jpg").unlink()
    ok = cli("verify", media, "-r", "--json", "--trust-anchors", roots)
    assert ok.returncode == 0
    batch = json.loads(ok.stdout)
    assert batch["schema"] == "reelguard.verify-batch/1"
    assert [r["status"] for r in batch["reports"]] == ["trusted"]

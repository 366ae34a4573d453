"""Durable Content Credentials: a stripped copy finds its manifest by fingerprint."""

from __future__ import annotations

import io
import json

import numpy as np
import skimage.data
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import cli, encode, output_bytes, reencode, terminal


def verify(running, data: bytes):
    return running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=data)))


def test_outputs_declare_their_fingerprint(running, coffee):
    events = running.generate("a calm cup", encode(coffee, "JPEG"), seed=3)
    report = json.loads(verify(running, output_bytes(events)).report_json)
    assert report["status"] == "trusted"
    labels = [a["label"] for a in report["manifest"]["assertions"]]
    assert "c2pa.soft-binding" in labels


def test_a_reencoded_video_recovers_its_manifest(running, tmp_path):
    # A picture no other test signs: the session's repository holds a dozen outputs made
    # from the coffee cup, and a re-encode of one may lie as near another's fingerprint.
    events = running.generate("a cat at rest", encode(skimage.data.chelsea(), "JPEG"), seed=11)
    kind, done = terminal(events)
    original = verify(running, output_bytes(events))
    stripped = reencode(output_bytes(events), tmp_path)
    report = verify(running, stripped)
    assert report.status == pb.VerifyReport.NO_MANIFEST
    assert report.recovered_manifest == json.loads(original.report_json)["active_manifest"]
    details = json.loads(report.report_json)["recovered"]
    assert details["manifest_id"] == done.verdict.decision_id
    assert details["alg"] == "com.meta.vpdq" and details["distance"] <= 31
    assert details["moderation"]["action"] == "allow"
    assert "recovered manifest" in report.summary


def test_a_screenshot_of_a_signed_image_recovers_its_manifest(running, hopper, coffee):
    signed = running.provenance.Sign(
        pb.SignRequest(media=pb.Media(data=encode(hopper, "JPEG")))
    ).signed.data
    shot = np.asarray(Image.open(io.BytesIO(signed)).convert("RGB").resize((410, 480)))
    report = verify(running, encode(shot, "PNG"))
    assert report.status == pb.VerifyReport.NO_MANIFEST and report.recovered_manifest
    assert json.loads(report.report_json)["recovered"]["alg"] == "com.meta.pdq"
    # Content we never signed finds nothing.
    unrelated = verify(running, encode(np.asarray(coffee)[::-1], "PNG"))
    assert unrelated.status == pb.VerifyReport.NO_MANIFEST and not unrelated.recovered_manifest


def test_cli_verify_uses_the_service_repository(running, coffee, tmp_path):
    events = running.generate("a quiet cup", encode(coffee, "JPEG"), seed=5)
    path = tmp_path / "reupload.mp4"
    path.write_bytes(reencode(output_bytes(events), tmp_path))
    r = cli("verify", path, env={"REELGUARD_DATA_DIR": str(running.config.data_dir)})
    assert r.returncode == 1  # recovered is not Trusted
    assert "recovered:  manifest urn:c2pa:" in r.stdout and "com.meta.vpdq" in r.stdout


def test_cli_verify_goes_on_without_a_readable_repository(coffee, tmp_path):
    (tmp_path / "reelguard.sqlite3").write_bytes(b"not a database")
    path = tmp_path / "photo.png"
    path.write_bytes(encode(coffee, "PNG"))
    r = cli("verify", path, env={"REELGUARD_DATA_DIR": str(tmp_path)})
    assert r.returncode == 1 and "NO_MANIFEST" in r.stdout
    assert "no manifest recovery: cannot read" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "reelguard.sqlite3").read_bytes() == b"not a database"


def test_a_transcoded_copy_recovers_its_manifest_by_watermark(running, coffee, tmp_path):
    events = running.generate("mist over the cup", encode(coffee, "JPEG"), seed=21)
    _, done = terminal(events)
    signed = json.loads(verify(running, output_bytes(events)).report_json)
    mark = signed["moderation"]["watermark"]
    assert mark["payload"] == done.verdict.decision_id[:16]
    # Same size, CRF 23 (bench/watermark.py: recovered in every clip; CRF 28 most).
    transcoded = reencode(output_bytes(events), tmp_path, scale=1.0, crf=23)
    report = verify(running, transcoded)
    assert report.status == pb.VerifyReport.NO_MANIFEST
    details = json.loads(report.report_json)["recovered"]
    assert details["by"] == "watermark" and details["manifest_id"] == done.verdict.decision_id
    assert details["alg"] == mark["alg"] and details["confidence"] >= 0.12
    assert "invisible watermark" in report.summary


def stamped(tmp_path, photo, decision_id: str, key: bytes) -> bytes:
    """Another video, marked with an allowed output's manifest id under `key`."""
    from generator.base import GenerationInput
    from generator.kenburns import KenBurnsGenerator
    from signing import watermark

    raw, marked = tmp_path / "other.mp4", tmp_path / "stamped.mp4"
    job = GenerationInput("other", photo, 256, 256, 24, 24, 5)
    KenBurnsGenerator().generate(job, raw, lambda *_: None)
    payload = watermark.payload_for(decision_id)
    watermark.watermark_video(raw, marked, payload, watermark.DwtDctQim(key))
    return marked.read_bytes()


def test_a_known_manifest_id_stamped_onto_another_video_is_not_attributed(
    running, coffee, hopper, tmp_path
):
    """The dither used to be a public constant: anyone could stamp an allowed output's
    manifest id onto a video of their own and have it attributed to that manifest."""
    _, done = terminal(running.generate("a still cup", encode(coffee, "JPEG"), seed=8))
    decision_id = done.verdict.decision_id
    guessed = bytes(32)  # the key is secret: any other reads as noise
    report = json.loads(
        verify(running, stamped(tmp_path, hopper, decision_id, guessed)).report_json
    )
    assert (report.get("recovered") or {}).get("manifest_id") != decision_id
    # With the real key (leaked, say), the content still has to match the manifest's
    # fingerprint: otherwise it is an unconfirmed candidate, and nothing of it is claimed.
    key = (running.config.data_dir / "watermark.key").read_bytes()
    report = json.loads(verify(running, stamped(tmp_path, hopper, decision_id, key)).report_json)
    recovered = report["recovered"]
    assert recovered["manifest_id"] == decision_id and recovered["confirmed"] is False
    assert "moderation" not in recovered and "unconfirmed candidate" in report["summary"]

"""Provenance.Sign and batch verification through the real server and CLI."""

from __future__ import annotations

import json

import grpc
import numpy as np
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
    assert action["parameters"] == {"org.reelguard.model_id": "acme/vg-2"}


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


# ---- Sign is not a laundering service ---------------------------------------------------


def sign_as(running, data: bytes, source_type: str):
    return running.provenance.Sign(
        pb.SignRequest(media=pb.Media(data=data), digital_source_type=source_type)
    )


@pytest.mark.parametrize(
    "source_type",
    [
        "digitalCapture",
        "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
        "http://cv.iptc.org/newscodes/digitalsourcetype/negativeFilm",
        "minorHumanEdits",
        "screenCapture",
        "made-up",
    ],
)
def test_a_client_cannot_have_generated_media_signed_as_a_capture(running, coffee, source_type):
    with pytest.raises(grpc.RpcError) as err:
        sign_as(running, encode(coffee, "JPEG"), source_type)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not describe generated or edited media" in err.value.details()


def test_the_clients_source_type_is_recorded_as_its_claim(running, coffee):
    response = sign_as(running, encode(coffee, "JPEG"), "compositeWithTrainedAlgorithmicMedia")
    assert response.verdict.action == pb.ALLOW
    report = Verifier(anchors(running)).verify_bytes(response.signed.data)
    claims = report.moderation["client_claims"]
    assert claims["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
    assert report.moderation["not_moderated"] == []


def jpeg_with_exif_thumbnail(picture, thumbnail) -> bytes:
    """A JPEG whose EXIF IFD1 carries `thumbnail` (what many viewers show in a listing)."""
    import io
    import struct

    from PIL import Image

    thumb = encode(thumbnail, "JPEG", quality=80)
    ifd0 = struct.pack(">HI", 0, 14)  # no entries; IFD1 at offset 14
    ifd1 = (
        struct.pack(">H", 2)
        + struct.pack(">HHII", 0x0201, 4, 1, 44)  # JPEGInterchangeFormat: offset
        + struct.pack(">HHII", 0x0202, 4, 1, len(thumb))  # ... and length
        + struct.pack(">I", 0)
    )
    exif = b"Exif\x00\x00MM\x00\x2a" + struct.pack(">I", 8) + ifd0 + ifd1 + thumb
    out = io.BytesIO()
    Image.fromarray(picture).save(out, "JPEG", exif=exif)
    return out.getvalue()


def test_an_embedded_thumbnail_is_moderated_too(running, coffee, hopper):
    """A benign picture carrying banked content as its EXIF thumbnail is not signed."""
    from PIL import Image

    small = np.asarray(Image.fromarray(coffee).resize((160, 120)))
    running.banks.Create(pb.CreateBankRequest(name="thumbnails"))
    added = running.banks.Add(
        pb.AddToBankRequest(bank="thumbnails", media=pb.Media(data=encode(small)))
    )
    try:
        response = sign(running, jpeg_with_exif_thumbnail(hopper, small))
        assert response.verdict.action == pb.BLOCK and not response.signed.data
        assert any(r.category == "hash_match" for r in response.verdict.reasons)
        # The thumbnail is checked on Check as well.
        verdict = running.moderation.Check(
            pb.CheckRequest(media=pb.Media(data=jpeg_with_exif_thumbnail(hopper, small)))
        )
        assert verdict.action == pb.BLOCK
    finally:  # the service is shared: leave nothing banked
        for entry_id in added.entry_ids:
            running.banks.Remove(pb.RemoveFromBankRequest(entry_id=entry_id))


def mp4(*tracks, audio: bool = False) -> bytes:
    """An MP4 with one video stream per frame list in `tracks` (and a silent audio one)."""
    import io

    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        streams = []
        for _ in tracks:
            stream = out.add_stream("libx264", rate=4)
            stream.width = stream.height = 128
            stream.pix_fmt = "yuv420p"
            streams.append(stream)
        sound = out.add_stream("aac", rate=8000) if audio else None
        for stream, frames in zip(streams, tracks, strict=True):
            for f in frames:
                out.mux(stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
            out.mux(stream.encode())
        if sound is not None:
            samples = av.AudioFrame.from_ndarray(
                np.zeros((1, 8000), np.float32), format="fltp", layout="mono"
            )
            samples.sample_rate = 8000
            out.mux(sound.encode(samples))
            out.mux(sound.encode())
    return buf.getvalue()


def test_a_second_video_track_is_refused_not_ignored(running, coffee, hopper):
    from PIL import Image

    benign = [np.asarray(Image.fromarray(hopper).resize((128, 128)))] * 4
    hidden = [np.asarray(Image.fromarray(coffee).resize((128, 128)))] * 4
    with pytest.raises(grpc.RpcError) as err:
        sign(running, mp4(benign, hidden), filename="two.mp4")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "2 video streams" in err.value.details()


def test_audio_is_recorded_as_not_moderated(running, hopper):
    from PIL import Image

    frames = [np.asarray(Image.fromarray(hopper).resize((128, 128)))] * 4
    response = sign(running, mp4(frames, audio=True), filename="with-audio.mp4")
    assert response.verdict.action == pb.ALLOW
    report = Verifier(anchors(running)).verify_bytes(response.signed.data)
    assert report.moderation["not_moderated"] == ["audio (1 stream(s))"]


def test_a_deployment_may_refuse_files_with_audio(tmp_path, hopper):
    from PIL import Image

    from tests.support import Running, make_config

    r = Running(make_config(tmp_path, sign_refuse_audio=True, face_workers=0))
    try:
        frames = [np.asarray(Image.fromarray(hopper).resize((128, 128)))] * 4
        with pytest.raises(grpc.RpcError) as err:
            sign(r, mp4(frames, audio=True), filename="with-audio.mp4")
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "audio" in err.value.details()
    finally:
        r.close()

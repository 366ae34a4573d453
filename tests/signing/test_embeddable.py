"""Single-pass signing of MP4/MOV in place, read by c2pa-rs and by an independent validator."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

import signing.embeddable as embeddable
from media.mp4 import MANIFEST_RESERVE, finish_mp4, write_mp4
from signing.keys import init_dev_chain
from signing.manifest import C2paManifestSigner, ManifestSpec
from signing.signer import CallbackSigner, KeyFileSigner
from signing.verify import Verifier
from tests.support import decoded, video

VALIDATORS = Path(__file__).resolve().parent.parent / "validators"
SPEC = ManifestSpec("out.mp4", "reelguard/test", "1", "test/model", {"action": "allow"})


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    return init_dev_chain(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signer(chain):
    return C2paManifestSigner(KeyFileSigner(chain.key, chain.chain))


@pytest.fixture(scope="module")
def verifier(chain):
    return Verifier(chain.root_cert.read_text())


def top_level_boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        boxes.append((kind, at, size))
        at += size
    return boxes


def c2pa_ts(path: Path) -> dict:
    """TrustNXT's c2pa-ts (pure TypeScript, no c2pa-rs inside) on `path`."""
    if shutil.which("node") is None or not (VALIDATORS / "node_modules").is_dir():
        pytest.skip(
            "the independent validator is not installed: npm install --prefix tests/validators"
        )
    out = subprocess.run(
        ["node", str(VALIDATORS / "validate.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("fmt, mime", [("mp4", "video/mp4"), ("mov", "video/quicktime")])
def test_a_foreign_mp4s_manifest_precedes_its_movie_and_media(
    signer, verifier, tmp_path, fmt, mime
):
    """C2PA's BMFF embedding (A.5.3): the manifest's box follows `ftyp` and comes before
    `moov` and the first `mdat`. A file another muxer made (a remote backend's output)
    has no room for it there (PyAV muxes ftyp, free, mdat, moov): appending it after the
    last box validated in c2pa-rs and c2pa-ts, which do not check the place, but is not
    what the specification allows."""
    source = tmp_path / f"in.{fmt}"
    source.write_bytes(video(fmt))
    original = source.read_bytes()
    signed = signer.sign_file(SPEC, source, tmp_path / f"out.{fmt}", mime)
    out = (tmp_path / f"out.{fmt}").read_bytes()
    assert verifier.verify_bytes(out).status == "trusted"
    assert source.read_bytes() == original
    boxes = top_level_boxes(out)
    kinds = [kind for kind, _, _ in boxes]
    uuids = [(i, out[at + 8 : at + 24]) for i, (kind, at, _) in enumerate(boxes) if kind == b"uuid"]
    assert [user_type for _, user_type in uuids] == [embeddable.C2PA_UUID]
    assert kinds[0] == b"ftyp" and uuids[0][0] < min(kinds.index(b"moov"), kinds.index(b"mdat"))
    assert [f.tobytes() for f in decoded(tmp_path / f"out.{fmt}")] == [
        f.tobytes() for f in decoded(source)
    ]  # the same pictures: every chunk offset moved with its media
    assert signed.sha256 == hashlib.sha256(out).hexdigest()
    assert signed.manifest[4:8] == b"jumb"  # the store alone, for the repository


def test_move_makes_the_source_the_output(signer, verifier, tmp_path):
    source = tmp_path / "in.mp4"
    source.write_bytes(video("mp4"))
    signer.sign_file(SPEC, source, tmp_path / "out.mp4", "video/mp4", move=True)
    assert not source.exists()
    assert verifier.verify_file(tmp_path / "out.mp4").status == "trusted"


def test_an_independent_validator_checks_the_signature_and_the_hash(signer, tmp_path):
    source = tmp_path / "in.mp4"
    source.write_bytes(video("mp4"))
    signer.sign_file(SPEC, source, tmp_path / "out.mp4", "video/mp4")
    result = c2pa_ts(tmp_path / "out.mp4")
    assert result["valid"], result
    assert {"claimSignature.validated", "assertion.bmffHash.match"} <= set(result["codes"])
    data = bytearray((tmp_path / "out.mp4").read_bytes())
    _, mdat_at, _ = next(b for b in top_level_boxes(bytes(data)) if b[0] == b"mdat")
    data[mdat_at + 64] ^= 0xFF  # one bit of picture changed
    (tmp_path / "tampered.mp4").write_bytes(bytes(data))
    tampered = c2pa_ts(tmp_path / "tampered.mp4")
    assert not tampered["valid"] and "assertion.bmffHash.mismatch" in tampered["codes"]


@pytest.mark.parametrize("room", [False, True], ids=["room-made", "in-the-room"])
def test_a_signature_that_fails_leaves_the_source_as_it_was(chain, tmp_path, room):
    def refuse(data: bytes) -> bytes:
        raise PermissionError("the HSM refused")

    broken = C2paManifestSigner(CallbackSigner(refuse, chain.chain.read_text()))
    source = tmp_path / "in.mp4"
    if room:
        write_mp4([np.zeros((32, 32, 3), np.uint8)] * 4, source, fps=4)
    else:
        source.write_bytes(video("mp4"))
    original = source.read_bytes()
    with pytest.raises(embeddable.EmbeddingError, match="signing"):
        broken.sign_file(SPEC, source, tmp_path / "out.mp4", "video/mp4", move=True)
    assert source.read_bytes() == original and not (tmp_path / "out.mp4").exists()


def test_a_video_that_already_carries_a_manifest_is_signed_the_ordinary_way(
    signer, verifier, tmp_path
):
    source = tmp_path / "in.mp4"
    source.write_bytes(video("mp4"))
    signer.sign_file(SPEC, source, tmp_path / "once.mp4", "video/mp4")
    signed = signer.sign_file(SPEC, tmp_path / "once.mp4", tmp_path / "twice.mp4", "video/mp4")
    twice = (tmp_path / "twice.mp4").read_bytes()
    assert verifier.verify_bytes(twice).status == "trusted"
    uuids = [b for b in top_level_boxes(twice) if b[0] == b"uuid"]
    assert len(uuids) == 1  # replaced, not stacked behind the first
    assert signed.sha256 == hashlib.sha256(twice).hexdigest()


def test_a_box_that_lies_about_its_size_is_not_signed_in_place(tmp_path):
    data = bytearray(video("mp4"))
    kind, at, size = top_level_boxes(bytes(data))[-1]
    data[at : at + 4] = struct.pack(">I", size + 1000)  # claims bytes the file lacks
    (tmp_path / "liar.mp4").write_bytes(bytes(data))
    with open(tmp_path / "liar.mp4", "rb") as f, pytest.raises(embeddable.EmbeddingUnavailable):
        embeddable._placement(f, len(data), 100)


def test_a_library_without_the_flow_is_named_and_signing_falls_back(
    signer, verifier, tmp_path, monkeypatch
):
    monkeypatch.setattr(embeddable, "_native", None)
    monkeypatch.setitem(embeddable._FUNCTIONS, "c2pa_builder_no_such_call", (None, []))
    with pytest.raises(embeddable.EmbeddingUnavailable, match="c2pa_builder_no_such_call"):
        embeddable.native()
    source = tmp_path / "in.mp4"
    source.write_bytes(video("mp4"))
    signed = signer.sign_file(SPEC, source, tmp_path / "out.mp4", "video/mp4", move=True)
    assert verifier.verify_file(tmp_path / "out.mp4").status == "trusted"
    assert signed.sha256 == hashlib.sha256((tmp_path / "out.mp4").read_bytes()).hexdigest()
    monkeypatch.setattr(embeddable, "_native", None)  # the next test loads the real one


def test_the_finishing_pass_moves_moov_first_and_leaves_room_without_changing_a_frame(tmp_path):
    muxed = tmp_path / "muxed.mp4"
    muxed.write_bytes(video("mp4"))  # ffmpeg's order: ftyp, free, mdat, moov
    finish_mp4(muxed, tmp_path / "out.mp4")
    with open(tmp_path / "out.mp4", "rb") as f:
        size = f.seek(0, 2)
        kinds = [(b.kind, b.size) for b in embeddable.top_level_boxes(f, size)]
    assert [k for k, _ in kinds] == [b"ftyp", b"free", b"moov", b"mdat"]
    assert kinds[1][1] == MANIFEST_RESERVE
    before, after = decoded(muxed), decoded(tmp_path / "out.mp4")
    assert len(after) == len(before) == 8
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_our_outputs_take_the_manifest_after_ftyp_in_the_room_left_for_it(
    signer, verifier, tmp_path
):
    frames = [np.full((64, 96, 3), 40 * i, np.uint8) for i in range(6)]
    write_mp4(frames, tmp_path / "in.mp4", fps=6)
    unsigned = decoded(tmp_path / "in.mp4")
    size = (tmp_path / "in.mp4").stat().st_size
    signed = signer.sign_file(SPEC, tmp_path / "in.mp4", tmp_path / "out.mp4", "video/mp4")
    out = tmp_path / "out.mp4"
    assert out.stat().st_size == size  # written into the room: nothing moved, nothing added
    data = out.read_bytes()
    kinds = [b[0] for b in top_level_boxes(data)]
    assert kinds == [b"ftyp", b"uuid", b"free", b"moov", b"mdat"]
    assert verifier.verify_file(out).status == "trusted"
    assert signed.sha256 == hashlib.sha256(data).hexdigest()
    assert all(np.array_equal(a, b) for a, b in zip(unsigned, decoded(out), strict=True))
    result = c2pa_ts(out)
    assert result["valid"] and "assertion.bmffHash.match" in result["codes"], result


def test_a_manifest_bigger_than_the_room_gets_a_bigger_room(signer, verifier, tmp_path):
    (tmp_path / "muxed.mp4").write_bytes(video("mp4"))
    finish_mp4(tmp_path / "muxed.mp4", tmp_path / "in.mp4", reserve=1024)
    signer.sign_file(SPEC, tmp_path / "in.mp4", tmp_path / "out.mp4", "video/mp4")
    kinds = [b[0] for b in top_level_boxes((tmp_path / "out.mp4").read_bytes())]
    assert kinds == [b"ftyp", b"uuid", b"free", b"moov", b"mdat"]
    assert verifier.verify_file(tmp_path / "out.mp4").status == "trusted"

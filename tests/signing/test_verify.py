"""The verifier against other vendors' real files: report on every one, trust none."""

from pathlib import Path

import pytest

from media.sniff import sniff_mime
from signing.keys import init_dev_chain
from signing.report import INVALID, NO_MANIFEST, TRUSTED, VALID_UNTRUSTED
from signing.verify import Verifier
from tests.support import C2PA_FILES, video

FILES = sorted(C2PA_FILES.iterdir()) if C2PA_FILES.exists() else []


@pytest.mark.skipif(not FILES, reason=f"third-party test media not found at {C2PA_FILES}")
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_third_party_files_get_a_report_and_are_never_trusted_by_our_anchors(path: Path, tmp_path):
    from signing.keys import init_dev_chain

    anchors = init_dev_chain(tmp_path).root_cert.read_text()
    report = Verifier(anchors).verify_file(path)
    assert report.status in (VALID_UNTRUSTED, INVALID, NO_MANIFEST)
    assert report.status != TRUSTED and report.summary
    if report.status == INVALID and report.active_manifest:
        assert report.failures


def test_known_third_party_outcomes():
    if not FILES:
        pytest.skip("third-party test media not found")
    v = Verifier(None)
    assert v.verify_file(C2PA_FILES / "CACA.jpg").status == VALID_UNTRUSTED
    bad = v.verify_file(C2PA_FILES / "adobe-20220124-E-clm-CAICAI.jpg")
    assert bad.status == INVALID
    assert "assertion.hashedURI.mismatch" in [f["code"] for f in bad.failures]
    assert v.verify_file(C2PA_FILES / "IMG_0003.jpg").status == NO_MANIFEST
    remote = v.verify_file(C2PA_FILES / "cloud.jpg")
    assert remote.status == NO_MANIFEST and "remote" in remote.summary


@pytest.mark.parametrize("data", [b"", b"hello", b"\xff\xd8\xff" + b"\0" * 50, b"RIFF\0\0\0\0WEBP"])
def test_garbage_gets_a_report_not_an_exception(data):
    report = Verifier(None).verify_bytes(data)
    assert report.status in (NO_MANIFEST, INVALID)


def test_sniff_mime():
    assert sniff_mime(b"\x00\x00\x00\x18ftypisom") == "video/mp4"
    assert sniff_mime(b"\x00\x00\x00\x14ftypqt  ") == "video/quicktime"
    assert sniff_mime(b"\x89PNG\r\n\x1a\n") == "image/png"
    assert sniff_mime(b"nothing") == ""


def box(kind: bytes, body: bytes = b"", size: int | None = None) -> bytes:
    import struct

    return struct.pack(">I", len(body) + 8 if size is None else size) + kind + body


@pytest.mark.parametrize(
    "data",
    [
        box(b"ftyp", b"isom\0\0\0\0") + box(b"moov", size=4),  # size smaller than its header
        box(b"ftyp", b"isom\0\0\0\0", size=1) + b"\xff" * 8,  # 64-bit size past the end
        box(b"ftyp", b"isom\0\0\0\0") + box(b"mdat", size=0),  # "to end of file", empty
        box(b"ftyp", b"isom\0\0\0\0")
        + b"".join(box(b"moov", size=8 + 8 * (400 - i)) for i in range(400)),  # deep nesting
        box(b"ftyp", b"isom\0\0\0\0")
        + box(
            b"uuid",
            b"\xd8\xfe\xc3\xd6\x1b\x0e\x48\x3c\x92\x97\x58\x28\x87\x7e\xc4\x81" + b"\0" * 40,
        ),
    ],
    ids=["short-box", "huge-largesize", "empty-to-end", "deep-nesting", "fake-c2pa-uuid"],
)
def test_pathological_mp4_boxes_get_a_report(data):
    report = Verifier(None).verify_bytes(data, "video/mp4")
    assert report.status in (NO_MANIFEST, INVALID) and report.summary


def test_mutated_signed_files_never_crash_and_truncations_never_verify(tmp_path, coffee):
    import random

    from signing.manifest import C2paManifestSigner, ManifestSpec
    from signing.signer import KeyFileSigner
    from tests.support import encode

    chain = init_dev_chain(tmp_path)
    signer = C2paManifestSigner(KeyFileSigner(chain.key, chain.chain))
    verifier = Verifier(chain.root_cert.read_text())
    rng = random.Random(0)
    for mime, original in [("image/jpeg", encode(coffee, "JPEG")), ("video/mp4", video("mp4"))]:
        signed = signer.sign_bytes(
            ManifestSpec("m", "t", "1", "m", {"action": "allow"}), original, mime
        )
        for _ in range(40):
            mutated = bytearray(signed)
            for _ in range(rng.randint(1, 8)):
                mutated[rng.randrange(len(mutated))] = rng.randrange(256)
            report = verifier.verify_bytes(bytes(mutated), mime)
            assert report.status in (TRUSTED, VALID_UNTRUSTED, INVALID, NO_MANIFEST)
        for cut in (10, len(signed) // 3, len(signed) - 1):
            assert verifier.verify_bytes(signed[:cut], mime).status != TRUSTED

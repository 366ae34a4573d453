"""The verifier against other vendors' real files: report on every one, trust none."""

from pathlib import Path

import pytest

from signing.verify import INVALID, NO_MANIFEST, TRUSTED, VALID_UNTRUSTED, Verifier, sniff_mime
from tests.support import C2PA_FILES

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

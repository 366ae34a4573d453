"""Verifying hostile provenance costs bounded time and memory (signing/report.py), tried
through the real server's Provenance.Verify."""

from __future__ import annotations

import json

import pytest

from reelguard.v1 import reelguard_pb2 as pb
from safety.service.fuzz import flat_png, provenance_chain


def _nodes(node: dict | None) -> int:
    return 0 if not node else 1 + sum(_nodes(i["manifest"]) for i in node["ingredients"])


def test_a_manifest_named_many_times_over_is_reported_once(running, tmp_path):
    """Eight levels of four: 21,845 manifest nodes expanded as a tree (ten levels took
    11 s and 570 MB); each manifest is now expanded once, repeats are references."""
    data = provenance_chain(tmp_path, 8)
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=data)))
    tree = json.loads(report.report_json)["manifest"]
    assert report.status == pb.VerifyReport.VALID_UNTRUSTED
    assert _nodes(tree) <= 4 * 8  # 8 expanded, and the repeats as references
    assert tree["ingredients"][1]["manifest"]["repeated"]


def test_provenance_past_the_depth_bound_is_invalid_with_a_reason(running, tmp_path):
    report = running.provenance.Verify(
        pb.VerifyRequest(media=pb.Media(data=provenance_chain(tmp_path, 18)))
    )
    assert report.status == pb.VerifyReport.INVALID
    assert "too large to verify (ingredients nested more than 16 levels deep)" in report.summary


@pytest.fixture(scope="module")
def huge_png() -> bytes:
    """10000×10000, flat: 100 KB on the wire, 300 MB decoded (over the 40 MP ceiling)."""
    return flat_png(10_000, 10_000)


def test_a_picture_past_the_upload_ceiling_is_not_decoded_to_look_it_up(running, huge_png):
    """Verify looks a stripped copy up by fingerprint; that decode had no pixel ceiling."""
    from media.lookup import decode_for_lookup

    assert decode_for_lookup(huge_png, "image/png", max_image_pixels=40_000_000) is None
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=huge_png)))
    assert report.status == pb.VerifyReport.NO_MANIFEST

"""Verifying hostile provenance costs bounded time and memory (signing/report.py), tried
through the real server's Provenance.Verify."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from signing.keys import init_dev_chain
from signing.manifest import C2paManifestSigner, Ingredient, ManifestSpec
from signing.signer import KeyFileSigner


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def diamond_chain(keys_dir, levels: int) -> bytes:
    """A file whose manifest names the previous level's file four times, `levels` deep:
    a dozen manifests, but 4^levels of them expanded as a tree."""
    paths = init_dev_chain(keys_dir, overwrite=True)
    signer = C2paManifestSigner(KeyFileSigner(paths.key, paths.chain))
    data = small = _jpeg()
    for level in range(levels):
        ingredients = [Ingredient(f"l{level}-{i}.jpg", "image/jpeg", data) for i in range(4)]
        spec = ManifestSpec(f"level{level}.jpg", "x", "1", "m", {}, ingredients if level else [])
        data = signer.sign_bytes(spec, small, "image/jpeg")
    return data


def _nodes(node: dict | None) -> int:
    return 0 if not node else 1 + sum(_nodes(i["manifest"]) for i in node["ingredients"])


def test_a_manifest_named_many_times_over_is_reported_once(running, tmp_path):
    """Eight levels of four: 21,845 manifest nodes expanded as a tree (ten levels took
    11 s and 570 MB); each manifest is now expanded once, repeats are references."""
    data = diamond_chain(tmp_path, 8)
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=data)))
    tree = json.loads(report.report_json)["manifest"]
    assert report.status == pb.VerifyReport.VALID_UNTRUSTED
    assert _nodes(tree) <= 4 * 8  # 8 expanded, and the repeats as references
    assert tree["ingredients"][1]["manifest"]["repeated"]


def test_provenance_past_the_depth_bound_is_invalid_with_a_reason(running, tmp_path):
    report = running.provenance.Verify(
        pb.VerifyRequest(media=pb.Media(data=diamond_chain(tmp_path, 18)))
    )
    assert report.status == pb.VerifyReport.INVALID
    assert "too large to verify (ingredients nested more than 16 levels deep)" in report.summary


@pytest.fixture(scope="module")
def flat_png() -> bytes:
    """A 10000×10000 flat PNG: 100 KB on the wire, 300 MB decoded (over the uploads'
    40 MP ceiling); built row by row, never whole in memory."""
    import struct
    import zlib

    width = height = 10_000
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


def test_a_picture_past_the_upload_ceiling_is_not_decoded_to_look_it_up(running, flat_png):
    """Verify looks a stripped copy up by fingerprint; that decode had no pixel ceiling."""
    from media.lookup import decode_for_lookup

    assert decode_for_lookup(flat_png, "image/png", max_image_pixels=40_000_000) is None
    report = running.provenance.Verify(pb.VerifyRequest(media=pb.Media(data=flat_png)))
    assert report.status == pb.VerifyReport.NO_MANIFEST

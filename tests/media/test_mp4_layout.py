"""The finishing pass over an MP4's top-level layout, on hostile files: a remote
backend's output reaches it when it is signed (signing gives it room for the manifest),
so every lie in its boxes must end in a ValueError, in bounded time, never a crash or a
wrong offset."""

from __future__ import annotations

import struct

import pytest

from media.mp4 import MANIFEST_RESERVE, finish_mp4


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def foreign(moov_body: bytes) -> bytes:
    """ftyp, mdat, moov (ffmpeg's order) around `moov_body`."""
    return box(b"ftyp", b"isom\0\0\2\0isomiso2") + box(b"mdat", bytes(64)) + box(b"moov", moov_body)


def stco(offsets: list[int], kind: bytes = b"stco", count: int | None = None) -> bytes:
    fmt = ">I" if kind == b"stco" else ">Q"
    entries = b"".join(struct.pack(fmt, o) for o in offsets)
    return box(
        kind, bytes(4) + struct.pack(">I", len(offsets) if count is None else count) + entries
    )


def sample_table(table: bytes) -> bytes:
    """`table` at its place: moov/trak/mdia/minf/stbl."""
    for kind in (b"stbl", b"minf", b"mdia", b"trak"):
        table = box(kind, table)
    return table


def test_containers_nested_past_a_sample_table_are_refused_not_recursed(tmp_path):
    nested = stco([40])
    for _ in range(5000):  # deeper than Python's recursion limit
        nested = box(b"trak", nested)
    (tmp_path / "in.mp4").write_bytes(foreign(nested))
    with pytest.raises(ValueError, match="deeper than a sample table"):
        finish_mp4(tmp_path / "in.mp4", tmp_path / "out.mp4")


@pytest.mark.parametrize(
    "table, why",
    [
        (stco([40], count=1_000_000), "claims more entries"),
        (stco([2**32 - 10]), "moves out of what stco holds"),
        (stco([2**64 - 1], kind=b"co64"), "moves out of what co64 holds"),
        (box(b"stco", bytes(2)), "too short"),
    ],
    ids=["count", "past-4GB", "co64-wraps", "short"],
)
def test_a_chunk_table_that_lies_is_refused(tmp_path, table, why):
    (tmp_path / "in.mp4").write_bytes(foreign(sample_table(table)))
    with pytest.raises(ValueError, match=why):
        finish_mp4(tmp_path / "in.mp4", tmp_path / "out.mp4")


def test_every_chunk_offset_moves_with_the_media(tmp_path):
    """co64 as well as stco: each entry still points at the same media bytes."""
    source = foreign(sample_table(stco([40, 72]) + stco([56], kind=b"co64")))
    (tmp_path / "in.mp4").write_bytes(source)
    finish_mp4(tmp_path / "in.mp4", tmp_path / "out.mp4")
    out = (tmp_path / "out.mp4").read_bytes()
    mdat_at = out.index(b"mdat") - 4
    assert mdat_at == len(box(b"ftyp", b"isom\0\0\2\0isomiso2")) + MANIFEST_RESERVE + len(
        box(b"moov", sample_table(stco([40, 72]) + stco([56], kind=b"co64")))
    )
    at = out.index(b"stco") + 12
    assert struct.unpack(">II", out[at : at + 8]) == (40 - 24 + mdat_at, 72 - 24 + mdat_at)
    at = out.index(b"co64") + 12
    assert struct.unpack(">Q", out[at : at + 8]) == (56 - 24 + mdat_at,)

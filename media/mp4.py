"""MP4 layout: the pass that finishes a muxed file, and the walk over its top-level boxes.

ffmpeg's `faststart` moves `moov` before `mdat` in a second pass over the file. This pass
does the same and also reserves `MANIFEST_RESERVE` bytes as a `free` box right after
`ftyp`: the usual place of a C2PA manifest (after `ftyp`, before `moov`), where
signing/embeddable.py later writes it in place — no chunk offset moves at signing time
and the file is not copied again.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

MANIFEST_RESERVE = 64 * 1024  # a manifest with a few ingredients is 13-40 KB
_CONTAINERS = (b"moov", b"trak", b"mdia", b"minf", b"stbl")  # the path to stco/co64


@dataclass(frozen=True)
class Box:
    kind: bytes
    at: int
    size: int


def top_level_boxes(f: BinaryIO, size: int) -> list[Box]:
    """The file's top-level boxes; ValueError for a box whose size runs past the file or
    to its end (size 0), which no offset arithmetic can trust."""
    boxes, at = [], 0
    while at < size:
        f.seek(at)
        header = f.read(16)
        if len(header) < 8:
            raise ValueError(f"truncated box header at {at}")
        box_size, kind = struct.unpack(">I4s", header[:8])
        if box_size == 1 and len(header) == 16:
            box_size = struct.unpack(">Q", header[8:16])[0]
        if box_size < 8 or at + box_size > size:
            raise ValueError(f"box {kind!r} at {at} has no usable size ({box_size})")
        boxes.append(Box(kind, at, box_size))
        at += box_size
    return boxes


def _shift_chunk_offsets(data: bytearray, start: int, end: int, delta: int) -> int:
    """Add `delta` to every stco/co64 entry in the boxes of data[start:end] (descending
    into the containers on the way to them); returns how many tables were shifted."""
    shifted = 0
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        if size < 8 or at + size > end:
            raise ValueError(f"moov holds a box {kind!r} with no usable size")
        if kind in _CONTAINERS:
            shifted += _shift_chunk_offsets(data, at + 8, at + size, delta)
        elif kind in (b"stco", b"co64"):
            (count,) = struct.unpack_from(">I", data, at + 12)
            fmt, width = (">I", 4) if kind == b"stco" else (">Q", 8)
            if 16 + count * width > size:
                raise ValueError(f"{kind.decode()} claims more entries than it holds")
            for i in range(count):
                pos = at + 16 + i * width
                (offset,) = struct.unpack_from(fmt, data, pos)
                if kind == b"stco" and offset + delta >= 2**32:
                    raise ValueError("a chunk offset passes 4 GB in a 32-bit stco table")
                struct.pack_into(fmt, data, pos, offset + delta)
            shifted += 1
        at += size
    return shifted


def finish_mp4(muxed: Path, out: Path, reserve: int = MANIFEST_RESERVE) -> None:
    """Write `muxed` (ftyp, mdat, moov: ffmpeg's order) to `out` as ftyp, free(reserve),
    moov, mdat — the chunk offsets moved with the media data."""
    size = muxed.stat().st_size
    with open(muxed, "rb") as src:
        boxes = top_level_boxes(src, size)
        kinds = [b.kind for b in boxes]
        extra = set(kinds) - {b"ftyp", b"mdat", b"moov", b"free", b"skip"}
        if kinds[:1] != [b"ftyp"] or kinds.count(b"mdat") != 1 or kinds.count(b"moov") != 1:
            raise ValueError(f"unexpected MP4 layout {[k.decode() for k in kinds]}")
        if extra:
            raise ValueError(f"unexpected top-level boxes {sorted(k.decode() for k in extra)}")
        ftyp, mdat, moov = (
            next(b for b in boxes if b.kind == k) for k in (b"ftyp", b"mdat", b"moov")
        )
        src.seek(ftyp.at)
        head = src.read(ftyp.size)
        src.seek(moov.at)
        moov_bytes = bytearray(src.read(moov.size))
        new_mdat_at = ftyp.size + reserve + moov.size
        _shift_chunk_offsets(moov_bytes, 0, len(moov_bytes), new_mdat_at - mdat.at)
        with open(out, "wb") as dst:
            dst.write(head)
            dst.write(struct.pack(">I4s", reserve, b"free") + bytes(reserve - 8))
            dst.write(moov_bytes)
            _copy_range(src, dst, mdat.at, mdat.size)


def _copy_range(src: BinaryIO, dst: BinaryIO, at: int, length: int) -> None:
    """`length` bytes of `src` from `at`, appended to `dst`: in the kernel where it can."""
    dst.flush()
    try:
        while length > 0:
            n = os.copy_file_range(src.fileno(), dst.fileno(), length, at)
            if n == 0:
                raise ValueError("the muxed file ended early")
            at, length = at + n, length - n
        dst.seek(0, os.SEEK_END)
    except (AttributeError, OSError):  # no copy_file_range here: copy through memory
        src.seek(at)
        dst.seek(0, os.SEEK_END)
        shutil.copyfileobj(_Limited(src, length), dst, 1 << 20)


class _Limited:
    def __init__(self, f: BinaryIO, length: int) -> None:
        self._f, self._left = f, length

    def read(self, n: int = -1) -> bytes:
        n = self._left if n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data


def write_mp4(frames: Iterable[np.ndarray], out_path: Path, fps: int, crf: int = 20) -> None:
    """Encode RGB frames as H.264 (yuv420p) — plays everywhere — with `moov` first and
    room for the C2PA manifest after `ftyp` (`finish_mp4`), where it is signed in place."""
    muxed = out_path.with_name(out_path.name + ".mux")
    try:
        with av.open(str(muxed), "w", format="mp4") as out:
            stream = None
            for frame in frames:
                if stream is None:
                    stream = out.add_stream("libx264", rate=fps)
                    stream.height, stream.width = frame.shape[:2]
                    stream.pix_fmt = "yuv420p"
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    out.mux(packet)
            if stream is None:
                raise ValueError("no frames to encode")
            for packet in stream.encode():
                out.mux(packet)
        finish_mp4(muxed, out_path)
    finally:
        muxed.unlink(missing_ok=True)


def read_blocks(path: Path, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of a file in blocks: how a video is streamed to another process."""
    with open(path, "rb") as f:
        offset = 0
        while block := f.read(size):
            yield offset, block
            offset += len(block)

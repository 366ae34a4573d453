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


def _shift_chunk_offsets(data: bytearray, start: int, end: int, delta: int, depth: int = 0) -> int:
    """Add `delta` to every stco/co64 entry in the boxes of data[start:end] (descending
    into the containers on the way to them, moov/trak/mdia/minf/stbl and no deeper: a
    file that nests them further is refused, not recursed into); returns how many tables
    were shifted."""
    shifted = 0
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        if size < 8 or at + size > end:
            raise ValueError(f"moov holds a box {kind!r} with no usable size")
        if kind in _CONTAINERS:
            if depth >= len(_CONTAINERS):
                raise ValueError(f"moov nests {kind.decode()} deeper than a sample table")
            shifted += _shift_chunk_offsets(data, at + 8, at + size, delta, depth + 1)
        elif kind in (b"stco", b"co64"):
            if size < 16:
                raise ValueError(f"{kind.decode()} is too short to hold its count")
            (count,) = struct.unpack_from(">I", data, at + 12)
            dtype, limit = (np.dtype(">u4"), 2**32) if kind == b"stco" else (np.dtype(">u8"), 2**63)
            if 16 + count * dtype.itemsize > size:
                raise ValueError(f"{kind.decode()} claims more entries than it holds")
            table = np.frombuffer(data, dtype, count, at + 16)
            if count and not (0 <= int(table.min()) + delta and int(table.max()) + delta < limit):
                raise ValueError(f"a chunk offset moves out of what {kind.decode()} holds")
            moved = (table.astype(np.int64) + delta).astype(dtype)
            data[at + 16 : at + 16 + count * dtype.itemsize] = moved.tobytes()
            shifted += 1
        at += size
    return shifted


def finish_mp4(muxed: Path, out: Path, reserve: int = MANIFEST_RESERVE) -> None:
    """Write `muxed` (ftyp, mdat, moov: ffmpeg's order) to `out` as ftyp, free(reserve),
    moov, mdat — the chunk offsets moved with the media data; free space boxes (`free`,
    `skip`, QuickTime's `wide`) are dropped. Any other layout is a ValueError."""
    size = muxed.stat().st_size
    with open(muxed, "rb") as src:
        boxes = top_level_boxes(src, size)
        kinds = [b.kind for b in boxes]
        extra = set(kinds) - {b"ftyp", b"mdat", b"moov", b"free", b"skip", b"wide"}
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


def video_edits(data: bytes) -> list[tuple[int, float]] | None:
    """The edit list (`elst`) of an MP4/MOV's first video track as (media time, rate)
    per entry, media time -1 for an empty edit; [] for a track without one; None when
    the boxes cannot be walked (the demuxer judges such a file)."""
    try:
        track = _video_track(data)
        if track is None:
            return None
        edts = _child(data, *track[0], b"edts", required=False)
        elst = _child(data, *edts, b"elst", required=False) if edts else None
        return _edits(data[elst[0] : elst[1]]) if elst else []
    except (ValueError, struct.error):
        return None


def clean_aperture(data: bytes) -> tuple[float, float, float, float] | None:
    """The clean aperture (`clap`) of an MP4/MOV's first video sample entry as (width,
    height, horizontal offset, vertical offset) in pixels, offsets from the centre;
    None without one, or when the boxes cannot be walked."""
    try:
        track = _video_track(data)
        if track is None:
            return None
        stbl = _child(data, *_child(data, *_child(data, *track[1], b"minf"), b"stbl"), b"stsd")
        kind = data[stbl[0] + 12 : stbl[0] + 16]
        (entry,) = _children(data, stbl[0] + 8, stbl[1], kind)[:1]
        # A visual sample entry's own fields take 78 bytes; its boxes follow.
        clap = _child(data, entry[0] + 78, entry[1], b"clap", required=False)
        if clap is None:
            return None
        n = struct.unpack_from(">IIIIiIiI", data, clap[0])
        if 0 in n[1::2]:
            return None
        return n[0] / n[1], n[2] / n[3], n[4] / n[5], n[6] / n[7]
    except (ValueError, struct.error):
        return None


def _video_track(data: bytes) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """(start, end) of the first video track's `trak` box body and of its `mdia`."""
    for trak in _children(data, *_child(data, 0, len(data), b"moov"), b"trak"):
        mdia = _child(data, *trak, b"mdia")
        handler = _child(data, *mdia, b"hdlr")
        if data[handler[0] + 8 : handler[0] + 12] == b"vide":
            return trak, mdia
    return None


def _edits(body: bytes) -> list[tuple[int, float]]:
    version, count = body[0], struct.unpack(">I", body[4:8])[0]
    entry, fmt = (20, ">QqhH") if version == 1 else (12, ">IihH")
    if 8 + count * entry > len(body):
        raise ValueError("edit list runs past its box")
    out = []
    for i in range(count):
        _, media_time, whole, fraction = struct.unpack_from(fmt, body, 8 + i * entry)
        out.append((media_time, whole + fraction / 65536))
    return out


def _children(data: bytes, start: int, end: int, kind: bytes) -> list[tuple[int, int]]:
    """(body start, end) of each child box of `kind` in data[start:end]."""
    found, at = [], start
    while at + 8 <= end:
        size, name = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError(f"box {name!r} at {at} has no usable size")
        if name == kind:
            found.append((at + header, at + size))
        at += size
    return found


def _child(data: bytes, start: int, end: int, kind: bytes, required: bool = True):
    found = _children(data, start, end, kind)
    if not found and required:
        raise ValueError(f"no {kind!r} box")
    return found[0] if found else None

"""Frames of a copy that lost its manifest, read within bounds, to look it up by
fingerprint (safety/provenance/recovery.py): the file is untrusted (anyone can send one
to Verify), so the work it can cause is bounded whatever it holds or claims."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image

# Frames bigger than this are scaled down for lookup (outputs are at most 1280 px a side,
# so no watermark is lost; PDQ works on a downscaled image anyway).
MAX_LOOKUP_PIXELS = 1920 * 1088
# Frames bigger than this are not decoded at all: no output of ours is, and one such
# frame of a hostile file costs 48 MB or more.
MAX_DECODE_PIXELS = 4096 * 4096


def decode_for_lookup(
    data: bytes,
    mime_type: str,
    max_frames: int = 16,
    max_decoded: int = 3000,
    max_image_pixels: int = MAX_DECODE_PIXELS,
) -> list[tuple[float, np.ndarray]] | None:
    """The frames of a copy with no manifest (at most `max_frames`, spread evenly; an
    image is one frame), or None if it is not media we can read within the bounds.

    Bounded work for hostile input: an image over `max_image_pixels` (the uploads'
    ceiling: a 13000² flat PNG is 680 MB decoded) is not decoded at all; for video,
    frame sizes checked before decoding (the container's claim, then each frame's own),
    at most `max_decoded` frames decoded, and never more than 2 × `max_frames` kept in
    memory however many the file holds or claims to hold."""
    try:
        if mime_type.startswith("video/"):
            with av.open(io.BytesIO(data)) as container:
                stream = container.streams.video[0]
                claimed = stream.codec_context
                if claimed is None or claimed.width * claimed.height > MAX_DECODE_PIXELS:
                    return None
                return _spread_frames(container.decode(stream), max_frames, max_decoded)
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > max_image_pixels:  # from the header, before decoding
                return None
            img.thumbnail((1024, 1024))  # PDQ downsamples anyway; images carry no watermark
            return [(0.0, np.asarray(img.convert("RGB")))]
    except Exception:  # not decodable media: there is nothing to look up
        return None


def _spread_frames(decoded, max_frames: int, max_decoded: int) -> list | None:
    """Every `stride`-th frame, the stride doubling whenever 2 × `max_frames` are kept:
    what survives is spread evenly over however many frames there were, and only kept
    frames are ever converted to RGB."""
    kept: list[tuple[float, np.ndarray]] = []
    stride = 1
    for i, frame in enumerate(decoded):
        if i >= max_decoded or frame.width * frame.height > MAX_DECODE_PIXELS:
            break
        if i % stride:
            continue
        if frame.width * frame.height > MAX_LOOKUP_PIXELS:  # bound the memory
            scale = (MAX_LOOKUP_PIXELS / (frame.width * frame.height)) ** 0.5
            frame = frame.reformat(
                int(frame.width * scale) // 2 * 2, int(frame.height * scale) // 2 * 2
            )
        kept.append((float(frame.time or 0.0), frame.to_ndarray(format="rgb24")))
        if len(kept) >= 2 * max_frames:
            kept, stride = kept[::2], stride * 2
    step = -(-len(kept) // max_frames)  # ceil: at most max_frames, spread evenly
    return kept[::step] or None

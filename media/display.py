"""How a player shows a video's frames, beyond what the decoder hands over.

The decoder gives each frame as it is stored. A player then crops it to the clean
aperture the container declares, stretches it to its pixel aspect ratio, and turns and
mirrors it as the track's display matrix says; an edit list decides which frames play,
in which order, for how long. Checks look at what the player shows (`upright`), or the
file is refused where showing it so cannot be promised (`check_edits`).
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np
from PIL import Image

from media import InvalidMedia
from media.mp4 import clean_aperture, video_edits


@dataclass(frozen=True)
class Display:
    """What a player applies to every frame of a stream: the pixel aspect ratio (width
    of a pixel, its height being 1) and the clean aperture (x, y, width, height of the
    coded frame that is shown), from `display_of`."""

    aspect: float = 1.0
    crop: tuple[int, int, int, int] | None = None


PLAIN = Display()
# A camera's pixels are at most this far from square (anamorphic lenses: 2:1); a stream
# claiming more is refused rather than blown up to its display width.
MAX_PIXEL_ASPECT = 4.0


def display_of(stream, source: bytes | None = None, label: str = "video") -> Display:
    """The stream's Display: its sample aspect ratio (the container's, else the
    bitstream's) and, for uploaded bytes, the clean aperture of an MP4/MOV sample entry
    (`clap`), which the decoder does not apply."""
    sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
    aspect = float(sar) if sar and sar.numerator > 0 and sar.denominator > 0 else 1.0
    if not 1 / MAX_PIXEL_ASPECT <= aspect <= MAX_PIXEL_ASPECT:
        raise InvalidMedia(
            f"{label} has pixels {aspect:.3g} times as wide as they are high; no camera "
            f"makes that (at most {MAX_PIXEL_ASPECT:g}:1); re-encode it with square pixels"
        )
    aperture = clean_aperture(source) if source is not None else None
    if aperture is None:
        return Display(aspect)
    coded_w, coded_h = stream.codec_context.width, stream.codec_context.height
    width, height, dx, dy = aperture
    x, y = round((coded_w - width) / 2 + dx), round((coded_h - height) / 2 + dy)
    w, h = round(width), round(height)
    if w < 16 or h < 16 or x < 0 or y < 0 or x + w > coded_w or y + h > coded_h:
        raise InvalidMedia(
            f"{label} declares a clean aperture of {width:g}×{height:g} at ({dx:g}, {dy:g}) "
            f"that does not fit its {coded_w}×{coded_h} frames; export it again"
        )
    return Display(aspect, (x, y, w, h))


def upright(
    frame: av.VideoFrame, max_side: int | None = None, display: Display = PLAIN
) -> np.ndarray:
    """RGB pixels as a player shows them: cropped to the clean aperture, at the pixel
    aspect ratio (a frame coded 3× narrower is checked at its display shape), then turned
    and mirrored as the frame's display matrix says (a phone video shot sideways shows
    faces the right way up; a mirrored copy shows its displayed side), scaled to at most
    `max_side` px a side when given (by the decoder's scaler when nothing is cropped)."""
    transpose, flip_rows, flip_cols = display_turn(frame)  # read first: reformat drops it
    x, y, w, h = display.crop or (0, 0, frame.width, frame.height)
    width, height = w * display.aspect, float(h)
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    size = max(2, round(width * scale)), max(2, round(height * scale))
    if display.crop is not None:
        shown = frame.to_ndarray(format="rgb24")[y : y + h, x : x + w]
        pixels = np.asarray(Image.fromarray(shown).resize(size, Image.Resampling.BILINEAR))
    elif size != (frame.width, frame.height):
        pixels = frame.reformat(width=size[0], height=size[1], format="rgb24").to_ndarray()
    else:
        pixels = frame.to_ndarray(format="rgb24")
    if transpose:
        pixels = pixels.transpose(1, 0, 2)
    if flip_rows or flip_cols:
        pixels = pixels[:: -1 if flip_rows else 1, :: -1 if flip_cols else 1]
    return np.ascontiguousarray(pixels) if transpose or flip_rows or flip_cols else pixels


def display_turn(frame: av.VideoFrame) -> tuple[bool, bool, bool]:
    """(transpose, flip rows, flip columns) that show a frame as its display matrix says,
    read from the matrix itself: a decoder's rotation angle loses the mirror (a flipped
    copy reads as a 180° turn). The matrix [a b u; c d v; x y w] maps a stored pixel
    (x, y) to (a·x + c·y, b·x + d·y) on screen, as QuickTime defines it. A matrix that
    turns by anything but a right angle is refused (no camera writes one)."""
    matrix = next((bytes(s) for s in frame.side_data if s.type.name == "DISPLAYMATRIX"), None)
    if matrix is None or len(matrix) != 36:
        return False, False, False
    m = np.frombuffer(matrix, "<i4").astype(np.float64) / 65536.0
    a, b, c, d = m[0], m[1], m[3], m[4]
    if abs(b) < 1e-6 and abs(c) < 1e-6 and abs(a) > 1e-6 and abs(d) > 1e-6:
        return False, d < 0, a < 0
    if abs(a) < 1e-6 and abs(d) < 1e-6 and abs(b) > 1e-6 and abs(c) > 1e-6:
        return True, b < 0, c < 0
    raise InvalidMedia(
        f"the video's display matrix turns it by {np.degrees(np.arctan2(b, a)):.1f}°; "
        "only right angles and mirrors are shown as a player would, so it is refused"
    )


def check_edits(data: bytes, label: str) -> None:
    """An MP4/MOV edit list says what plays: which stored frames, in which order, at
    which rate (0 holds one frame on screen). Players honour all of it; the decoder
    reliably only a single segment at rate 1 after an optional delay. So that what is
    sampled is what plays, anything more is refused (no camera or editor's export of
    the people set writes more: 22 of 23 have one segment, one a delay and a segment)."""
    edits = video_edits(data) or []
    while edits and edits[0][0] == -1:  # a leading empty edit: the track starts later
        edits = edits[1:]
    if len(edits) > 1 or any(rate != 1.0 or media_time < 0 for media_time, rate in edits):
        raise InvalidMedia(
            f"{label} has an edit list that plays its frames out of order, repeated or at "
            f"another rate ({len(edits)} segment(s)); export it again without edits"
        )

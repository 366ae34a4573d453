"""Media an attacker builds to be shown one way and stored another: a display matrix that
mirrors, pixels coded narrower than they are shown, frames held for uneven times, colour
profiles and transparency. Shared by the media tests and the service's attacker tests."""

from __future__ import annotations

import io
import struct
from fractions import Fraction

import av
import numpy as np

MIRROR = (-65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)  # x' = -x: shown mirrored left-right
UPSIDE_DOWN = (65536, 0, 0, 0, -65536, 0, 0, 0, 1 << 30)  # y' = -y: shown flipped top-bottom


def stored_video(
    frames: list[np.ndarray],
    *,
    times_ms: list[int] | None = None,
    fps: int = 12,
    matrix: tuple[int, ...] | None = None,
    pixel_aspect: Fraction | None = None,
) -> bytes:
    """An H.264 MP4 of `frames` (RGB, even sizes), each starting at `times_ms` when given
    (a variable frame rate: a frame stays on screen until the next starts), with the
    track's display matrix and the pixels' aspect ratio set as given."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12"}
        if times_ms is not None:
            stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if pixel_aspect is not None:
            stream.codec_context.sample_aspect_ratio = pixel_aspect
        if matrix is not None:
            stream.set_display_matrix(list(matrix))
        for i, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(pixels), format="rgb24")
            if times_ms is not None:
                frame.pts, frame.time_base = times_ms[i], Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def inverting_profile() -> bytes:
    """An ICC v2 RGB display profile whose tone curves run backwards (stored 0 is shown
    as white): a picture stored as its negative is displayed as the positive. sRGB's
    primaries and D50 white, so only the curves differ from an ordinary profile."""

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    shown = np.linspace(1.0, 0.0, 256)  # sRGB-encoded value shown for stored 0..255
    linear = np.where(shown <= 0.04045, shown / 12.92, ((shown + 0.055) / 1.055) ** 2.4)
    curve = (linear * 65535).round().astype(">u2").tobytes()
    trc = b"curv\0\0\0\0" + struct.pack(">I", 256) + curve
    desc_text = b"inverted\0"
    desc = (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(desc_text))
        + desc_text
        + b"\0" * 4  # no Unicode description
        + b"\0" * 4
        + b"\0" * 2
        + b"\0"
        + b"\0" * 67  # no ScriptCode description
    )
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
        (b"cprt", b"text\0\0\0\0public domain\0"),
    ]
    table, body = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + b"\0" * 12  # date
        + b"acsp"
        + b"\0" * 24  # platform, flags, manufacturer, model, attributes
        + b"\0\0\0\0"  # perceptual intent
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def with_profile(pixels: np.ndarray, profile: bytes, fmt: str = "PNG") -> bytes:
    """`pixels` stored as they are, with an ICC profile that says how to show them."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, icc_profile=profile)
    return buf.getvalue()


def hidden_on_white(pixels: np.ndarray) -> bytes:
    """A PNG that is plain white over a white page and shows `pixels` (as grey) over a
    black one: white colour, the picture in the alpha channel."""
    from PIL import Image

    grey = (pixels[..., :3].astype(np.float32) @ [0.299, 0.587, 0.114]).astype(np.uint8)
    rgba = np.dstack([np.full(grey.shape + (3,), 255, np.uint8), grey])
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, "PNG")
    return buf.getvalue()


def with_claim_thumbnail(pixels: np.ndarray, thumbnail: np.ndarray, keys_dir) -> bytes:
    """A JPEG of `pixels` carrying a C2PA manifest (signed by a development chain made in
    `keys_dir`) whose claim thumbnail is `thumbnail`: a picture no viewer of the file
    shows, but one that rides into any manifest that takes the file as an ingredient."""
    import json
    from pathlib import Path

    import c2pa
    from PIL import Image

    from signing.keys import init_dev_chain
    from signing.signer import KeyFileSigner

    def jpeg(a: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "JPEG")
        return buf.getvalue()

    paths = init_dev_chain(Path(keys_dir), overwrite=True)
    key = KeyFileSigner(paths.key, paths.chain)
    definition = {
        "claim_generator_info": [{"name": "elsewhere", "version": "1"}],
        "title": "benign.jpg",
        "thumbnail": {"format": "image/jpeg", "identifier": "thumb.jpg"},
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created"}]}}
        ],
    }
    context = c2pa.Context.from_dict({"verify": {"verify_after_sign": False}})
    out = io.BytesIO()
    with (
        context,
        c2pa.Builder(json.dumps(definition), context=context) as builder,
        c2pa.Signer.from_callback(key.sign, key.alg, key.certificate_chain_pem, None) as signer,
    ):
        builder.add_resource("thumb.jpg", io.BytesIO(jpeg(thumbnail)))
        builder.sign(signer, "image/jpeg", io.BytesIO(jpeg(pixels)), out)
    return out.getvalue()


def with_edits(mp4: bytes, entries: list[tuple[int, int, float]]) -> bytes:
    """`mp4` (moov after mdat, as PyAV writes it) with its video track's edit list
    replaced by `entries`: (segment duration, media time, rate) each, in the movie's and
    the media's time scales — what plays, in what order, at what rate."""
    from media.mp4 import _child

    moov = _child(mp4, 0, len(mp4), b"moov")
    trak = _child(mp4, *moov, b"trak")
    edts = _child(mp4, *trak, b"edts")
    elst = _child(mp4, *edts, b"elst")
    body = bytes([0, 0, 0, 0]) + struct.pack(">I", len(entries))
    for duration, media_time, rate in entries:
        whole = int(rate)
        body += struct.pack(">IihH", duration, media_time, whole, round((rate - whole) * 65536))
    out = bytearray(mp4[: elst[0]] + body + mp4[elst[1] :])
    return _grown(out, (moov, trak, edts, elst), len(body) - (elst[1] - elst[0]))


def _grown(out: bytearray, boxes, delta: int) -> bytes:
    """`out` with the size field of each box (8 bytes before its body) grown by `delta`:
    the boxes that enclose an edit (moov after mdat, so no chunk offset moves)."""
    for start, _ in boxes:
        size = struct.unpack_from(">I", out, start - 8)[0]
        struct.pack_into(">I", out, start - 8, size + delta)
    return bytes(out)


def with_clean_aperture(mp4: bytes, width: int, height: int, dx: int = 0, dy: int = 0) -> bytes:
    """`mp4` (moov after mdat) with a clean aperture (`clap`) in its video sample entry:
    a player shows only the `width`×`height` window, offset (`dx`, `dy`) from the
    centre, of each stored frame."""
    from media.mp4 import _child

    moov = _child(mp4, 0, len(mp4), b"moov")
    trak = _child(mp4, *moov, b"trak")
    mdia = _child(mp4, *trak, b"mdia")
    minf = _child(mp4, *mdia, b"minf")
    stbl = _child(mp4, *minf, b"stbl")
    stsd = _child(mp4, *stbl, b"stsd")
    entry = stsd[0] + 8
    entry_end = entry + struct.unpack_from(">I", mp4, entry)[0]
    clap = struct.pack(">I4sIIIIiIiI", 40, b"clap", width, 1, height, 1, dx, 1, dy, 1)
    out = bytearray(mp4[:entry_end] + clap + mp4[entry_end:])
    boxes = (moov, trak, mdia, minf, stbl, stsd, (entry + 8, entry_end))
    return _grown(out, boxes, len(clap))

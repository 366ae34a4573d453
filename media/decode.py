"""Untrusted media in, decoded arrays out — or an InvalidMedia a person can act on.

Every byte a client sends passes through here before any model sees it: size and
pixel ceilings are checked from the header, before decoding, so that a
decompression bomb costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from media import InvalidMedia
from media.display import check_edits

# MPO: a JPEG with more images after the first (a phone's stereo pair or preview); every
# one is decoded and checked, past MAX_IMAGES_IN_FILE the file is refused.
IMAGE_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
}
MAX_IMAGES_IN_FILE = 4


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # H×W×3 uint8 RGB
    mime_type: str
    data: bytes  # the original bytes, for ingredients and hashing
    sha256: str
    label: str = "image"
    # Images the file carries besides the picture (an EXIF thumbnail, an MPO's other
    # images): what a viewer may show in its place, so they are moderated too.
    embedded: tuple[np.ndarray, ...] = ()
    # The picture as other viewers show it: over a black page when it has transparency
    # (`pixels` is over white). Checked too; the stricter verdict wins.
    views: tuple[np.ndarray, ...] = ()

    def all_pixels(self) -> list[np.ndarray]:
        return [self.pixels, *self.views, *self.embedded]


def decode_image(
    data: bytes, *, max_pixels: int, label: str = "image", embedded: bool = True
) -> DecodedImage:
    """Decode a JPEG/PNG/WebP to RGB, rejecting empty, unknown, truncated or oversized input;
    with `embedded`, its EXIF thumbnail is decoded too (and one that cannot be, refused)."""
    if not data:
        raise InvalidMedia(f"{label} is empty (0 bytes); send a JPEG, PNG or WebP file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format
            width, height = img.size
            if fmt not in IMAGE_FORMATS:
                raise InvalidMedia(
                    f"{label} is {fmt or 'an unknown format'}; send a JPEG, PNG or WebP file"
                )
            if width * height > max_pixels:
                raise InvalidMedia(
                    f"{label} is {width}×{height} = {width * height / 1e6:.1f} megapixels, over "
                    f"the {max_pixels / 1e6:.0f} MP limit; downscale it and retry"
                )
            frames = getattr(img, "n_frames", 1)
            if fmt != "MPO" and (frames > 1 or getattr(img, "default_image", False)):
                raise InvalidMedia(
                    f"{label} is animated ({frames} frames); send animations as video"
                )
            if frames > MAX_IMAGES_IN_FILE:
                raise InvalidMedia(
                    f"{label} holds {frames} images; at most {MAX_IMAGES_IN_FILE} are checked"
                )
            img.load()
            thumbnails = _exif_thumbnails(img, label) if embedded else ()
            rgb, *views = as_displayed(ImageOps.exif_transpose(img), img.info.get("icc_profile"))
            for n in range(1, frames):  # an MPO's other images, each as displayed
                img.seek(n)
                thumbnails += tuple(as_displayed(img.copy(), img.info.get("icc_profile")))
    except InvalidMedia:
        raise
    except UnidentifiedImageError:
        raise InvalidMedia(
            f"{label} is not a recognised image ({len(data)} bytes); send a JPEG, PNG or WebP file"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidMedia(f"{label} is a decompression bomb: {e}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InvalidMedia(f"{label} is corrupt or truncated ({e}); re-export the file") from None
    if rgb.shape[0] < 16 or rgb.shape[1] < 16:
        raise InvalidMedia(f"{label} is {width}×{height}; images must be at least 16×16")
    return DecodedImage(
        pixels=rgb,
        mime_type=IMAGE_FORMATS[fmt],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        label=label,
        embedded=thumbnails,
        views=tuple(views),
    )


MAX_THUMBNAIL_PIXELS = 1_000_000
_JPEG_THUMBNAIL_OFFSET, _JPEG_THUMBNAIL_LENGTH, _STRIP_OFFSETS = 0x0201, 0x0202, 0x0111


def _exif_thumbnails(img: Image.Image, label: str) -> tuple[np.ndarray, ...]:
    """The EXIF thumbnail (IFD1) of an image, decoded; a thumbnail that is there but cannot
    be read is refused rather than passed unmoderated."""
    raw = img.info.get("exif")
    if not raw:
        return ()
    try:
        ifd1 = img.getexif().get_ifd(ExifTags.IFD.IFD1)
    except Exception as e:
        raise InvalidMedia(f"{label} has EXIF data that cannot be read ({e}); strip it") from None
    if _STRIP_OFFSETS in ifd1:
        raise InvalidMedia(f"{label} has an uncompressed EXIF thumbnail; strip it and retry")
    if _JPEG_THUMBNAIL_OFFSET not in ifd1:
        return ()
    base = 6 if raw.startswith(b"Exif\x00\x00") else 0
    offset, length = ifd1[_JPEG_THUMBNAIL_OFFSET], ifd1.get(_JPEG_THUMBNAIL_LENGTH, 0)
    thumbnail = raw[base + offset : base + offset + length]
    if not isinstance(offset, int) or len(thumbnail) != length or not length:
        raise InvalidMedia(f"{label} has an EXIF thumbnail pointing outside its data; strip it")
    where = f"{label}'s EXIF thumbnail"
    decoded = decode_image(thumbnail, max_pixels=MAX_THUMBNAIL_PIXELS, label=where, embedded=False)
    return (decoded.pixels, *decoded.views)


_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_WIDE = ("I;16", "I;16B", "I;16L", "I")


def as_displayed(img: Image.Image, icc_profile: bytes | None = None) -> list[np.ndarray]:
    """What a viewer shows, as 8-bit RGB: the colour profile applied (littleCMS, to
    sRGB), 16-bit samples scaled down, CMYK/palette/grey converted, and — when the
    picture has transparency — composited over a white page and over a black one (a
    picture can be blank on one and plain on the other). EXIF rotation is the caller's."""
    alpha = None
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        alpha = img.convert("RGBA").getchannel("A")
        if alpha.getextrema()[0] == 255:
            alpha = None
    rgb = _displayed_colour(img, icc_profile)
    if alpha is None:
        return [np.asarray(rgb)]
    return [
        np.asarray(Image.composite(rgb, Image.new("RGB", rgb.size, background), alpha))
        for background in ((255, 255, 255), (0, 0, 0))
    ]


def _displayed_colour(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if img.mode in _WIDE:
        wide = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or wide.max() > 255 else 255.0
        base = Image.fromarray(np.clip(wide / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    elif img.mode == "CMYK":
        base = img
    elif img.mode in ("L", "LA", "1"):
        base = img.convert("L")
    else:
        base = img.convert("RGB")
    if icc_profile:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            return ImageCms.profileToProfile(base, profile, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a profile that cannot be used (wrong colour space, corrupt): viewers skip it
    return base.convert("RGB")


@dataclass(frozen=True)
class Frame:
    time_s: float
    pixels: np.ndarray  # H×W×3 uint8 RGB


# The highest frame rate a video is taken at: with max_video_seconds, the most frames an
# upload may hold, whatever its timestamps say.
MAX_FPS = 240


@dataclass(frozen=True)
class VideoLimits:
    max_seconds: float
    max_side: int
    max_pixels: int


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration_s: float
    codec: str
    audio_streams: int = 0  # not moderated: the record says so (see Provenance.Sign)


def open_video(source: Path | bytes):
    """A container on a file, or on uploaded bytes read where they are in memory: an
    upload is never written to disk (whatever it turns out to be)."""
    return av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source))


def probe_video(source: Path | bytes, limits: VideoLimits, label: str = "video") -> VideoInfo:
    """Open a video and check it against the ceilings before decoding any frame."""
    try:
        with open_video(source) as container:
            if not container.streams.video:
                raise InvalidMedia(f"{label} has no video stream; send an MP4/MOV/WebM with video")
            if len(container.streams.video) > 1:  # a player may show any of them
                raise InvalidMedia(
                    f"{label} has {len(container.streams.video)} video streams (a cover picture "
                    "counts as one); send a file with a single video stream"
                )
            audio_streams = len(container.streams.audio)
            stream = container.streams.video[0]
            if stream.codec_context is None:
                raise InvalidMedia(f"{label} has a video stream no decoder supports")
            width, height = stream.codec_context.width, stream.codec_context.height
            duration = _duration_s(container, stream)
            codec = stream.codec_context.name
    except InvalidMedia:
        raise
    except Exception as e:  # a demuxer's failure on hostile input is the input's fault
        raise InvalidMedia(f"{label} cannot be opened as a video ({e}); is it corrupt?") from None
    if width <= 0 or height <= 0:
        raise InvalidMedia(f"{label} has no valid frame size")
    if max(width, height) > limits.max_side or width * height > limits.max_pixels:
        raise InvalidMedia(
            f"{label} is {width}×{height}; frames must be at most {limits.max_side} px a side "
            f"and {limits.max_pixels / 1e6:.0f} MP"
        )
    if duration > limits.max_seconds:
        raise InvalidMedia(
            f"{label} lasts {hms(duration)}, over the {hms(limits.max_seconds)} limit; trim it"
        )
    if isinstance(source, bytes):
        check_edits(source, label)
    return VideoInfo(width, height, duration, codec, audio_streams)


def count_frames(source: Path | bytes) -> int:
    """How many frames the video stream really holds: its packets, demuxed, not decoded."""
    with open_video(source) as container:
        stream = container.streams.video[0]
        return sum(1 for packet in container.demux(stream) if packet.size)


def _duration_s(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return 0.0


def hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"

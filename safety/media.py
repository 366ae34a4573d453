"""Untrusted media in, decoded arrays out — or an InvalidInput a person can act on.

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
from PIL import Image, UnidentifiedImageError

from safety.errors import InvalidInput

IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # H×W×3 uint8 RGB
    mime_type: str
    data: bytes  # the original bytes, for ingredients and hashing
    sha256: str
    label: str = "image"

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


def decode_image(data: bytes, *, max_pixels: int, label: str = "image") -> DecodedImage:
    """Decode a JPEG/PNG/WebP to RGB, rejecting empty, unknown, truncated or oversized input."""
    if not data:
        raise InvalidInput(f"{label} is empty (0 bytes); send a JPEG, PNG or WebP file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = img.format
            width, height = img.size
            if fmt not in IMAGE_FORMATS:
                raise InvalidInput(
                    f"{label} is {fmt or 'an unknown format'}; send a JPEG, PNG or WebP file"
                )
            if width * height > max_pixels:
                raise InvalidInput(
                    f"{label} is {width}×{height} = {width * height / 1e6:.1f} megapixels, over "
                    f"the {max_pixels / 1e6:.0f} MP limit; downscale it and retry"
                )
            img.load()
            rgb = np.asarray(img.convert("RGB"))
    except InvalidInput:
        raise
    except UnidentifiedImageError:
        raise InvalidInput(
            f"{label} is not a recognised image ({len(data)} bytes); send a JPEG, PNG or WebP file"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise InvalidInput(f"{label} is a decompression bomb: {e}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise InvalidInput(f"{label} is corrupt or truncated ({e}); re-export the file") from None
    if rgb.shape[0] < 16 or rgb.shape[1] < 16:
        raise InvalidInput(f"{label} is {width}×{height}; images must be at least 16×16")
    return DecodedImage(
        pixels=rgb,
        mime_type=IMAGE_FORMATS[fmt],
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        label=label,
    )


@dataclass(frozen=True)
class Frame:
    time_s: float
    pixels: np.ndarray  # H×W×3 uint8 RGB


def sample_video_frames(path: Path, max_frames: int) -> list[Frame]:
    """Up to `max_frames` frames spread uniformly over the clip, first and last included."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames
        if total <= 0:  # container doesn't say; decode everything once
            frames = [f for f in container.decode(stream)]
            picks = _uniform_indices(len(frames), max_frames)
            return [
                Frame(float(frames[i].time or 0.0), frames[i].to_ndarray(format="rgb24"))
                for i in picks
            ]
        wanted = set(_uniform_indices(total, max_frames))
        out: list[Frame] = []
        for i, frame in enumerate(container.decode(stream)):
            if i in wanted:
                out.append(Frame(float(frame.time or 0.0), frame.to_ndarray(format="rgb24")))
                if len(out) == len(wanted):
                    break
        return out


def _uniform_indices(total: int, count: int) -> list[int]:
    if total <= 0:
        return []
    if total <= count:
        return list(range(total))
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})

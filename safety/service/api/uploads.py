"""Uploaded media as the domain sees it: decoded within the configured ceilings."""

from __future__ import annotations

from safety.job import (
    Clip,
)
from safety.media import Frame, VideoLimits, decode_image
from safety.sampling import decode_video
from safety.service.app import Service
from signing.verify import sniff_mime

# What Provenance.Sign embeds manifests into: MIME type -> file extension.
SIGNABLE = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}


def video_limits(cfg) -> VideoLimits:
    return VideoLimits(cfg.max_video_seconds, cfg.max_video_side, cfg.max_image_pixels)


def media_clip(service: Service, data: bytes, label: str = "media") -> Clip:
    """An uploaded image (one frame, and its EXIF thumbnail) or video (sampled frames) as
    a clip, within the configured ceilings; subject "<label>" or "<label>_video"."""
    cfg = service.config
    if sniff_mime(data).startswith("video/"):
        sampled, info = decode_video(data, video_limits(cfg), cfg.sampling, label=label)
        return Clip(f"{label}_video", sampled.frames, info.audio_streams, sampled.total)
    image = decode_image(data, max_pixels=cfg.max_image_pixels, label=label)
    return Clip(label, [Frame(0.0, pixels) for pixels in image.all_pixels()])

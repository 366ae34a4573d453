"""The built-in light generator: camera motion over the input image (or a scene drawn
from the prompt), seeded, encoded as a real H.264 MP4. Runs anywhere, no GPU.

It takes no driving video: requests with one go to performance transfer
(generator/performance.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image

from generator.base import IMAGE, PLAIN_ALGORITHM, TEXT, GenerationInput, ProgressFn
from media.mp4 import write_mp4


def _rng(job: GenerationInput) -> np.random.Generator:
    digest = hashlib.sha256(f"{job.seed}\0{job.prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def prompt_scene(job: GenerationInput, width: int, height: int) -> np.ndarray:
    """A deterministic abstract picture for a prompt: a gradient sky and soft blobs."""
    rng = _rng(job)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    top, bottom = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    t = (y / max(height - 1, 1))[..., None]
    img = top * (1 - t) + bottom * t
    for _ in range(int(rng.integers(3, 7))):
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.08, 0.3) * min(width, height)
        mask = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))[..., None]
        img = img * (1 - mask) + rng.integers(0, 256, 3) * mask
    return np.clip(img, 0, 255).astype(np.uint8)


class KenBurnsGenerator:
    name = "kenburns"
    version = "1"
    model_id = "reelguard/kenburns-v1"
    # A camera path computed over the input (or a drawn scene): no trained model made it.
    digital_source_type = PLAIN_ALGORITHM
    accepts = frozenset({TEXT, IMAGE})
    needs = frozenset()

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        # Work on a canvas 1.25× the output so that the camera has room to move.
        cw, ch = int(job.width * 1.25), int(job.height * 1.25)
        if job.image is not None:
            canvas = np.asarray(Image.fromarray(job.image).resize((cw, ch), Image.LANCZOS))
        else:
            canvas = prompt_scene(job, cw, ch)
        rng = _rng(job)
        zoom_from, zoom_to = (1.0, 0.8) if rng.random() < 0.5 else (0.8, 1.0)
        pan = rng.uniform(-1, 1, 2)

        def frames():
            for i in range(job.num_frames):
                t = i / max(job.num_frames - 1, 1)
                zoom = zoom_from + (zoom_to - zoom_from) * t
                w, h = int(cw * zoom), int(ch * zoom)
                offset = pan * (t - 0.5)
                cx = (cw - w) / 2 * (1 + offset[0])
                cy = (ch - h) / 2 * (1 + offset[1])
                x0, y0 = int(np.clip(cx, 0, cw - w)), int(np.clip(cy, 0, ch - h))
                crop = Image.fromarray(canvas[y0 : y0 + h, x0 : x0 + w])
                yield np.asarray(crop.resize((job.width, job.height), Image.BILINEAR))
                progress(i + 1, job.num_frames)

        write_mp4(frames(), out_path, job.fps)
        return "video/mp4"

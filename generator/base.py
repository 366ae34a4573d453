"""The Generator seam: everything that makes video implements this, nothing more.

A diffusion backend is one class with the same `generate`: load the pipeline from a
local path in `__init__`, run it in `generate`, call `progress(step, steps)` from the
pipeline's per-step callback, and write an MP4 with `write_mp4`. Pre-check,
post-check and signing stay the same for every backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import numpy as np

ProgressFn = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class GenerationInput:
    prompt: str
    image: np.ndarray | None  # H×W×3 RGB, already moderated
    width: int
    height: int
    fps: int
    num_frames: int
    seed: int
    # Sampled frames of an actor's driving performance (already moderated), if any: a
    # backend animates the character in `image` to follow it.
    driving_frames: list[np.ndarray] | None = None


class Generator(Protocol):
    name: str
    version: str
    model_id: str  # recorded in the C2PA manifest

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        """Write the video to `out_path`; return its MIME type."""
        ...


def write_mp4(frames: Iterable[np.ndarray], out_path: Path, fps: int, crf: int = 20) -> None:
    """Encode RGB frames as H.264 (yuv420p, faststart) — plays everywhere, signs with C2PA."""
    with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
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


def load_generator(spec: str, **diffusers_options) -> Generator:
    """`kenburns` (built in); `remote:HOST:PORT` (a GeneratorBackend service elsewhere);
    `diffusers:/local/pipeline/dir`; or `package.module:ClassName` for one of your own."""
    if spec == "kenburns":
        from generator.kenburns import KenBurnsGenerator

        return KenBurnsGenerator()
    if spec.startswith("remote:"):
        import os

        from generator.remote import RemoteGenerator

        return RemoteGenerator(
            spec.removeprefix("remote:"), os.environ.get("REELGUARD_BACKEND_TOKEN") or None
        )
    if spec.startswith("diffusers:"):
        from generator.diffusion import DiffusersGenerator

        return DiffusersGenerator(Path(spec.removeprefix("diffusers:")), **diffusers_options)
    module_name, sep, class_name = spec.partition(":")
    if not sep:
        raise ValueError(f"generator {spec!r}: use 'kenburns' or 'package.module:ClassName'")
    import importlib

    return getattr(importlib.import_module(module_name), class_name)()

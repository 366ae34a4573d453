"""The Generator seam: everything that makes video implements this, nothing more.

A diffusion backend is one class with the same `generate`: load the pipeline from a
local path in `__init__`, run it in `generate`, call `progress(step, steps)` from the
pipeline's per-step callback, and write an MP4 with `write_mp4`. Pre-check,
post-check and signing stay the same for every backend.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from generator.mp4 import finish_mp4

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


# IPTC digital source types (the C2PA `digitalSourceType` of the created action).
IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"  # a trained model's
ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + "algorithmicMedia"  # a plain algorithm, no training


# What a request may carry beyond its prompt, and so what a backend may accept.
TEXT, IMAGE, DRIVING_VIDEO = "text", "image", "driving_video"


class Generator(Protocol):
    name: str
    version: str
    model_id: str  # recorded in the C2PA manifest
    # What it makes, as the manifest states it: a diffusion model's output is
    # trainedAlgorithmicMedia; a pan and zoom computed over a picture is not.
    digital_source_type: str
    # The inputs it uses: a request carrying one it does not is refused, never run with
    # that input silently ignored. `needs`: inputs it cannot run without.
    accepts: frozenset[str]
    needs: frozenset[str]

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        """Write the video to `out_path`; return its MIME type."""
        ...


def capabilities(generator: Generator) -> tuple[frozenset[str], frozenset[str]]:
    """(accepts, needs) of a backend; one that declares nothing (a class of your own from
    before these existed) takes text and an image, as every backend did then."""
    accepts = getattr(generator, "accepts", None)
    return (
        frozenset({TEXT, IMAGE}) if accepts is None else frozenset(accepts),
        frozenset(getattr(generator, "needs", ())),
    )


def write_mp4(frames: Iterable[np.ndarray], out_path: Path, fps: int, crf: int = 20) -> None:
    """Encode RGB frames as H.264 (yuv420p) — plays everywhere — with `moov` first and
    room for the C2PA manifest after `ftyp` (generator/mp4.py), where it is signed in place."""
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
    """(offset, bytes) of a file in blocks: how a video is streamed to a caller."""
    with open(path, "rb") as f:
        offset = 0
        while block := f.read(size):
            yield offset, block
            offset += len(block)


@dataclass(frozen=True)
class Step:
    done: int
    total: int


@dataclass(frozen=True)
class Finished:
    path: Path
    mime_type: str


def stream_generation(
    generator: Generator, job: GenerationInput, out_path: Path, stop: threading.Event
) -> Iterator[Step | Finished]:
    """Run `generator` in a thread and yield its progress steps, then the result — for
    serving a generator to another process (gRPC backend, Ray replica). Setting `stop`
    makes its next progress report raise, which ends the generation."""
    events: queue.Queue = queue.Queue()

    def progress(done: int, total: int) -> None:
        if stop.is_set():
            raise RuntimeError("generation stopped: the caller went away")
        events.put(Step(done, total))

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["mime_type"] = generator.generate(job, out_path, progress)
        except BaseException as e:  # re-raised in the caller's thread below
            outcome["error"] = e
        finally:
            events.put(None)

    threading.Thread(target=run, name="generate", daemon=True).start()
    while (event := events.get()) is not None:
        yield event
    if "error" in outcome:
        raise outcome["error"]
    yield Finished(out_path, outcome["mime_type"])

"""The Generator seam: everything that makes video implements this, nothing more.

A diffusion backend is one class with the same `generate`: load the pipeline from a
local path in `__init__`, run it in `generate`, call `progress(step, steps)` from the
pipeline's per-step callback, and write an MP4 with `write_mp4`. Pre-check,
post-check and signing stay the same for every backend.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


# What a backend's output is, as a term of IPTC's digital source type vocabulary. The
# vocabulary, its URLs and which terms may be signed are provenance's
# (signing/source_types.py); a backend only says which term describes it.
TRAINED_MODEL = "trainedAlgorithmicMedia"  # a trained model's output
PLAIN_ALGORITHM = "algorithmicMedia"  # computed by a plain algorithm, no training


def source_type(generator: Generator) -> str:
    """The backend's declared term; one that declares none is taken as a trained model."""
    return getattr(generator, "digital_source_type", "") or TRAINED_MODEL


# What a request may carry beyond its prompt, and so what a backend may accept.
TEXT, IMAGE, DRIVING_VIDEO = "text", "image", "driving_video"


class Generator(Protocol):
    name: str
    version: str
    model_id: str  # recorded in the C2PA manifest
    # What it makes, as the manifest states it (an IPTC term): a diffusion model's output
    # is TRAINED_MODEL; a pan and zoom computed over a picture is PLAIN_ALGORITHM.
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

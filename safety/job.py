"""What the gate works on and what it says back: a request's inputs, and its events.

Plain data, no behaviour beyond validation: `Intake.generate_job` builds a
`GenerateJob` from what a caller sent, `Gate.generate` yields the events in order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator.base import GenerationInput, Generator
from media.decode import DecodedImage, Frame
from safety.errors import InvalidInput
from safety.verdict import Stage, Verdict


@dataclass(frozen=True)
class OutputSpec:
    width: int = 320
    height: int = 320
    fps: int = 24
    num_frames: int = 48
    seed: int = 0


@dataclass(frozen=True)
class DrivingVideo:
    """An actor's performance to animate a character with: the bytes, the frames sampled
    for moderation, and the performance at the output's frame rate (greyscale, at most
    512 px: what a backend tracks the face in; its pixels never reach the output)."""

    data: bytes
    mime_type: str
    frames: list[Frame]
    total_frames: int = 0
    motion: list[np.ndarray] = field(default_factory=list)
    neighbours: Callable[[list[tuple[float, float]]], list[Frame]] | None = None  # see Clip


class Cancelled(Exception):
    """The client went away or its deadline passed: stop generating."""


@dataclass(frozen=True)
class GenerateJob:
    request_id: str
    tenant: str
    prompt: str
    image: DecodedImage | None
    output: OutputSpec
    driving: DrivingVideo | None = None
    # The pictures riding inside the inputs (their C2PA stores' thumbnails), which their
    # ingredient records would carry into the signed output: checked like the inputs.
    carried: tuple[Clip, ...] = ()
    # The backend that makes it: chosen at intake, as the one that uses every input.
    backend: Generator | None = None
    # Set when the client cancels or its deadline passes; generation stops at its next
    # progress report and its slot is freed.
    cancel: threading.Event = field(default_factory=threading.Event)

    @property
    def consent_scope(self) -> str:
        """Animating someone from a performance needs a `performance` grant, else `video`."""
        return "performance" if self.driving else "video"

    def input_clips(self) -> list[Clip]:
        """What the pre-check looks at besides the prompt: the image, the driving video."""
        clips = []
        if self.image:
            clips.append(
                Clip("input_image", [Frame(0.0, pixels) for pixels in self.image.all_pixels()])
            )
        if self.driving:
            clips.append(
                Clip(
                    "driving_video",
                    self.driving.frames,
                    total_frames=self.driving.total_frames,
                    neighbours=self.driving.neighbours,
                )
            )
        return clips + list(self.carried)

    def generation_input(self) -> GenerationInput:
        """What the backend is given. A driving video goes as the performance at the
        output's frame rate, or as the frames sampled for moderation when it was not
        decoded so."""
        driving = self.driving
        return GenerationInput(
            prompt=self.prompt,
            image=self.image.pixels if self.image else None,
            width=self.output.width,
            height=self.output.height,
            fps=self.output.fps,
            num_frames=self.output.num_frames,
            seed=self.output.seed,
            driving_frames=(driving.motion or [f.pixels for f in driving.frames])
            if driving
            else None,
        )


@dataclass(frozen=True)
class SignableMedia:
    data: bytes
    mime_type: str
    clip: Clip  # what moderation looks at: the image, or sampled video frames
    # What the client says of the file (source type, generator): recorded as its claim.
    claims: dict = field(default_factory=dict)
    # The ingredients' pictures, and every picture a C2PA store in the file or in an
    # ingredient carries: all of it ends up inside the signed file, so all is checked.
    carried: tuple[Clip, ...] = ()

    @property
    def scope(self) -> str:
        return "video" if self.mime_type.startswith("video/") else "image"


@dataclass(frozen=True)
class Clip:
    """What a visual check looks at: an image is a one-frame clip."""

    subject: str  # "input_image", "driving_video", "output_frame", ...
    frames: list[Frame]
    audio_streams: int = 0  # what the visual checks did not look at (recorded as such)
    total_frames: int = 0  # a video's: how many frames it holds (`frames` are those checked)
    # A video's frames within time windows at full rate (media/sampling.py: frames_within),
    # for corroborating a hit with its neighbours; None for a still image.
    neighbours: Callable[[list[tuple[float, float]]], list[Frame]] | None = None


@dataclass(frozen=True)
class Accepted:
    request_id: str


@dataclass(frozen=True)
class Progress:
    stage: Stage
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class Completed:
    path: Path  # the signed file; valid until the generator is resumed
    mime_type: str
    size: int
    sha256: str
    verdict: Verdict


@dataclass(frozen=True)
class Blocked:
    verdict: Verdict


@dataclass(frozen=True)
class Failed:
    stage: Stage
    error: str


@dataclass(frozen=True)
class Held:
    """The verdict is "review": the output waits, unsigned, for a human (GetResult)."""

    ticket: str
    verdict: Verdict


Event = Accepted | Progress | Completed | Blocked | Failed | Held


def validate_output(spec: OutputSpec, *, max_side: int, max_frames: int) -> OutputSpec:
    """Fill defaults (0 = unset) and reject what the encoder or our ceilings can't take."""
    d = OutputSpec()
    out = OutputSpec(
        width=spec.width or d.width,
        height=spec.height or d.height,
        fps=spec.fps or d.fps,
        num_frames=spec.num_frames or d.num_frames,
        seed=spec.seed,
    )
    for name, value in (("width", out.width), ("height", out.height)):
        if not 16 <= value <= max_side or value % 2:
            raise InvalidInput(f"output {name} {value} must be even and within 16..{max_side}")
    if not 1 <= out.fps <= 60:
        raise InvalidInput(f"output fps {out.fps} must be within 1..60")
    if not 1 <= out.num_frames <= max_frames:
        raise InvalidInput(f"output num_frames {out.num_frames} must be within 1..{max_frames}")
    return out

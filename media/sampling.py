"""Which frames of a video are checked: every second of it, at places the sender cannot know.

A fixed number of uniformly spaced frames leaves long runs unseen (8 frames of a 10 s
clip: 1.4 s gaps), and a fixed budget of scene cuts is used up by a few early flashes.
So a video is sampled in one decoding pass:

- at least `fps` frames per second of display time (2 by default, never under 1): in
  each slot of 1/fps s an instant drawn at random per call (the sender cannot aim
  between them), and the frame *on screen* at that instant (the last to start at or
  before it) — so content on screen for X s of a slot is sampled in it with probability
  X·fps, however the frames' durations are cut (a picture held for 0.499 s of every
  0.5 s behind a 1 ms decoy is seen in 99.8 % of slots, not never);
- the first frame of every scene cut (a jump in the luma histogram), however many;
- any frame that differs from both sampled neighbours (a 16×16 luma thumbnail, mean
  absolute difference over `insert_distance`): an insert that the slots step over and
  that looks like its surroundings in histogram is still seen;
- the first and the last frame.

Cuts and inserts together are capped at `max_extra_per_s` per second of video (plus a
few): a video past that (a strobe built to flood the checks) is refused, not truncated.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from media import InvalidMedia
from media.decode import (
    MAX_FPS,
    Frame,
    VideoInfo,
    VideoLimits,
    count_frames,
    hms,
    open_video,
    probe_video,
)
from media.display import Display, display_of, upright


@dataclass(frozen=True)
class Sampling:
    fps: float = 2.0
    cut_threshold: float = 0.4  # half the L1 distance of 32-bin luma histograms
    insert_distance: float = 10.0  # mean |Δ| of 16×16 luma thumbnails, 0..255
    max_extra_per_s: float = 6.0  # cuts + inserts; past it the video is refused
    # Frames are kept at most this many px a side (the models look at 224-640 px; a
    # 4096² video sampled at 2 a second would otherwise hold gigabytes), and at most
    # `max_kept_bytes` of them at once: past that the video is refused (bounded memory
    # whatever a file's frames do; a 120 s 720p driving video keeps ~430 MB).
    max_side: int = 1024
    max_kept_bytes: int = 640 * 2**20
    seed: int | None = None  # None: positions drawn at random per call

    def __post_init__(self) -> None:
        if not self.fps >= 1.0:
            raise ValueError(f"sample_fps must be at least 1 frame per second, not {self.fps}")


DEFAULT_SAMPLING = Sampling()


@dataclass(frozen=True)
class Sampled:
    frames: list[Frame]
    total: int  # frames the video holds (its packets)


def sample_video_frames(
    path: Path | bytes,
    sampling: Sampling = DEFAULT_SAMPLING,
    *,
    max_seconds: float | None = None,
    label: str = "video",
) -> Sampled:
    """The frames to check, in time order (see the module's docstring).

    The frames are counted from the container's packets first (no decoding): a file with
    more frames than `max_seconds` at MAX_FPS is refused before any frame is decoded.
    Decoding stops with InvalidMedia past `max_seconds` or on corrupt data."""
    try:
        total = count_frames(path)
        if max_seconds is not None and total > max_seconds * MAX_FPS:
            raise InvalidMedia(
                f"{label} holds {total} frames, more than {hms(max_seconds)} at {MAX_FPS} fps "
                "could; trim it"
            )
        with open_video(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = float(stream.guessed_rate or stream.average_rate or 0) or 25.0
            if max_seconds is not None and total / rate > max_seconds:
                # The frames at the stream's own rate: a file without timestamps is as
                # long as its frames make it, not as short as its header says.
                raise InvalidMedia(
                    f"{label} lasts {hms(total / rate)} ({total} frames at {rate:g} fps), "
                    f"over the {hms(max_seconds)} limit; trim it"
                )
            seconds = max(total / rate, 1.0)
            max_extra = math.ceil(seconds * sampling.max_extra_per_s) + 8
            walk = _Walk(sampling, max_extra, label, _display(stream, path, label))
            for i, frame in enumerate(container.decode(stream)):
                time_s = _display_time(frame, i, rate, walk.last_time)
                if max_seconds is not None and time_s > max_seconds:
                    raise InvalidMedia(f"{label} runs past the {hms(max_seconds)} limit")
                walk.step(frame, time_s)
            return Sampled(walk.finish(), total)
    except InvalidMedia:
        raise
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise InvalidMedia(
            f"{label} cannot be decoded ({e}); is it corrupt or truncated?"
        ) from None


def frames_at(
    source: Path | bytes, times_s: list[float], sampling: Sampling = DEFAULT_SAMPLING
) -> list[Frame]:
    """The frames shown at `times_s` (recorded sample positions, for a recheck), decoded
    and scaled as the check saw them; a time no frame matches within 1 ms is left out."""
    wanted = sorted(times_s)
    found: list[Frame] = []
    try:
        for time_s, frame, display in _frames_shown(source):
            while wanted and wanted[0] < time_s - 1e-3:
                wanted.pop(0)  # no frame at that time: skipped
            if wanted and abs(wanted[0] - round(time_s, 4)) <= 1e-3:
                found.append(Frame(wanted.pop(0), upright(frame, sampling.max_side, display)))
            if not wanted:
                break
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise InvalidMedia(f"the video cannot be decoded ({e}); is it corrupt?") from None
    return found


def frames_within(
    source: Path | bytes,
    windows: list[tuple[float, float]],
    sampling: Sampling = DEFAULT_SAMPLING,
    limit: int = 48,
) -> list[Frame]:
    """Every frame shown within the `windows` (start, end in seconds), at the video's
    full rate, decoded and scaled as the sampled frames are: in one pass, stopping after
    the last window or `limit` frames. What corroborates a hit is looked for around it."""
    spans = sorted(windows)
    if not spans:
        return []
    found: list[Frame] = []
    try:
        for time_s, frame, display in _frames_shown(source):
            if time_s > spans[-1][1] or len(found) >= limit:
                break
            if any(start <= time_s <= end for start, end in spans):
                found.append(Frame(time_s, upright(frame, sampling.max_side, display)))
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise InvalidMedia(f"the video cannot be decoded ({e}); is it corrupt?") from None
    return found


def _frames_shown(source: Path | bytes) -> Iterator[tuple[float, av.VideoFrame, Display]]:
    """Each frame with its display time and how it is shown, in one decoding pass."""
    with open_video(source) as container:
        stream = container.streams.video[0]
        rate = float(stream.guessed_rate or stream.average_rate or 0) or 25.0
        display = _display(stream, source)
        previous = -1.0
        for i, frame in enumerate(container.decode(stream)):
            time_s = previous = _display_time(frame, i, rate, previous)
            yield time_s, frame, display


def frame_shown_at(source: Path | bytes, time_s: float) -> np.ndarray | None:
    """The frame on screen at `time_s` (the last to start at or before it; the first
    if none does), as displayed: what a reviewer is shown beside a finding at that time."""
    best = None
    try:
        with open_video(source) as container:
            stream = container.streams.video[0]
            display = _display(stream, source)
            for frame in container.decode(stream):
                if best is not None and frame.time is not None and frame.time > time_s + 1e-4:
                    break
                best = frame
            return upright(best, None, display) if best is not None else None
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise InvalidMedia(f"the video cannot be decoded ({e}); is it corrupt?") from None


def decode_video(
    data: bytes,
    limits: VideoLimits,
    sampling: Sampling,
    label: str = "video",
) -> tuple[Sampled, VideoInfo]:
    """Check an uploaded video against the ceilings, then sample its frames; read in
    memory, never written to disk (known-CSAM media must leave no copy anywhere)."""
    if not data:
        raise InvalidMedia(f"{label} is empty (0 bytes)")
    data = bytes(data)
    info = probe_video(data, limits, label)
    sampled = sample_video_frames(data, sampling, max_seconds=limits.max_seconds, label=label)
    if not sampled.frames:
        raise InvalidMedia(f"{label} has no decodable frames")
    return sampled, info


class _Walk:
    """One pass over the decoded frames, choosing as it goes (holding at most the last
    frame and the insert candidates of the current slot, never the whole video)."""

    def __init__(self, sampling: Sampling, max_extra: int, label: str, display: Display) -> None:
        self.s, self.max_extra, self.label, self.display = sampling, max_extra, label, display
        self.rng = (
            random.Random(sampling.seed) if sampling.seed is not None else random.SystemRandom()
        )
        self.period = 1.0 / sampling.fps
        self.out: dict[float, np.ndarray] = {}  # time -> pixels
        self.extra = 0
        self.kept_bytes = 0
        self.slot, self.target = -1, 0.0  # the pending slot and its instant
        self.last: tuple[av.VideoFrame, float, np.ndarray] | None = None  # frame, time, thumb
        self.histogram: np.ndarray | None = None
        self.sampled_thumb: np.ndarray | None = None  # of the latest sampled frame
        self.candidates: list[tuple[float, np.ndarray, np.ndarray]] = []  # since then
        self.deviating = False

    def step(self, frame: av.VideoFrame, time_s: float) -> None:
        luma = _luma(frame)
        histogram, thumb = _histogram(luma), _thumbnail(luma)
        if self.last is None:  # the very first frame: always sampled; slots start here
            self._next_slot(int(time_s // self.period))
            self._sample(frame, time_s, thumb)
        else:
            # The previous frame was on screen from its start until this one's: every
            # slot instant in between saw it.
            while self.target < time_s:
                if self.last[1] not in self.out:
                    self._sample(*self.last)
                self._next_slot(self.slot + 1)
            cut = 0.5 * np.abs(histogram - self.histogram).sum() > self.s.cut_threshold
            if cut:
                self._add_extra(time_s, self._pixels(frame))
                self._sample(frame, time_s, thumb, pixels_known=True)
            else:
                far = _distance(thumb, self.sampled_thumb) > self.s.insert_distance
                if far and not self.deviating:  # the first frame of a run unlike the last sample
                    self.candidates.append((time_s, thumb, self._pixels(frame)))
                    if len(self.candidates) > self.max_extra:
                        self._too_many()
                self.deviating = far
        self.histogram = histogram
        self.last = (frame, time_s, thumb)

    def _next_slot(self, slot: int) -> None:
        self.slot = slot
        self.target = (slot + self.rng.random()) * self.period

    @property
    def last_time(self) -> float:
        return self.last[1] if self.last is not None else -1.0

    def finish(self) -> list[Frame]:
        if self.last is not None and self.last[1] not in self.out:
            self._sample(*self.last)  # the last frame, always
        return [Frame(t, self.out[t]) for t in sorted(self.out)]

    def _pixels(self, frame: av.VideoFrame) -> np.ndarray:
        pixels = upright(frame, self.s.max_side, self.display)
        self.kept_bytes += pixels.nbytes  # samples and candidates (a bound, not a tally)
        if self.kept_bytes > self.s.max_kept_bytes:
            raise InvalidMedia(
                f"{self.label} has more distinct frames than can be checked "
                f"({self.s.max_kept_bytes // 2**20} MB of sampled frames); shorten it"
            )
        return pixels

    def _sample(
        self, frame: av.VideoFrame, time_s: float, thumb: np.ndarray, pixels_known=False
    ) -> None:
        # Candidates since the previous sample that differ from this one too: inserts.
        for cand_time, cand_thumb, pixels in self.candidates:
            if _distance(cand_thumb, thumb) > self.s.insert_distance:
                self._add_extra(cand_time, pixels)
        self.candidates, self.deviating = [], False
        if not pixels_known:
            self.out[time_s] = self._pixels(frame)
        self.sampled_thumb = thumb

    def _add_extra(self, time_s: float, pixels: np.ndarray) -> None:
        if time_s in self.out:
            return
        self.extra += 1
        if self.extra > self.max_extra:
            self._too_many()
        self.out[time_s] = pixels

    def _too_many(self) -> None:
        raise InvalidMedia(
            f"{self.label} has more than {self.max_extra} scene cuts and inserts for its "
            "length (a strobe?); too many to check, so it is refused"
        )


def _display(stream, source: Path | bytes, label: str = "video") -> Display:
    """How a player shows the stream (the clean aperture is read from uploaded bytes;
    files on disk are our own outputs, which declare none)."""
    return display_of(stream, source if isinstance(source, bytes) else None, label)


def _display_time(frame: av.VideoFrame, index: int, rate: float, previous: float) -> float:
    """The frame's presentation time; its place at the stream's rate when the timestamp
    is missing or runs backwards (times that lie cannot shrink the slots)."""
    time_s = frame.time
    if time_s is None or time_s <= previous:
        return max(previous, 0.0) + 1.0 / rate if previous >= 0 else index / rate
    return float(time_s)


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane, read in place for planar YUV (this runs on every decoded frame)."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:, : frame.width]
    return frame.to_ndarray(format="gray")


def _histogram(luma: np.ndarray) -> np.ndarray:
    """A 32-bin luma histogram from a sparse grid, for scene-cut detection."""
    step_y, step_x = max(1, luma.shape[0] // 36), max(1, luma.shape[1] // 64)
    hist = np.bincount((luma[::step_y, ::step_x] >> 3).ravel(), minlength=32).astype(np.float32)
    return hist / hist.sum()


def _thumbnail(luma: np.ndarray) -> np.ndarray:
    """16×16 block means of a 64×64 grid of the luma (a full-frame resize of every
    decoded frame cost more than decoding it)."""
    rows = np.linspace(0, luma.shape[0] - 1, 64).astype(int)
    cols = np.linspace(0, luma.shape[1] - 1, 64).astype(int)
    grid = luma[np.ix_(rows, cols)].astype(np.float32)
    return grid.reshape(16, 4, 16, 4).mean(axis=(1, 3))


def _distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def motion_frames(source: Path | bytes, fps: int, count: int, max_side: int = 512) -> list:
    """A performance as a backend animates with it: the frame shown at each 1/fps step,
    `count` of them at most (the last one held past the clip's end), RGB (the mouth's
    inside and the eyes are read in colour) and at most `max_side`. Called after the
    clip passed `decode_video`'s limits."""
    steps: list[np.ndarray] = []
    try:
        with open_video(source) as container:
            stream = container.streams.video[0]
            rate = float(stream.guessed_rate or stream.average_rate or 0) or 25.0
            display = _display(stream, source)
            previous, shown = -1.0, None
            for i, frame in enumerate(container.decode(stream)):
                time_s = previous = _display_time(frame, i, rate, previous)
                while len(steps) < count and time_s > len(steps) / fps + 1e-6 and shown is not None:
                    steps.append(shown)  # the frame on screen at that step
                if len(steps) >= count:
                    break
                shown = np.ascontiguousarray(upright(frame, max_side, display), np.uint8)
            if shown is not None and len(steps) < count:
                steps.append(shown)
    except (av.FFmpegError, OSError, ValueError, IndexError) as e:
        raise InvalidMedia(f"the driving video cannot be decoded ({e}); is it corrupt?") from None
    return steps

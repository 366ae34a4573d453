"""Every second of a video is looked at, at places the sender cannot know; scene cuts and
inserts are sampled however they are placed; strobes and lying timestamps are refused."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from media import InvalidMedia
from media.decode import MAX_FPS, VideoLimits
from media.mp4 import write_mp4
from media.sampling import Sampling, decode_video, frames_within, sample_video_frames

SIDE = 64


def clip(tmp_path, frames, fps=24, name="v.mp4"):
    path = tmp_path / name
    write_mp4(frames, path, fps=fps)
    return path


def grey(level=100):
    return np.full((SIDE, SIDE, 3), level, np.uint8)


def halves(left, right):
    """Two halves of different brightness: swapping them keeps the histogram."""
    pixels = np.empty((SIDE, SIDE, 3), np.uint8)
    pixels[:, : SIDE // 2], pixels[:, SIDE // 2 :] = left, right
    return pixels


def test_at_least_two_frames_a_second_at_random_places_first_and_last(tmp_path):
    ramp = [np.full((SIDE, SIDE, 3), i, np.uint8) for i in range(240)]  # 10 s, 24 fps
    path = clip(tmp_path, ramp)
    first = sample_video_frames(path, Sampling(seed=1))
    times = [f.time_s for f in first.frames]
    assert first.total == 240
    assert times[0] == 0.0 and times[-1] == pytest.approx(239 / 24)
    for slot in range(20):  # each half second holds a sampled frame
        assert any(slot * 0.5 <= t < (slot + 1) * 0.5 for t in times), slot
    # Unseeded: the places change from call to call (a sender cannot aim between them).
    again = [[f.time_s for f in sample_video_frames(path).frames] for _ in range(3)]
    assert len({tuple(t) for t in again}) > 1


def test_sample_fps_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1 frame per second"):
        Sampling(fps=0.5)


def test_a_face_shown_for_half_a_second_is_always_seen(tmp_path):
    """12 frames (0.5 s) of other content in a 10 s clip, wherever they are, whatever the
    draw: 8 uniform frames left runs of 34 frames unseen."""
    for start in (7, 50, 101, 170, 221):
        frames = [grey()] * 240
        frames[start : start + 12] = [halves(250, 0)] * 12
        path = clip(tmp_path, frames, name=f"at{start}.mp4")
        for seed in range(5):
            sampled = sample_video_frames(path, Sampling(seed=seed)).frames
            assert any(f.pixels.mean(axis=(0, 1))[0] > 110 for f in sampled), (start, seed)


def test_an_insert_of_three_frames_is_sampled_wherever_it_is_placed(tmp_path):
    """Three frames whose histogram matches their surroundings (so no scene cut) but
    whose picture does not, at every place in a 10 s clip."""
    background, insert = halves(30, 220), halves(220, 30)
    for start in range(0, 237, 9):
        frames = [background] * 240
        frames[start : start + 3] = [insert] * 3
        path = clip(tmp_path, frames, name=f"ins{start}.mp4")
        sampled = sample_video_frames(path, Sampling(seed=start)).frames
        seen = [f for f in sampled if f.pixels[:, : SIDE // 2].mean() > 120]
        assert seen, start


def test_every_scene_cut_is_sampled_with_no_fixed_budget(tmp_path):
    """Ten early flashes no longer use up the cuts: a later cut is still sampled."""
    frames = [grey(20)] * 240
    for i in range(10):
        frames[2 + i * 3] = grey(240)  # flashes in the first 1.3 s
    frames[200:203] = [grey(200)] * 3  # a cut later on
    path = clip(tmp_path, frames)
    sampled = sample_video_frames(path, Sampling(seed=3)).frames
    times = {round(f.time_s * 24) for f in sampled}
    assert {2 + i * 3 for i in range(10)} <= times
    assert 200 in times


def test_a_strobe_past_the_cap_is_refused(tmp_path):
    strobe = [grey(20) if i % 2 else grey(240) for i in range(240)]
    with pytest.raises(InvalidMedia, match="too many to check"):
        sample_video_frames(clip(tmp_path, strobe), Sampling(seed=0))


def test_scene_cuts_are_sampled_beside_the_slots(tmp_path):
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (48, 48, 3), np.uint8)
    bright = rng.integers(190, 255, (48, 48, 3), np.uint8)
    frames = [dark] * 10 + [bright] * 7 + [dark] * 13  # cuts at frames 10 and 17
    sampled = sample_video_frames(clip(tmp_path, frames, fps=10), Sampling(seed=0)).frames
    times = [round(f.time_s, 1) for f in sampled]
    assert 1.0 in times and 1.7 in times
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 2.9


def test_variable_frame_rate_video_samples_by_time(tmp_path):
    from fractions import Fraction

    import av

    path = tmp_path / "vfr.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width = stream.height = 32
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, pts in enumerate([0, 30, 60, 500, 520, 2000]):  # uneven gaps, in ms
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), "rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            for p in stream.encode(frame):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    frames = sample_video_frames(path, Sampling(seed=0)).frames
    times = [round(f.time_s, 2) for f in frames]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 2.0


def test_a_video_with_no_frames_is_a_clear_error(tmp_path):
    import av

    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        out.start_encoding()  # header and trailer, no packets
    with pytest.raises(InvalidMedia, match="no decodable frames|no video stream"):
        decode_video(path.read_bytes(), VideoLimits(60, 4096, 10**7), Sampling())


def test_corrupt_frames_mid_stream_are_rejected_or_decoded_never_a_crash(tmp_path):
    frames = [np.full((64, 64, 3), i * 9, np.uint8) for i in range(24)]
    data = bytearray(clip(tmp_path, frames, fps=12).read_bytes())
    mdat = data.find(b"mdat")
    for offset in range(mdat + 64, len(data) - 64, 97):
        data[offset] ^= 0xFF  # damage the compressed frames themselves
    try:
        sampled, _ = decode_video(bytes(data), VideoLimits(60, 4096, 10**7), Sampling())
        assert sampled.frames and all(f.pixels.shape == (64, 64, 3) for f in sampled.frames)
    except InvalidMedia as e:
        assert "video" in str(e)


def timeless_ramp(path, frames: int, side: int = 64) -> bytes:
    """A raw H.264 stream (no container, so no durations or timestamps) whose frames get
    brighter with their index: what a video that lies about its length looks like."""
    from safety.service.fuzz import encode_h264

    ramp = (np.full((side, side, 3), i * 250 // frames, np.uint8) for i in range(frames))
    return encode_h264(path, ramp, side, side, container="h264")


def test_a_video_without_timing_is_sampled_over_all_of_it(tmp_path):
    """With no duration to go by, the first frames alone were checked: anything shown
    after them went unseen."""
    data = timeless_ramp(tmp_path / "ramp.h264", 1200)
    sampled, _ = decode_video(data, VideoLimits(120, 4096, 10**8), Sampling())
    brightness = [float(f.pixels.mean()) for f in sampled.frames]
    assert sampled.total == 1200
    assert max(brightness) > 200 and min(brightness) < 30  # the end and the start were seen


def test_a_video_with_more_frames_than_its_ceiling_allows_is_refused(tmp_path):
    """Timestamps can lie; the frame count cannot: past max_video_seconds at the highest
    frame rate accepted, the upload is refused before any frame is decoded."""
    data = timeless_ramp(tmp_path / "long.h264", 400)
    limits = VideoLimits(300 / MAX_FPS, 4096, 10**8)
    with pytest.raises(InvalidMedia, match="frames"):
        decode_video(data, limits, Sampling(), label="clip")


def test_a_video_without_timing_is_as_long_as_its_frames_make_it(tmp_path):
    data = timeless_ramp(tmp_path / "ramp.h264", 24 * 12)  # 12 s at 24 fps, no durations
    with pytest.raises(InvalidMedia, match="over the 0:00:10 limit"):
        decode_video(data, VideoLimits(10, 4096, 10**8), Sampling(), label="clip")


def test_the_frames_kept_are_bounded_in_memory(tmp_path):
    """However the frames change, what the sampler keeps stays under its budget."""
    rng = np.random.default_rng(1)
    noisy = [
        rng.integers(0, 255, (SIDE, SIDE, 3), np.uint8) if i % 2 else grey() for i in range(96)
    ]
    path = clip(tmp_path, noisy)
    budget = 40 * SIDE * SIDE * 3  # forty frames
    with pytest.raises(InvalidMedia, match="more distinct frames than can be checked"):
        sample_video_frames(path, Sampling(seed=0, max_kept_bytes=budget, max_extra_per_s=100))
    assert sample_video_frames(path, Sampling(seed=0, max_extra_per_s=100)).frames


_WATCHING: list[tuple] = []


def _audit(event, args):
    """Python's audit events for every file opened for writing (io.open and os.open)."""
    if not _WATCHING or event != "open":
        return
    _, mode, flags = args
    writing = os.O_WRONLY | os.O_RDWR | os.O_CREAT
    if (mode is not None and mode not in ("r", "rb")) or (mode is None and flags & writing):
        _WATCHING.append(args[:2])


sys.addaudithook(_audit)


def test_an_uploaded_video_is_decoded_in_memory_never_written_to_disk(tmp_path):
    """A known-CSAM upload must leave no copy: not even a temporary file while decoding."""
    data = clip(
        tmp_path, [np.full((64, 64, 3), v, np.uint8) for v in range(0, 240, 20)]
    ).read_bytes()
    _WATCHING.append(("watching",))
    try:
        sampled, _ = decode_video(data, VideoLimits(60, 4096, 10**7), Sampling())
    finally:
        opened = _WATCHING[1:]
        _WATCHING.clear()
    assert sampled.frames and opened == []


def _marked(on: bool) -> np.ndarray:
    """A grey frame, with a small bright mark when `on`: the content to be seen. The
    mark moves the luma thumbnail and histogram too little for the cut and insert passes
    (1.4 of 10), so only the slots' sampling can see it."""
    frame = grey()
    if on:
        frame[20:26, 30:36] = 255
    return frame


def _slots_seen(video: bytes, slot_s: float = 0.5) -> set[int]:
    frames = sample_video_frames(video).frames
    return {int(f.time_s // slot_s) for f in frames if f.pixels[20:26, 30:36].mean() > 180}


def test_a_picture_held_behind_a_one_millisecond_decoy_is_seen(tmp_path):
    """Shown for 0.499 s of every 0.5 s, then a 1 ms decoy at each slot's end: sampling the
    next frame to *start* after a random instant almost always lands on the decoy (and
    the file opens on one, so the always-sampled first frame is a decoy too). Sampling
    the frame *on screen* at that instant sees the picture in 99.8 % of slots."""
    from tests.displayed import stored_video

    frames, times = [_marked(False)], [0]
    for k in range(8):
        frames += [_marked(True), _marked(False)]
        times += [500 * k + (1 if k == 0 else 0), 500 * k + 499]
    frames.append(_marked(False))
    times.append(4000)
    video = stored_video(frames, times_ms=times)
    draws = [_slots_seen(video) for _ in range(20)]
    assert all(draws), "a draw never saw the picture"
    assert sum(len(seen) for seen in draws) >= 0.95 * 8 * len(draws)


@pytest.mark.parametrize("rate", ["constant", "variable"])
def test_content_on_screen_for_x_of_a_slot_is_seen_with_probability_x_times_fps(rate):
    """The guarantee stated in docs/fail-closed.md, over many draws: content on screen
    for 0.1 s of each 0.5 s slot (at a different place in each) is sampled in that slot
    with probability 0.1 × 2 = 0.2, whether frames last 50 ms each or uneven times."""
    from tests.displayed import stored_video

    rng = np.random.default_rng(7)
    frames, times = [], []
    for k in range(8):
        start = 500 * k + int(rng.integers(10, 390))  # the mark's 100 ms within the slot
        if rate == "constant":
            for t in range(500 * k, 500 * (k + 1), 50):
                frames.append(_marked(start <= t < start + 100))
                times.append(t)
        else:  # frames of 20-150 ms around the mark, which is cut in two uneven frames
            split = start + int(rng.integers(10, 90))
            cuts = sorted(
                {500 * k, start, split, start + 100, *(500 * k + rng.integers(1, 499, 3))}
            )
            for a in cuts:
                frames.append(_marked(start <= a < start + 100))
                times.append(int(a))
    frames.append(_marked(False))
    times.append(4000)
    video = stored_video(frames, times_ms=times, fps=20)
    draws = 60
    seen = sum(len(_slots_seen(video)) for _ in range(draws))
    rate_seen = seen / (8 * draws)
    assert 0.2 - 0.07 <= rate_seen <= 0.2 + 0.07, rate_seen


def test_the_frame_shown_to_a_reviewer_is_the_one_on_screen(tmp_path):
    from media.sampling import frame_shown_at
    from tests.displayed import stored_video

    video = stored_video([_marked(False), _marked(True), _marked(False)], times_ms=[0, 100, 900])
    assert frame_shown_at(video, 0.5)[20:26, 30:36].mean() > 180  # shown since 0.1 s
    assert frame_shown_at(video, 0.05)[20:26, 30:36].mean() < 150


def test_the_frames_around_a_time_are_decoded_at_full_rate_within_a_bound(tmp_path):
    ramp = [np.full((SIDE, SIDE, 3), i, np.uint8) for i in range(72)]  # 3 s, 24 fps
    path = clip(tmp_path, ramp)
    frames = frames_within(path, [(2.0, 2.1), (0.5, 0.6)])
    times = [round(f.time_s * 24) for f in frames]
    assert times == [12, 13, 14, 48, 49, 50]  # every frame of both windows, in order
    assert frames[0].pixels.shape == (SIDE, SIDE, 3)
    assert len(frames_within(path, [(0.0, 3.0)], limit=10)) == 10
    assert frames_within(path, []) == []

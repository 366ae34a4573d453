import numpy as np
import pytest

from safety.errors import InvalidInput
from safety.media import decode_image, sample_video_frames
from tests.support import encode


def test_decodes_common_formats_to_rgb(astronaut):
    for fmt in ("PNG", "JPEG", "WEBP"):
        img = decode_image(encode(astronaut, fmt), max_pixels=10**7)
        assert img.pixels.shape == (512, 512, 3) and img.pixels.dtype == np.uint8
        assert img.mime_type == f"image/{fmt.lower()}"


def test_grayscale_and_alpha_become_rgb():
    gray = np.zeros((32, 32), np.uint8)
    rgba = np.zeros((32, 32, 4), np.uint8)
    assert decode_image(encode(gray), max_pixels=10**6).pixels.shape == (32, 32, 3)
    assert decode_image(encode(rgba), max_pixels=10**6).pixels.shape == (32, 32, 3)


def test_pixel_ceiling_is_checked_before_decoding(astronaut):
    with pytest.raises(InvalidInput, match="0.3 megapixels, over the 0 MP limit"):
        decode_image(encode(astronaut), max_pixels=1000)


def test_tiny_images_are_rejected():
    with pytest.raises(InvalidInput, match="at least 16"):
        decode_image(encode(np.zeros((8, 8, 3), np.uint8)), max_pixels=10**6)


def test_uniform_sampling_keeps_first_and_last(tmp_path):
    from generator.base import write_mp4

    frames = [np.full((32, 32, 3), i * 10, np.uint8) for i in range(20)]
    write_mp4(frames, tmp_path / "v.mp4", fps=10)
    sampled = sample_video_frames(tmp_path / "v.mp4", 5, cut_threshold=2.0)  # no cuts
    assert len(sampled) == 5
    assert sampled[0].time_s == 0.0 and sampled[-1].time_s == pytest.approx(1.9)
    assert abs(int(sampled[-1].pixels.mean()) - 190) < 6


def test_scene_cuts_are_sampled_beside_the_uniform_frames(tmp_path):
    from generator.base import write_mp4

    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (48, 48, 3), np.uint8)
    bright = rng.integers(190, 255, (48, 48, 3), np.uint8)
    frames = [dark] * 10 + [bright] * 7 + [dark] * 13  # cuts at frames 10 and 17
    write_mp4(frames, tmp_path / "v.mp4", fps=10)
    sampled = sample_video_frames(tmp_path / "v.mp4", 4)
    times = [round(f.time_s, 1) for f in sampled]
    # Uniform frames 0, 10, 19, 29 (frame 10 is also the first cut), plus the cut at 17.
    assert times == [0.0, 1.0, 1.7, 1.9, 2.9]
    assert sampled[1].pixels.mean() > 150 and sampled[2].pixels.mean() < 60


def test_video_limits_are_checked_before_decoding(tmp_path):
    from generator.base import write_mp4
    from safety.media import VideoLimits, probe_video

    write_mp4([np.zeros((32, 64, 3), np.uint8)] * 30, tmp_path / "v.mp4", fps=10)
    info = probe_video(tmp_path / "v.mp4", VideoLimits(10, 100, 10**6))
    assert (info.width, info.height, info.codec) == (64, 32, "h264")
    assert info.duration_s == pytest.approx(3.0, abs=0.15)
    with pytest.raises(InvalidInput, match="over the 0:00:02 limit"):
        probe_video(tmp_path / "v.mp4", VideoLimits(2, 100, 10**6))
    with pytest.raises(InvalidInput, match="at most 48 px a side"):
        probe_video(tmp_path / "v.mp4", VideoLimits(10, 48, 10**6))

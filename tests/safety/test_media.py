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
    sampled = sample_video_frames(tmp_path / "v.mp4", 5)
    assert len(sampled) == 5
    assert sampled[0].time_s == 0.0 and sampled[-1].time_s == pytest.approx(1.9)
    assert abs(int(sampled[-1].pixels.mean()) - 190) < 6

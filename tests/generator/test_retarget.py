"""Reading an actor's frames as expression: what each frame is read against (the face at
rest), and the smoothing in time. Real faces (Grace Hopper as the actor, the astronaut
as the character), their landmarks moved by the test; no video, no server."""

from __future__ import annotations

import numpy as np
import pytest

from generator.face_mesh import (
    LIPS,
    UPPER_LIDS,
    Face,
    FaceMesh,
    eye_openings,
    eye_width,
    interocular,
    mouth_opening,
)
from generator.retarget import neutral_face, retarget, smooth

INNER_LOWER = [95, 88, 178, 87, 14, 317, 402, 318, 324]
OUTER_LOWER = [146, 91, 181, 84, 17, 314, 405, 321, 375]
CORNERS_LEFT, CORNERS_RIGHT = [61, 78], [291, 308]


@pytest.fixture(scope="module")
def faces(hopper, astronaut):
    mesh = FaceMesh()
    return mesh.detect(hopper), mesh.detect(astronaut)


def moved(face: Face, gap: float = 0.0, wider: float = 0.0, iris: float = 0.0) -> Face:
    """`face` with its lower lip `gap` and its mouth corners `wider` (in interocular
    distances) further apart, and its image-left iris moved `iris` eye widths along its
    eye."""
    points, irises = face.points.copy(), face.irises.copy()
    unit = interocular(face.points)
    points[INNER_LOWER + OUTER_LOWER, 1] += gap * unit
    points[CORNERS_LEFT, 0] -= wider * unit / 2
    points[CORNERS_RIGHT, 0] += wider * unit / 2
    along = face.points[133, :2] - face.points[33, :2]  # eye 0, outer to inner corner
    irises[0] += iris * along
    return Face(points, irises, face.score)


def test_closed_lips_are_read_against_the_clips_closed_mouth(faces):
    """An actor whose narrowest mouth is parted (vid_retalking_face1: its most neutral
    frame had the lips open at 0.042 of the face, its closed mouth 0.012): read against
    that frame, every closed mouth pressed the character's lips past shut. The lips are
    read against the clip's closed mouth: closed lips close the character's."""
    actor, character = faces
    clip = [moved(actor, gap=0.04)] + [moved(actor, wider=0.06) for _ in range(19)]
    closed = clip[5]
    own = mouth_opening(character.points)
    target = retarget(character, clip[0], neutral_face(clip), closed)
    assert abs(mouth_opening(target.points) - own) < 0.01
    against_the_parted = retarget(character, clip[0], clip[0], closed)
    assert abs(mouth_opening(against_the_parted.points) - own) > 0.02  # the old reading


def test_one_misread_iris_does_not_move_where_the_character_looks(faces):
    """The gaze is read against the irises of the five most neutral frames on average:
    an iris misread a fifth of its eye along in the most neutral frame (lashes, a
    reflection) would otherwise turn every frame of the character's gaze by as much."""
    actor, character = faces
    # Mouths a little wider frame by frame: frame 0 is the most neutral, the rest follow.
    clip = [moved(actor, wider=0.002 * i) for i in range(10)]
    clip[0] = moved(clip[0], iris=0.2)
    ahead = clip[9]  # the iris where it truly sits
    width = eye_width(character.points, 0)

    def turned(rest: Face) -> float:
        target = retarget(character, clip[0], rest, ahead)
        posed_own = retarget(character, clip[0], ahead, ahead).irises[0]
        return float(np.linalg.norm(target.irises[0] - posed_own) / width)

    assert turned(neutral_face(clip)) < 0.06
    assert turned(clip[0]) > 0.15  # read against that one frame


def test_lips_follow_a_step_without_lag_and_still_lips_do_not_jitter():
    """The lips are filtered both ways (the whole clip is known): a mouth that opens at
    once is halfway there across the step, where the forward filter alone is late; the
    rest of the face keeps the forward filter's behaviour."""
    base = np.random.default_rng(2).uniform(0, 100, (468, 3)).astype(np.float32)
    base[33, :2], base[263, :2] = (30, 50), (70, 50)  # 40 px between the eyes
    step = [base] * 10 + [base + np.float32(20)] * 10  # a 20 px jump at frame 10
    out = smooth([Face(p, p[[33, 263], :2], 1.0) for p in step], fps=24)
    lip, other = LIPS[0], 1
    across = (out[9].points[lip, 0] + out[10].points[lip, 0]) / 2 - base[lip, 0]
    assert abs(across - 10) < 0.5  # centred on the step: no lag
    late = (out[9].points[other, 0] + out[10].points[other, 0]) / 2 - base[other, 0]
    assert late < 9.5  # the forward filter alone lags
    rng = np.random.default_rng(3)
    still = [base + rng.normal(0, 0.8, base.shape).astype(np.float32) for _ in range(30)]
    calm = smooth([Face(p, p[[33, 263], :2], 1.0) for p in still], fps=24)
    assert np.std([f.points[lip, 0] for f in calm[10:20]]) < 0.5 * np.std(
        [p[lip, 0] for p in still]
    )


def test_a_clip_whose_eyes_never_look_usual_still_has_a_face_at_rest(faces):
    """Two frames, eyes far apart (a hostile or very short driving video): no frame is
    within a tenth of the median; every frame counts, nothing fails."""
    actor, _ = faces
    squint = Face(actor.points.copy(), actor.irises, actor.score)
    squint.points[np.concatenate(UPPER_LIDS), 1] += 0.2 * eye_width(actor.points, 0)
    assert not (0.9 < eye_openings(squint.points).mean() / eye_openings(actor.points).mean())
    rest = neutral_face([actor, moved(squint, gap=0.03)])
    assert np.isfinite(rest.points).all() and np.isfinite(rest.irises).all()

"""An actor's face, frame by frame, read as motion and put on a character's face.

Each tracked frame is read as a head pose relative to the actor's first frame, a 3-D
similarity (turn, nod, roll, scale, shift) fitted on points expression hardly moves, plus
the expression left once that pose is undone, relative to the actor's face at rest
(`neutral_face`). The expression, scaled to the character's
face, moves the character's own 3-D landmarks; the pose turns them (yaw and pitch
foreshorten the face as a turned head does), and the eyes' irises move across their eyes
as the actor's do. Landmarks are smoothed in time by a One-Euro filter (Casiez et al.,
CHI 2012): still faces do not jitter, fast motion is not delayed; the lips' points are
filtered forwards and backwards (the whole clip is known), so a mouth has no lag at all.
"""

from __future__ import annotations

import numpy as np

from generator.face_mesh import (
    EYES,
    LIPS,
    LOWER_LIDS,
    STABLE,
    UPPER_LIDS,
    Face,
    eye_openings,
    interocular,
    mouth_opening,
    mouth_width,
)

MAX_TURN = np.radians(35)  # yaw, pitch and roll, each at most
MAX_ZOOM = 1.3
MAX_SHIFT = 0.35  # head translation, at most this much of the face's width
GAZE_LIMIT = 0.25  # an iris moves at most this much of its eye's width
# The lips' expression is the actor's, unscaled: on the people set's 17 actor clips the
# Face Mesh and dlib's 68 points read the same mouth openings (least squares of dlib's
# on the mesh's, all frames: slope 0.96; per clip 0.78-1.26, one 2.2). A gain of 2, set
# on an earlier reading, doubled wide openings into a gape dlib could not read back
# (bench/performance.py --people: mouth median 0.77 -> 0.81, smile 0.70 -> 0.79 without).
# The lids' expression is scaled up a little: even with the iris model's lids
# (face_mesh.refine_lids) the mesh reads an eye's opening smaller than dlib does. A blink
# is no longer shown by the warp but by the actor's own lids (generator/eyelids.py), so
# the gain of 3 that pushed the warp towards shut came down: it also tore eyes near a
# face's edge under a turned head (vid_tpsmm_driving on img_hallo_ref3: faces found in
# 93 % of frames at 3, 97-98 % at 1.5; eye opening median 0.72-0.75 at 1.5 against 0.73;
# blinks 27-29 of 51 against 30; bench/performance.py --people --frames 96). The lids
# never pass shut (_keep_lids_apart).
LID_GAIN = 1.5
LIDS = np.concatenate([*UPPER_LIDS, *LOWER_LIDS])
# The gaze is read against where the irises sit, on average, in this many of the most
# neutral frames (`neutral_face`).
REST_FRAMES = 5


class OneEuro:
    """A One-Euro low-pass filter over arrays: cut-off `min_cutoff` Hz when still, rising
    by `beta` per unit of speed (units: the values' own per second)."""

    def __init__(self, fps: float, min_cutoff: float = 1.0, beta: float = 8.0) -> None:
        self.rate, self.min_cutoff, self.beta = fps, min_cutoff, beta
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None

    def _alpha(self, cutoff):
        tau = 1.0 / (2 * np.pi * cutoff)
        return 1.0 / (1.0 + tau * self.rate)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.value is None:
            self.value, self.speed = x.copy(), np.zeros_like(x)
            return x
        speed = (x - self.value) * self.rate
        self.speed = self.speed + self._alpha(1.0) * (speed - self.speed)
        alpha = self._alpha(self.min_cutoff + self.beta * np.abs(self.speed))
        self.value = self.value + alpha * (x - self.value)
        return self.value.copy()


def smooth(faces: list[Face], fps: float) -> list[Face]:
    """The faces' landmarks and irises through a One-Euro filter, in units of the face's
    size (so the same settings suit a close-up and a wide shot). The lips are also
    filtered backwards and the two passes averaged: the forward filter alone put the
    character's smile 0.8 frames behind the actor's (best-lag cross-correlation on the
    people set), and a smile read late reads weaker (bench/performance.py --people:
    smile 0.78 -> 0.83 with the lips' own rest in `neutral_face`)."""
    if not faces:
        return []
    unit = max(interocular(faces[0].points), 1e-6)
    points, irises, backwards = OneEuro(fps), OneEuro(fps), OneEuro(fps)
    lips_back = [backwards(f.points[LIPS] / unit) for f in reversed(faces)][::-1]
    out = []
    for face, lips in zip(faces, lips_back, strict=True):
        forward = points(face.points / unit)
        forward[LIPS] = (forward[LIPS] + lips) / 2
        out.append(Face(forward * unit, irises(face.irises / unit) * unit, face.score))
    return out


def fill_gaps(tracked: list[Face | None]) -> list[int]:
    """For each frame, the frame whose face stands for it: its own, or while the face is
    lost the last one found (before the first face, the first); no face at all raises
    ValueError."""
    found = [i for i, f in enumerate(tracked) if f is not None]
    if not found:
        raise ValueError("no face")
    out, last = [], found[0]
    for i, face in enumerate(tracked):
        last = i if face is not None else last
        out.append(last)
    return out


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    cy, sy, cp, sp, cr, sr = (np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch),
                              np.cos(roll), np.sin(roll))  # fmt: skip
    about_y = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    about_x = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    about_z = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return about_z @ about_y @ about_x


def _angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """yaw, pitch, roll of a rotation made as `_rotation` makes it."""
    pitch = float(np.arctan2(rotation[2, 1], rotation[2, 2]))
    yaw = float(np.arcsin(np.clip(-rotation[2, 0], -1.0, 1.0)))
    roll = float(np.arctan2(rotation[1, 0], rotation[0, 0]))
    return yaw, pitch, roll


def head_pose(neutral: np.ndarray, current: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The 3-D similarity (scale, rotation, shift) taking the neutral face's stable points
    to the current frame's (Umeyama's least squares), each angle at most MAX_TURN and the
    scale within MAX_ZOOM: a fit gone astray must not fold the face."""
    a, b = neutral[STABLE].astype(np.float64), current[STABLE].astype(np.float64)
    ca, cb = a.mean(axis=0), b.mean(axis=0)
    u, sigma, vt = np.linalg.svd((b - cb).T @ (a - ca))
    d = np.sign(np.linalg.det(u @ vt))
    fix = np.diag([1.0, 1.0, d])
    rotation = u @ fix @ vt
    scale = float(np.trace(np.diag(sigma) @ fix) / max(((a - ca) ** 2).sum(), 1e-9))
    yaw, pitch, roll = (float(np.clip(v, -MAX_TURN, MAX_TURN)) for v in _angles(rotation))
    rotation = _rotation(yaw, pitch, roll)
    scale = float(np.clip(scale, 1 / MAX_ZOOM, MAX_ZOOM))
    shift = cb - scale * rotation @ ca
    return scale, rotation, shift


def _usual_eyes(faces: list[Face]) -> np.ndarray:
    """Per frame, whether the eyes are as open as they usually are (within a tenth of
    the clip's median; every frame, where none is: two frames far apart): a rest frame
    with half-closed eyes made every ordinary frame a stare, with the lids' gain."""
    eyes = np.array([eye_openings(f.points).mean() for f in faces])
    typical = np.median(eyes)
    usual = np.abs(eyes - typical) <= 0.1 * typical
    return usual if usual.any() else np.ones_like(usual)


def neutral_order(opening: np.ndarray, width: np.ndarray, usual: np.ndarray) -> np.ndarray:
    """The frames with the eyes as open as usual (`usual`), most neutral first: the
    mouth most closed and least wide (a clip may start on a smile or a blink). `opening`
    and `width`: each frame's mouth_opening and mouth_width."""
    score = opening + width - width.min()
    return np.flatnonzero(usual)[np.argsort(score[usual], kind="stable")]


def closed_mouth_index(opening: np.ndarray, width: np.ndarray, usual: np.ndarray) -> int:
    """The frame the lips are read against: among frames with the eyes as open as
    usual, the tenth least open, then the least wide of those. The most neutral frame
    weighs the mouth's opening against its width; on vid_retalking_face1 it chose lips
    open at 0.042 of the face where the clip's closed mouth reads 0.012, so a closed
    mouth read as lips pressed past shut and the character's moved 0.3x the actor's."""
    closed = usual & (opening <= np.percentile(opening[usual], 10))
    return int(np.argmin(np.where(closed, width, np.inf)))


def neutral_face(faces: list[Face]) -> Face:
    """The actor's face at rest, what every frame's expression is read against: the most
    neutral frame (`neutral_order`), its lips taken from the clip's closed mouth
    (`closed_mouth_index`, carried into that frame's pose), its irises where the
    REST_FRAMES most neutral frames have them on average, as places in their eyes. One
    frame's iris reading is noisy: two settings whose most neutral frames were
    neighbours (74 and 75) read vid_tpsmm_driving's readable gaze at 0.50 and 0.70;
    with the irises averaged, 0.67 and 0.71 (bench/performance.py --people)."""
    if not faces:
        raise ValueError("no face")
    usual = _usual_eyes(faces)
    opening = np.array([mouth_opening(f.points) for f in faces])
    width = np.array([mouth_width(f.points) for f in faces])
    order = neutral_order(opening, width, usual)
    rest = faces[order[0]]
    points = rest.points.copy()
    points[LIPS] = unposed(rest, faces[closed_mouth_index(opening, width, usual)])[LIPS]
    chosen = order[:REST_FRAMES]
    irises = np.empty((2, 2), np.float32)
    for k in range(2):
        place = np.mean([_in_eye(faces[i].points, k, faces[i].irises[k]) for i in chosen], axis=0)
        irises[k] = _from_eye(points, k, place)
    return Face(points.astype(np.float32), irises, rest.score)


def unposed(reference: Face, face: Face) -> np.ndarray:
    """`face`'s landmarks with its head pose relative to `reference` undone."""
    scale, rotation, shift = head_pose(reference.points, face.points)
    return ((face.points - shift) @ rotation) / scale


def retarget(character: Face, pose: Face, rest: Face, current: Face) -> Face:
    """Where the character's landmarks and irises go for one frame of the actor's: the
    head posed as the actor's is relative to `pose` (the first frame), the expression as
    the actor's differs from `rest` (the most neutral frame)."""
    scale, rotation, shift = head_pose(pose.points, current.points)
    undone = ((current.points - shift) @ rotation) / scale  # the expression, pose removed
    size = interocular(character.points) / max(interocular(pose.points), 1e-6)
    expression = (undone - unposed(pose, rest)) * size
    expression[LIDS, 1] *= LID_GAIN  # openings only: up and down in the face's own frame
    _keep_lids_apart(character.points, expression)
    expressed = character.points + expression
    centre_n = pose.points[STABLE].mean(axis=0)
    centre_c = character.points[STABLE].mean(axis=0)
    moved = (scale * rotation @ centre_n + shift - centre_n)[:2] * size
    width = np.ptp(character.points[:, 0])
    moved = np.clip(moved, -MAX_SHIFT * width, MAX_SHIFT * width)
    posed = (expressed - centre_c) @ rotation.T * scale + centre_c
    posed[:, :2] += moved
    return Face(posed.astype(np.float32), _irises(character, rest, current, posed), 1.0)


def _keep_lids_apart(character: np.ndarray, expression: np.ndarray) -> None:
    """A blink closes the character's eye, never past shut: each eye's lid motion is
    scaled down (in place) where it would bring the lids nearer than a tenth of their
    rest gap."""
    for upper, lower in zip(UPPER_LIDS, LOWER_LIDS, strict=True):
        gap = float(character[lower, 1].mean() - character[upper, 1].mean())
        change = float(expression[lower, 1].mean() - expression[upper, 1].mean())
        if gap > 0 and change < 0 and gap + change < 0.1 * gap:
            expression[np.concatenate([upper, lower]), 1] *= 0.9 * gap / -change


def _irises(character: Face, rest: Face, current: Face, posed: np.ndarray) -> np.ndarray:
    """Each character iris where the actor's is, relative to its eye: moved along the eye
    (its corners' line) and across it, in units of the eye's width, as far as the actor's
    moved from the rest frame."""
    out = np.empty((2, 2), np.float32)
    for k in range(2):
        actor_moved = _in_eye(current.points, k, current.irises[k]) - _in_eye(
            rest.points, k, rest.irises[k]
        )
        place = _in_eye(character.points, k, character.irises[k])
        place += np.clip(actor_moved, -GAZE_LIMIT, GAZE_LIMIT)
        out[k] = _from_eye(posed, k, place)
    return out


def _in_eye(points: np.ndarray, eye: int, xy: np.ndarray) -> np.ndarray:
    """`xy` in the eye's own frame: along its corners' line (0 outer, 1 inner) and across
    it, both in units of the eye's width."""
    outer, inner = EYES[eye]
    a = points[outer, :2]
    along = points[inner, :2] - a
    width2 = max(float(np.dot(along, along)), 1e-12)
    across = np.array([-along[1], along[0]])
    return np.array([np.dot(xy - a, along) / width2, np.dot(xy - a, across) / width2])


def _from_eye(points: np.ndarray, eye: int, place: np.ndarray) -> np.ndarray:
    """A place in the eye's own frame (`_in_eye`) as image pixels."""
    outer, inner = EYES[eye]
    a = points[outer, :2]
    along = points[inner, :2] - a
    across = np.array([-along[1], along[0]])
    return a + along * place[0] + across * place[1]

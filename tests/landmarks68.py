"""dlib's 68-point face landmarks, for measuring only: the tests and benches read an
output's face with a landmark model other than the one that drives the transfer
(MediaPipe's Face Mesh, generator/face_mesh.py). The 68-point model was trained on iBUG
300-W, whose terms forbid commercial use: nothing the product runs loads it. The file
comes with `face-recognition-models`, installed for the likeness encoder's other models.

Landmark indices follow iBUG 300-W: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
outer lips 48-59, inner lips 60-67.
"""

from __future__ import annotations

import threading

import numpy as np

from safety.likeness.checker import dlib_models_dir

INNER_LIPS_TOP, INNER_LIPS_BOTTOM = np.array([61, 62, 63]), np.array([67, 66, 65])


def interocular(points: np.ndarray) -> float:
    """Distance between the eyes' outer corners: the face's scale."""
    return float(np.linalg.norm(points[45] - points[36]))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the interocular distance (0: closed)."""
    gap = np.linalg.norm(points[INNER_LIPS_TOP] - points[INNER_LIPS_BOTTOM], axis=1).mean()
    return float(gap / max(interocular(points), 1e-6))


def smile_width(points: np.ndarray) -> float:
    """Mouth corners apart over the interocular distance."""
    return float(np.linalg.norm(points[54] - points[48]) / max(interocular(points), 1e-6))


def eye_aperture(points: np.ndarray) -> float:
    """Both eyes' lid gap over their width, averaged (about 0.3 open, under 0.15 shut)."""
    out = []
    for corners, upper, lower in (((36, 39), (37, 38), (41, 40)), ((42, 45), (43, 44), (47, 46))):
        width = np.linalg.norm(points[corners[1]] - points[corners[0]])
        gap = np.linalg.norm(points[list(upper)] - points[list(lower)], axis=1).mean()
        out.append(gap / max(width, 1e-6))
    return float(np.mean(out))


def head_roll(points: np.ndarray) -> float:
    """The eye line's angle, in degrees."""
    return float(np.degrees(np.arctan2(*(points[45] - points[36])[::-1])))


def eye_gazes(grey: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """Where each eye looks, left to right: the darkest fifth of its pixels (the iris
    and pupil) as a place between its corners (0 to 1; NaN for an eye of under six
    pixels). Read off the pixels, not off a landmark model's iris."""
    import cv2

    out = []
    for eye in (points[36:42], points[42:48]):
        mask = np.zeros(grey.shape, np.uint8)
        cv2.fillConvexPoly(mask, np.round(eye).astype(np.int32), 1)
        ys, xs = np.nonzero(mask)
        if len(xs) < 6:
            out.append(float("nan"))
            continue
        values = grey[ys, xs]
        dark = values <= np.percentile(values, 20)
        centre = np.array([xs[dark].mean(), ys[dark].mean()])
        a, b = eye[0], eye[3]
        axis = b - a
        out.append(float(np.dot(centre - a, axis) / max(np.dot(axis, axis), 1e-6)))
    return out[0], out[1]


def gaze(grey: np.ndarray, points: np.ndarray) -> float:
    """Both eyes' `eye_gazes`, averaged."""
    values = [g for g in eye_gazes(grey, points) if not np.isnan(g)]
    return float(np.mean(values)) if values else float("nan")


class Landmarks:
    """68 landmarks of the largest face; thread-safe (dlib's models are not re-entrant)."""

    def __init__(self) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self._predictor = dlib.shape_predictor(
            str(dlib_models_dir() / "shape_predictor_68_face_landmarks.dat")
        )
        self._lock = threading.Lock()

    def detect(self, grey: np.ndarray) -> np.ndarray | None:
        """(68, 2) float landmarks of the largest face in a uint8 greyscale image."""
        with self._lock:
            rects = self._detector(grey, 1)
            if not rects:
                return None
            rect = max(rects, key=lambda r: r.width() * r.height())
            return self._shape(grey, rect)

    def _shape(self, grey: np.ndarray, rect) -> np.ndarray:
        shape = self._predictor(grey, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

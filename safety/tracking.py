"""Face tracks: the faces of sampled frames linked into one track per person.

A track is one person only if its faces agree: box overlap links consecutive frames when
the embeddings match too, so someone stepping into another's place starts a new track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, width, height
    confidence: float
    embedding: np.ndarray


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


@dataclass(eq=False)  # compared by identity while linking
class FaceTrack:
    """One person's face followed across sampled frames."""

    id: int
    times: list[float]
    boxes: list[tuple[int, int, int, int]]
    embeddings: list[np.ndarray]

    def centroid(self) -> np.ndarray:
        v = np.mean([e / np.linalg.norm(e) for e in self.embeddings], axis=0)
        return v / np.linalg.norm(v)


def track_faces(
    frames: list[tuple[float, list[Face]]],
    min_iou: float = 0.3,
    same_person: float = 0.93,
    link_similarity: float = 0.85,
) -> list[FaceTrack]:
    """Link faces frame to frame: by box overlap with the previous frame when the faces
    also agree (cosine >= `link_similarity`: someone else stepping into the same place
    starts a track of their own), else by identity similarity to an earlier track (a
    person returning after a cut), else a new track."""
    tracks: list[FaceTrack] = []
    previous: list[FaceTrack] = []
    for time_s, faces in frames:
        current: list[FaceTrack] = []
        for face in faces:
            unit = face.embedding / np.linalg.norm(face.embedding)
            candidates = [t for t in previous if t not in current]
            best = max(candidates, key=lambda t: _iou(t.boxes[-1], face.box), default=None)
            if best is not None and (
                _iou(best.boxes[-1], face.box) < min_iou
                or float(_unit(best.embeddings[-1]) @ unit) < link_similarity
            ):
                best = None
            if best is None:
                others = [t for t in tracks if t not in current]
                best = max(others, key=lambda t: float(t.centroid() @ unit), default=None)
                if best is not None and float(best.centroid() @ unit) < same_person:
                    best = None
            if best is None:
                best = FaceTrack(len(tracks), [], [], [])
                tracks.append(best)
            best.times.append(time_s)
            best.boxes.append(face.box)
            best.embeddings.append(face.embedding)
            current.append(best)
        previous = current
    return tracks


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)

"""Face tracks: the faces of sampled frames linked into one track per person.

A track is one person only if its faces agree: box overlap links consecutive frames when
the embeddings match too, so someone stepping into another's place starts a new track.

Embedding is the costly step (dlib's ResNet: ~55 ms a face, detection ~35 ms a frame), so
a face that overlaps one in the previous sampled frame and still looks like it (the crops
correlate) reuses that face's embedding; a new face, a changed look, or every
`refresh_every` frames of a track, is embedded anew (`plan_embeddings`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height
Detection = tuple[Box, float]  # a face's box and the detector's confidence
FaceKey = tuple[int, int]  # (frame index, detection index)


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


def plan_embeddings(
    detections: list[list[Detection]],
    looks: list[list[np.ndarray]],
    min_iou: float = 0.3,
    same_look: float = 0.8,
    refresh_every: int = 8,
) -> dict[FaceKey, FaceKey]:
    """For every detected face, the face whose embedding it takes: itself when it must be
    embedded, else the embedded face it continues. `looks` are the faces' signatures
    (unit-normalised grey crops); a continued face is compared with the one embedded, so
    a slow change still adds up to a new embedding."""
    source: dict[FaceKey, FaceKey] = {}
    previous: list[tuple[Box, np.ndarray, FaceKey, int]] = []  # box, embedded look, key, age
    for fi, frame in enumerate(detections):
        current, taken = [], set()
        for di, (box, _) in enumerate(frame):
            look = looks[fi][di]
            scored = [(_iou(p[0], box), n) for n, p in enumerate(previous) if n not in taken]
            overlap, n = max(scored, default=(0.0, -1))
            if overlap >= min_iou:
                _, embedded_look, key, age = previous[n]
                if float(embedded_look @ look) >= same_look and age + 1 < refresh_every:
                    taken.add(n)
                    source[(fi, di)] = key
                    current.append((box, embedded_look, key, age + 1))
                    continue
            source[(fi, di)] = (fi, di)
            current.append((box, look, (fi, di), 0))
        previous = current
    return source

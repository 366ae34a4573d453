"""The faces already found: the likeness check's boxes, kept for the body measure.

The body measure (safety/moderators/body.py) needs each hit frame's faces; the likeness
check found them moments earlier on the very same frames.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from functools import partial

import numpy as np

from safety.likeness.tracking import Box


def face_boxes(embedder) -> Callable[[list[np.ndarray]], list[list[Box]]]:
    """Each frame's face boxes, by the cheapest stage the embedder offers."""
    detect = getattr(embedder, "detect_frames", None)
    if detect is not None:
        return lambda frames: [[box for box, _ in found] for found in detect(frames)]
    many = getattr(embedder, "faces_of_frames", None)
    if many is not None:
        return lambda frames: [[face.box for face in found] for found in many(frames)]
    return lambda frames: [[face.box for face in embedder.faces(px)] for px in frames]


class FaceMemory:
    """The face boxes the likeness check found on each frame, for as long as the frame
    lives: the body measure (safety/moderators/body.py) asks for the same frames' faces
    moments later and need not detect them again (53 ms for a 512² frame). Frames it has
    not seen are detected."""

    def __init__(self, detect: Callable[[list[np.ndarray]], list[list[Box]]]) -> None:
        self._detect = detect
        self._seen: dict[int, tuple[weakref.ref, list[Box]]] = {}
        self._lock = threading.Lock()

    def remember(self, frames: list[np.ndarray], boxes: list[list[Box]]) -> None:
        with self._lock:
            for pixels, found in zip(frames, boxes, strict=True):
                key = id(pixels)
                forget = partial(self._forget, key)
                self._seen[key] = (weakref.ref(pixels, forget), list(found))

    def _forget(self, key: int, ref: weakref.ref) -> None:
        with self._lock:
            if key in self._seen and self._seen[key][0] is ref:
                del self._seen[key]

    def __call__(self, frames: list[np.ndarray]) -> list[list[Box]]:
        with self._lock:
            known = [self._seen.get(id(px)) for px in frames]
        out = [
            entry[1] if entry is not None and entry[0]() is px else None
            for px, entry in zip(frames, known, strict=True)
        ]
        missing = [i for i, found in enumerate(out) if found is None]
        if missing:
            for i, found in zip(missing, self._detect([frames[i] for i in missing]), strict=True):
                out[i] = found
        return out

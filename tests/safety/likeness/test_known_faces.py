"""The likeness check's face boxes, kept for the body measure while the frame lives."""

from __future__ import annotations

import gc

import numpy as np

from safety.likeness.known_faces import FaceMemory


class Counting:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def __call__(self, frames):
        self.asked.append(len(frames))
        return [[(1, 2, 3, 4)] for _ in frames]


def test_a_frame_the_likeness_check_saw_is_not_detected_again():
    detect = Counting()
    memory = FaceMemory(detect)
    seen, unseen = np.zeros((8, 8, 3), np.uint8), np.ones((8, 8, 3), np.uint8)
    memory.remember([seen], [[(0, 0, 5, 5)]])
    assert memory([seen, unseen]) == [[(0, 0, 5, 5)], [(1, 2, 3, 4)]]
    assert detect.asked == [1]  # only the frame it had not seen


def test_a_frame_is_forgotten_when_it_is_freed():
    """Memory stays bounded by the frames alive; a new array at the same address is
    never answered with an old frame's faces."""
    detect = Counting()
    memory = FaceMemory(detect)
    frame = np.zeros((8, 8, 3), np.uint8)
    memory.remember([frame], [[(0, 0, 5, 5)]])
    del frame
    gc.collect()
    assert memory._seen == {}
    assert memory([np.zeros((8, 8, 3), np.uint8)]) == [[(1, 2, 3, 4)]]

"""Helpers that run in the face workers: an embedder that hangs on a frame whose first
pixel is red, and a probe of what a worker has imported.

They live in a module of their own because the pool's workers import them by name."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


class StuckOnRed:
    def __init__(self, pid_dir: str, min_face_size: int) -> None:
        self.pid_dir = Path(pid_dir)

    def faces(self, pixels):
        return self.detect(pixels)

    def detect(self, pixels):
        if pixels[0, 0, 0] == 255:
            (self.pid_dir / str(os.getpid())).touch()  # the test checks this worker died
            time.sleep(3600)
        return []

    def embed(self, pixels, box):
        raise AssertionError("no face was detected, so none is embedded")


def loaded(module: str) -> bool:
    """Whether `module` is imported in this (worker) process."""
    return module in sys.modules

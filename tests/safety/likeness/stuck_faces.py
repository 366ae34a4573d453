"""A face embedder for worker-process tests: it hangs on a frame whose first pixel is red.

It lives in a module of its own because the pool's spawned workers import it by name."""

from __future__ import annotations

import os
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
    import sys

    return module in sys.modules

"""Performance transfer: frames per second of the built-in backend at 512² on one core.

    taskset -c 0 python bench/performance.py [--frames 48]   # one core (x264 threads too)

An actor clip is made from a real photo (tests/support.py `talking_clip`: Grace
Hopper's mouth opening and closing), the character is the astronaut photo. Reported:
the whole transfer (landmark tracking of every driving frame, the warp, H.264 encoding)
and its parts, and as a baseline in the same run the encoding alone of as many frames
(`write_mp4`), so the ratio says what the transfer costs beyond writing the video.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (one intra-op thread)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import skimage  # noqa: E402
from matplotlib import cbook  # noqa: E402
from PIL import Image  # noqa: E402

from generator.base import GenerationInput  # noqa: E402
from generator.performance import (  # noqa: E402
    MeshWarp,
    PerformanceTransfer,
    anchors,
    cover,
    retarget,
)
from media.mp4 import write_mp4
from tests.support import decoded, mouth_series, talking_clip  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--side", type=int, default=512)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    hopper = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))
    actor = cv2.resize(hopper[60:560, 6:506], (args.side, args.side))
    _, frames = talking_clip(actor, frames=args.frames)
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    character = skimage.data.astronaut()
    side = args.side
    transfer = PerformanceTransfer()
    job = GenerationInput("bench", character, side, side, 24, args.frames, 1, driving_frames=grey)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.mp4"
        t0 = time.perf_counter()
        transfer.generate(job, out, lambda d, t: None)
        whole = time.perf_counter() - t0
        t0 = time.perf_counter()
        tracked = transfer.landmarks.track(grey)
        tracking = time.perf_counter() - t0
        canvas, _, _ = cover(character, side, side)
        face = transfer.landmarks.detect(cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY))
        fixed = anchors(face, side, side)
        warp = MeshWarp(canvas, np.concatenate([face, fixed]))
        t0 = time.perf_counter()
        warped = [warp(np.concatenate([retarget(face, tracked[0], p), fixed])) for p in tracked]
        warping = time.perf_counter() - t0
        t0 = time.perf_counter()
        write_mp4(warped, Path(tmp) / "plain.mp4", 24)
        encoding = time.perf_counter() - t0
        output = decoded(out.read_bytes())
    n = args.frames
    print(f"{n} frames at {side}x{side}, one core")
    print(f"transfer, whole      : {n / whole:6.1f} fps  ({whole * 1000 / n:6.1f} ms/frame)")
    print(f"  landmark tracking  : {n / tracking:6.1f} fps")
    print(f"  retarget + warp    : {n / warping:6.1f} fps")
    print(
        f"baseline: encode only: {n / encoding:6.1f} fps   transfer/encode {whole / encoding:.1f}x"
    )
    corr = np.corrcoef(mouth_series(frames), mouth_series(output))[0, 1]
    print(f"mouth opening, actor vs character (dlib landmarks): correlation {corr:.3f}")


if __name__ == "__main__":
    main()

"""PDQ of one 512×512 frame: reelguard's numpy PDQ against the same algorithm written
as four box-filter passes over the image (how indexes/pdq.py computed it before), in the
same process, one thread. Meta's reference C++ (the `pdqhash` bindings) took 6.95 ms on
this machine; its outputs are the bit-exact test (tests/indexes/test_pdq.py).

    python bench/pdq.py [--repeat 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import cv2
import numpy as np
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.pdq import _DCT, _LUMA, pdq  # noqa: E402


def four_passes(pixels: np.ndarray) -> np.ndarray:
    """The baseline: a Jarosz tent as two X/Y box-filter passes over every pixel."""

    def box(a, full, axis):
        half, n = (full + 2) // 2, a.shape[axis]
        csum = np.concatenate(
            [np.zeros_like(np.take(a, [0], axis=axis)), np.cumsum(a, axis=axis)], axis=axis
        )
        idx = np.arange(n)
        lo, hi = np.clip(idx - (full - half), 0, n), np.clip(idx + half, 0, n)
        shape = [1, 1]
        shape[axis] = n
        return (np.take(csum, hi, axis=axis) - np.take(csum, lo, axis=axis)) / (hi - lo).reshape(
            shape
        )

    buf = (pixels.astype(np.float32) @ _LUMA).astype(np.float64)
    rows, cols = buf.shape
    for _ in range(2):
        buf = box(buf, (cols + 127) // 128, axis=1)
        buf = box(buf, (rows + 127) // 128, axis=0)
    small = buf[
        np.ix_(
            ((np.arange(64) + 0.5) * rows / 64).astype(int),
            ((np.arange(64) + 0.5) * cols / 64).astype(int),
        )
    ]
    coeffs = _DCT @ small @ _DCT.T
    return (coeffs > np.sort(coeffs, axis=None)[127]).ravel()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=50)
    args = ap.parse_args()
    frame = cv2.resize(skimage.data.astronaut(), (512, 512), interpolation=cv2.INTER_AREA)
    assert (four_passes(frame) == pdq(frame)[0]).all(), "the two formulations disagree"
    base = statistics.median(_util.timed(lambda: four_passes(frame), args.repeat))
    ours = statistics.median(_util.timed(lambda: pdq(frame), args.repeat))
    print(f"PDQ of a 512x512 frame, median of {args.repeat}, 1 thread")
    print(f"  four box-filter passes (baseline): {base * 1000:6.2f} ms  1.00x")
    print(f"  indexes/pdq.py (filter as A·X·Bᵀ): {ours * 1000:6.2f} ms  {ours / base:.2f}x")
    print("  Meta's reference C++ (measured before): 6.95 ms")


if __name__ == "__main__":
    main()

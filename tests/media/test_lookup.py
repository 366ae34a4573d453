"""Frames of a stripped copy for lookup: bounded work whatever the file holds."""

import numpy as np

from media.lookup import decode_for_lookup


def black_clip(path, frames: int, width: int, height: int) -> bytes:
    """A compressible bomb: many identical frames in very few bytes."""
    from safety.service.fuzz import encode_h264

    return encode_h264(path, [np.zeros((height, width, 3), np.uint8)] * frames, width, height)


PEAK_RSS_OF_LOOKUP = """
import resource, sys
from pathlib import Path
from media.lookup import decode_for_lookup
frames = decode_for_lookup(Path(sys.argv[1]).read_bytes(), "video/mp4", max_frames=16)
print(len(frames), frames[0][0], frames[-1][0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_rss_of_lookup(path) -> tuple[int, float, float, int]:
    """(frames, first time, last time, peak RSS in bytes) of a lookup in a fresh process."""
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_OF_LOOKUP, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), int(out[3]) * 1024


def test_a_compressible_bomb_is_looked_up_in_bounded_memory(tmp_path):
    """Hundreds of frames in a few KB (a stripped copy sent to Verify): only the frames
    looked up may stay decoded, not every frame of the clip."""
    width, height = 960, 544
    black_clip(tmp_path / "short.mp4", 16, width, height)
    bomb = black_clip(tmp_path / "bomb.mp4", 480, width, height)
    assert len(bomb) < 60_000
    _, _, _, baseline = peak_rss_of_lookup(tmp_path / "short.mp4")
    count, first, last, peak = peak_rss_of_lookup(tmp_path / "bomb.mp4")
    assert count <= 16 and last - first > 10  # spread over the 20 s clip
    frame_bytes = width * height * 3
    assert peak - baseline < 48 * frame_bytes, (
        f"{(peak - baseline) / 1e6:.0f} MB more than a 16-frame clip for {len(bomb)} bytes"
    )


def test_frames_past_the_decoding_ceiling_are_not_looked_up(tmp_path):
    data = black_clip(tmp_path / "huge.mp4", 2, 4800, 4800)  # 23 MP a frame
    assert decode_for_lookup(data, "video/mp4") is None

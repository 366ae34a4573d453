"""The invisible watermark: how invisible, how fast, and what it survives.

    python bench/watermark.py [--size 320] [--frames 48]

Clips are the built-in generator's pans over six photos (as outputs are made: H.264
CRF 20, then watermarked and re-encoded at CRF 18 as the pipeline does). Each copy
then goes through one transformation and is read back; "recovered" means all 64
payload bits came back and the reading passed the confidence floor. Baseline for
speed: H.264 encoding of the same frames in this process.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import av
import cv2
import numpy as np
import skimage.data
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator.base import GenerationInput  # noqa: E402
from generator.kenburns import KenBurnsGenerator  # noqa: E402
from media.mp4 import write_mp4
from signing import watermark  # noqa: E402

KEY = bytes(range(32))  # a bench key (a service draws its own)

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "camera", "immunohistochemistry"]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def resized(frames, scale):
    h, w = frames[0].shape[:2]
    size = (int(w * scale) // 2 * 2, int(h * scale) // 2 * 2)
    return [np.asarray(Image.fromarray(f).resize(size)) for f in frames]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--frames", type=int, default=48)
    args = ap.parse_args()
    payload = watermark.payload_for("8f14e45fceea167a5a36dedd4bea2543")
    outcomes: dict[str, list[bool]] = {}
    psnr, embed_s, encode_s = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in PHOTOS:
            photo = getattr(skimage.data, name)()
            photo = np.stack([photo] * 3, -1) if photo.ndim == 2 else photo[..., :3]
            raw, marked = tmp / "raw.mp4", tmp / "marked.mp4"
            job = GenerationInput("bench", photo, args.size, args.size, 24, args.frames, 0)
            KenBurnsGenerator().generate(job, raw, lambda *_: None)
            clean = frames_of(raw)
            t0 = time.perf_counter()
            marked_frames = [watermark.embed(f, payload, KEY) for f in clean]
            embed_s.append((time.perf_counter() - t0) / len(clean))
            t0 = time.perf_counter()
            write_mp4(marked_frames, marked, 24, crf=18)
            encode_s.append((time.perf_counter() - t0) / len(clean))
            psnr.append(
                statistics.mean(cv2.PSNR(a, b) for a, b in zip(clean, marked_frames, strict=True))
            )
            base = frames_of(marked)
            copies = {"as signed (CRF 18)": base}
            for crf in (23, 28, 35):
                write_mp4(base, tmp / "t.mp4", 24, crf=crf)
                copies[f"re-encoded CRF {crf}"] = frames_of(tmp / "t.mp4")
            write_mp4(resized(base, 0.5), tmp / "h.mp4", 24, crf=23)
            half = frames_of(tmp / "h.mp4")
            copies["half size + CRF 23, read as is"] = half
            copies["half size + CRF 23, scaled back"] = resized(half, 2.0)
            buf = io.BytesIO()
            Image.fromarray(base[len(base) // 2]).save(buf, "JPEG", quality=75)
            copies["one frame as JPEG q75 (screenshot)"] = [np.asarray(Image.open(buf))]
            copies["cropped by 10 px"] = [f[10:, 10:] for f in base]
            unmarked = watermark.read(clean, KEY)
            copies_ok = {k: watermark.read(v, KEY) for k, v in copies.items()}
            for k, r in copies_ok.items():
                outcomes.setdefault(k, []).append(r.found and r.payload == payload)
            outcomes.setdefault("unmarked clip (false recovery)", []).append(
                unmarked.found and unmarked.payload == payload
            )
    print(f"{len(PHOTOS)} clips, {args.size}x{args.size}, {args.frames} frames")
    print(f"PSNR marked vs clean: mean {statistics.mean(psnr):.1f} dB, min {min(psnr):.1f} dB")
    ratio = statistics.mean(embed_s) / statistics.mean(encode_s)
    print(f"embed {statistics.mean(embed_s) * 1000:.2f} ms/frame, H.264 encode "
          f"{statistics.mean(encode_s) * 1000:.2f} ms/frame ({ratio:.2f}x encode)")  # fmt: skip
    for name, results in outcomes.items():
        print(f"{name:>36}: recovered {sum(results)}/{len(results)}")


if __name__ == "__main__":
    main()

"""C2PA sign and verify of a ~50 MB MP4, against plain SHA-256 of the same file.

    python bench/sign_verify.py [--mb 50] [--repeat 3] [--default-allocator]

Prints throughput and the ratio to SHA-256 (the floor: signing must hash every byte).
The cases: "sign in place" is the service's path (the watermarked copy is signed where
it lies, in the room our writer leaves after `ftyp`, and moved into place:
signing/embeddable.py), the output's SHA-256 included; "sign, room made" the same for
a file without that room (a remote backend's own MP4, ffmpeg's layout: rewritten with
the room and `moov` first, as C2PA puts the manifest before `moov` and `mdat`, then
signed in place); "sign file->file" keeps the source (a copy first);
"Builder.sign file->file" is c2pa-python's own streaming path, which the in-place flow
replaced (the service hashed its output again after it).
Every signed output goes to a path that does not exist yet, as the service's does (a
fresh directory per request): on ext4, replacing an existing file (a rename over it, or
opening it truncated) makes the kernel write the new file's data out at once
(`auto_da_alloc`), 31 ms for this file, which the service never pays.
Runs with the allocator settings the service applies (signing/allocator.py) unless
--default-allocator, which shows what they buy.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.mp4 import (
    finish_mp4,  # noqa: E402
    write_mp4,  # noqa: E402
)
from signing.allocator import keep_freed_memory  # noqa: E402
from signing.keys import init_dev_chain  # noqa: E402
from signing.manifest import C2paManifestSigner, ManifestSpec  # noqa: E402
from signing.signer import KeyFileSigner  # noqa: E402
from signing.verify import Verifier  # noqa: E402


def make_video(path: Path, target_mb: float) -> None:
    """Noise frames at CRF 0 barely compress: measure a few, then encode enough for the target."""
    rng = np.random.default_rng(0)

    def frames(n):
        return (rng.integers(0, 256, (720, 1280, 3), np.uint8) for _ in range(n))

    write_mp4(frames(4), path, fps=24, crf=0)
    per_frame_mb = path.stat().st_size / 1e6 / 4
    write_mp4(frames(max(1, round(target_mb / per_frame_mb))), path, fps=24, crf=0)


def sha256_file(path: Path) -> None:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=float, default=50)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--default-allocator", action="store_true", help="skip keep_freed_memory()")
    args = ap.parse_args()
    allocator = "glibc defaults" if args.default_allocator else "service settings"
    if not args.default_allocator and not keep_freed_memory():
        allocator = "defaults (not glibc)"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, dst = tmp / "in.mp4", tmp / "out.mp4"
        make_video(src, args.mb)
        size_mb = src.stat().st_size / 1e6
        keys = init_dev_chain(tmp / "keys")
        signer = C2paManifestSigner(KeyFileSigner(keys.key, keys.chain))
        spec = ManifestSpec("bench.mp4", "reelguard/bench", "1", "bench", {"action": "allow"})
        verifier = Verifier(keys.root_cert.read_text())

        data = src.read_bytes()
        moved = tmp / "moved.mp4"

        def once(fn, fresh: bool = True) -> float:
            """Seconds of one call of `fn`; `fresh`: the output path cleared first
            (untimed)."""
            if fresh:
                dst.unlink(missing_ok=True)  # see the docstring: a fresh output path
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0

        def sign():
            signer.sign_file(spec, src, dst, "video/mp4")

        no_room = tmp / "foreign.mp4"
        finish_mp4(src, no_room, reserve=8)  # a free box too small for any manifest

        def sign_in_place(source: Path) -> float:
            shutil.copyfile(source, moved)  # untimed: the service signs a file of its own
            signed = []
            took = once(lambda: signed.append(signer.sign_file(spec, moved, dst, "video/mp4",
                                                               move=True)))  # fmt: skip
            assert signed[0].sha256 == hashlib.sha256(dst.read_bytes()).hexdigest()
            return took

        def sign_with_builder():
            with open(src, "rb") as asset:
                dst.write_bytes(signer._sign(spec, asset, "video/mp4").data)

        def sign_in_memory():
            signer.sign_bytes(spec, data, "video/mp4")

        def verify():
            report = verifier.verify_file(dst)
            assert report.status == "trusted", report.summary

        results = {}
        cases = [
            ("sha256", lambda: once(lambda: sha256_file(src))),
            ("sign in place", lambda: sign_in_place(src)),
            ("sign, room made", lambda: sign_in_place(no_room)),
            ("sign file->file", lambda: once(sign)),
            ("Builder.sign file->file", lambda: once(sign_with_builder)),
            ("sign bytes->bytes", lambda: once(sign_in_memory, fresh=False)),
            ("verify", lambda: once(verify, fresh=False)),  # the last file signed
        ]
        for name, fn in cases:
            fn()  # warm up (page cache, native library)
            results[name] = statistics.median(fn() for _ in range(args.repeat))
            if dst.exists():
                verify()  # every signed output reads Trusted
        print(
            f"file: {size_mb:.1f} MB MP4 (H.264), median of {args.repeat}; allocator: {allocator}"
        )
        base = results["sha256"]
        for name, secs in results.items():
            print(
                f"{name:>23}: {secs * 1000:8.1f} ms  {size_mb / secs:8.1f} MB/s  "
                f"{secs / base:6.2f}x sha256"
            )


if __name__ == "__main__":
    main()

"""Fuzz targets for every media entry point, and a runner for long campaigns.

    python -m safety.service.fuzz --inputs 10000        # each target; prints crashes and hangs

A target gets arbitrary bytes (mutations of real seed files) and must either return
or raise the domain error a client would see (InvalidInput) — anything else is a
crash; a call over the time limit is a hang. The test suite runs each target briefly
(tests/safety/test_fuzz.py); this runner does the long runs whose summary goes into
the notes.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from media import InvalidMedia
from media.decode import VideoLimits, decode_image
from media.sampling import Sampling, decode_video
from safety.errors import InvalidInput


def seeds() -> dict[str, bytes]:
    """Real files to mutate: images in each accepted format and an H.264 MP4."""
    from PIL import Image

    from media.mp4 import write_mp4

    rng = np.random.default_rng(0)
    picture = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
    out = {}
    for fmt in ("PNG", "JPEG", "WEBP"):
        buf = io.BytesIO()
        Image.fromarray(picture).save(buf, fmt)
        out[fmt.lower()] = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "seed.mp4"
        write_mp4([picture[:48, :48]] * 6, path, fps=6)
        out["mp4"] = path.read_bytes()
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Byte flips, truncation, splices and inserted junk — what corrupt uploads look like."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        if op < 0.4 and b:
            for _ in range(rng.randint(1, 16)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op < 0.6 and len(b) > 1:
            del b[rng.randrange(1, len(b)) :]
        elif op < 0.8:
            at = rng.randrange(len(b) + 1)
            b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif b:
            start = rng.randrange(len(b))
            chunk = b[start : start + rng.randint(1, 256)]
            at = rng.randrange(len(b) + 1)
            b[at:at] = chunk
    return bytes(b)


def target_image(data: bytes) -> None:
    decode_image(data, max_pixels=4_000_000)


def target_video(data: bytes) -> None:
    decode_video(data, VideoLimits(30, 1024, 4_000_000), Sampling())


_VERIFIER = None


def target_c2pa(data: bytes) -> None:
    """Verification, including the stripped-copy recovery path (watermark reading and
    fingerprint lookup against a real, empty manifest repository)."""
    global _VERIFIER
    from indexes.manifests import ManifestRepository
    from safety.provenance.recovery import DurableCredentials
    from safety.store.sql import SqlStore
    from signing.verify import Verifier
    from signing.watermark import DwtDctQim

    if _VERIFIER is None:
        store = SqlStore(f"sqlite:///{tempfile.mkdtemp(prefix='reelguard-fuzz-')}/fuzz.db")
        # A throwaway key: the watermark reader runs on every stripped input too.
        marker = DwtDctQim(bytes(range(32)))
        _VERIFIER = Verifier(None, recovery=DurableCredentials(ManifestRepository(store), marker))
    report = _VERIFIER.verify_bytes(data)
    assert report.status in ("trusted", "valid_untrusted", "invalid", "no_manifest")


def encode_h264(path: Path, frames, width: int, height: int, container: str = "mp4") -> bytes:
    """Frames (RGB arrays) as H.264 at the lowest quality: identical frames cost a few
    bytes each, which is what makes a compressible bomb. `container` "h264" writes a raw
    stream with no durations or timestamps at all."""
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "51"}
        last = None  # (array, its frame): a run of one array is converted once
        for i, pixels in enumerate(frames):
            if last is None or last[0] is not pixels:
                rgb = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                last = (pixels, rgb.reformat(format="yuv420p"))
            frame = last[1]
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


def nested_boxes(depth: int = 20_000) -> bytes:
    """An MP4 whose `moov` nests `depth` boxes inside each other: a parser bomb."""
    out = b""
    for _ in range(depth):
        out = (8 + len(out)).to_bytes(4, "big") + b"trak" + out
    moov = (8 + len(out)).to_bytes(4, "big") + b"moov" + out
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + moov


def bomb_seeds(frames: int = 1200) -> dict[str, bytes]:
    """Small files that decode to a lot: many black 1080p frames, a raw stream with no
    timing, frames of 23 MP, boxes nested 20 000 deep."""
    black = np.zeros((1080, 1920, 3), np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        return {
            "many frames": encode_h264(d / "many.mp4", [black] * frames, 1920, 1080),
            "no timing": encode_h264(
                d / "raw.h264", [black[:360, :640]] * frames, 640, 360, container="h264"
            ),
            "huge frames": encode_h264(
                d / "huge.mp4", [np.zeros((4800, 4800, 3), np.uint8)] * 2, 4800, 4800
            ),
            "nested boxes": nested_boxes(),
        }


_BOMBS: dict[str, bytes] = {}


def target_bomb(data: bytes) -> None:
    """A bomb (the seed is picked by the data's first byte, then mutated) through every
    path that decodes untrusted video: an upload's sampling and Verify's recovery."""
    seeds = list(_BOMBS.values())
    bomb = mutate(seeds[data[0] % len(seeds)], random.Random(data)) if data else seeds[0]
    target_c2pa(bomb)
    # the service's default ceilings
    decode_video(bomb, VideoLimits(120, 4096, 40_000_000), Sampling())


def provenance_chain(keys_dir: Path, levels: int, fan_out: int = 4) -> bytes:
    """A JPEG whose manifest names the previous level's file `fan_out` times, `levels`
    deep: a dozen manifests that, expanded as a tree, are fan_out^levels (the report's
    graph bomb)."""
    from PIL import Image

    from signing.keys import init_dev_chain
    from signing.manifest import C2paManifestSigner, Ingredient, ManifestSpec
    from signing.signer import KeyFileSigner

    paths = init_dev_chain(keys_dir, overwrite=True)
    signer = C2paManifestSigner(KeyFileSigner(paths.key, paths.chain))
    buf = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(buf, "JPEG")
    data = small = buf.getvalue()
    for level in range(levels):
        named = [Ingredient(f"l{level}-{i}.jpg", "image/jpeg", data) for i in range(fan_out)]
        spec = ManifestSpec(f"level{level}.jpg", "x", "1", "m", {}, named if level else [])
        data = signer.sign_bytes(spec, small, "image/jpeg")
    return data


def flat_png(width: int, height: int) -> bytes:
    """A flat grey PNG: a few hundred KB that decode to width × height × 3 bytes; built
    row by row, never whole in memory."""
    import struct
    import zlib

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x80" * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


_GRAPHS: dict[str, bytes] = {}


def provenance_seeds() -> dict[str, bytes]:
    """Hostile provenance: a manifest named four times over ten levels, a chain past the
    depth bound, and a picture past the uploads' pixel ceiling for the lookup path."""
    with tempfile.TemporaryDirectory() as tmp:
        return {
            "diamond": provenance_chain(Path(tmp), 10),
            "deep": provenance_chain(Path(tmp), 18, fan_out=1),
            "flat": flat_png(7000, 7000),
        }


def target_provenance(data: bytes) -> None:
    """A hostile manifest graph or oversized picture (picked by the first byte; mutated
    when the second is odd) through Verify and through what Sign and Generate read of a
    file's manifest store (its carried pictures)."""
    from media.sniff import sniff_mime
    from signing.carried import CarriedError, carried_pictures

    seeds_ = list(_GRAPHS.values())
    hostile = seeds_[data[0] % len(seeds_)] if data else seeds_[0]
    if len(data) > 1 and data[1] % 2:
        hostile = mutate(hostile, random.Random(data))
    target_c2pa(hostile)
    try:
        carried_pictures(hostile, sniff_mime(hostile) or "image/jpeg")
    except CarriedError:
        pass


def target_request(data: bytes) -> None:
    """Arbitrary bytes as a GenerateRequest: parse failures are what gRPC reports."""
    from google.protobuf.message import DecodeError

    from reelguard.v1 import reelguard_pb2 as pb

    try:
        pb.GenerateRequest.FromString(data)
    except DecodeError:
        pass


TARGETS: dict[str, tuple[Callable[[bytes], None], tuple[str, ...]]] = {
    "image decode": (target_image, ("png", "jpeg", "webp")),
    "video decode": (target_video, ("mp4",)),
    "C2PA read": (target_c2pa, ("png", "jpeg", "mp4")),
    "protobuf request": (target_request, ("png",)),
    "compressible bombs": (target_bomb, ("png", "jpeg", "webp", "mp4")),
    "hostile provenance": (target_provenance, ("png", "jpeg")),
}


def run(name: str, inputs: int, hang_s: float = 5.0, seed: int = 0) -> dict:
    fn, kinds = TARGETS[name]
    if fn is target_bomb and not _BOMBS:
        _BOMBS.update(bomb_seeds())  # made once, before the clock starts
    if fn is target_provenance and not _GRAPHS:
        _GRAPHS.update(provenance_seeds())
    corpus = seeds()
    rng = random.Random(seed)
    crashes, hangs, rejected, slowest, slowest_cpu = [], 0, 0, 0.0, 0.0
    for i in range(inputs):
        data = mutate(corpus[kinds[i % len(kinds)]], rng)
        t0, cpu0 = time.perf_counter(), time.process_time()
        try:
            fn(data)
        except (InvalidInput, InvalidMedia):
            rejected += 1
        except Exception as e:  # noqa: BLE001 - that is what a crash is
            crashes.append(f"{type(e).__name__}: {e}"[:200])
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        slowest, slowest_cpu = max(slowest, elapsed), max(slowest_cpu, cpu)
        # A hang is an input that costs this process `hang_s` of CPU: wall time also
        # counts whatever else the machine runs (an input of 1.1 s alone read over 5 s
        # beside the rest of the test suite on two cores).
        hangs += cpu > hang_s
    return {
        "target": name,
        "inputs": inputs,
        "rejected": rejected,
        "crashes": crashes,
        "hangs": hangs,
        "slowest_s": round(slowest, 3),
        "slowest_cpu_s": round(slowest_cpu, 3),
        # The process's peak so far (ru_maxrss is a high-water mark): run one target per
        # process (--target) to read it for that target alone.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--inputs", type=int, default=10_000)
    ap.add_argument("--target", choices=sorted(TARGETS), action="append")
    args = ap.parse_args()
    for name in args.target or TARGETS:
        t0 = time.perf_counter()
        r = run(name, args.inputs)
        print(
            f"{name:>17}: {r['inputs']} inputs, {r['rejected']} rejected cleanly, "
            f"crashes {len(r['crashes'])}, hangs {r['hangs']}, slowest {r['slowest_s']} s, "
            f"peak RSS {r['peak_rss_mb']} MB "
            f"({time.perf_counter() - t0:.0f} s)"
        )
        for crash in r["crashes"][:5]:
            print(f"    {crash}")


if __name__ == "__main__":
    main()

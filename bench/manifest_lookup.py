"""Recovering a stripped copy's manifest: fingerprint lookup in the manifest repository.

    python bench/manifest_lookup.py [--videos 100000] [--frames 8]

The repository keeps every stored frame hash in a FAISS binary index; baselines in this
process over the same hashes: a vectorised NumPy XOR + popcount over all of them, and
the per-record scan the repository did before (every record's hashes compared in turn).
Storage is an in-memory stand-in: this measures the search, not SQLite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import _util
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.manifests import (  # noqa: E402
    VPDQ_ALG,
    Fingerprint,
    ManifestRecord,
    ManifestRepository,
    StoredFingerprint,
)
from indexes.pdq import to_hex  # noqa: E402


class MemoryStorage:
    def __init__(self, records: list[ManifestRecord]) -> None:
        self.records = {r.manifest_id: r for r in records}
        self.fingerprints = [
            StoredFingerprint(seq, r.manifest_id, r.alg, r.hashes)
            for seq, r in enumerate(records, start=1)
        ]

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        return self.fingerprints[after_seq:]

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        return self.records.get(manifest_id)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=100_000)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, (args.videos, args.frames, 256), dtype=np.uint8)
    records = [
        ManifestRecord(f"{i:032x}", VPDQ_ALG, [to_hex(f) for f in video], b"", "video/mp4")
        for i, video in enumerate(bits)
    ]
    storage = MemoryStorage(records)

    t0 = time.perf_counter()
    repo = ManifestRepository(storage)
    build_s = time.perf_counter() - t0

    targets = rng.integers(0, args.videos, args.repeat)
    queries = []
    for t in targets:
        copy = bits[t].copy()
        copy[:, :12] ^= 1  # a re-encode moves each frame's hash a few bits
        queries.append(Fingerprint(VPDQ_ALG, [to_hex(f) for f in copy], [0.0] * args.frames))
    found = [repo.lookup(q) for q in queries]
    assert [f.record.manifest_id for f in found] == [f"{t:032x}" for t in targets]
    faiss_s = _util.timed(lambda: repo.lookup(queries[0]), args.repeat)

    packed = np.packbits(bits.reshape(-1, 256), axis=1)
    query_packed = np.packbits(bits[targets[0]], axis=1)

    def numpy_scan():
        xor = np.bitwise_xor(packed[None, :, :], query_packed[:, None, :])
        return np.bitwise_count(xor).sum(axis=2).min(axis=1)

    numpy_s = _util.timed(numpy_scan, max(3, args.repeat // 4))

    per_record = list(bits)
    q = bits[targets[0]]

    def old_scan():  # the repository's loop before the index, minus the SQLite reads
        for stored in per_record:
            (q[:, None, :] != stored[None, :, :]).sum(axis=2).min(axis=1)

    old_s = _util.timed(old_scan, 1)

    n = args.videos * args.frames
    print(f"{args.videos} videos x {args.frames} frame hashes = {n} PDQ hashes")
    print(f"index build (startup sync): {build_s:.2f} s")
    print(f"FAISS lookup:        {_util.summary(faiss_s)}")
    base = statistics.median(faiss_s)
    for name, samples in (("numpy XOR+popcount", numpy_s), ("old per-record scan", old_s)):
        med = statistics.median(samples)
        print(f"{name + ':':20} median {med * 1000:8.2f} ms  ({med / base:.1f}x the FAISS lookup)")


if __name__ == "__main__":
    main()

"""Identity search at gallery scale: exact (flat) vs the IVF index reelguard switches to.

    python bench/identity_search.py [--n 1000000] [--dim 128] [--queries 1000]

Vectors are synthetic but shaped like a gallery: identities with five reference
embeddings each; queries are fresh noisy views of enrolled identities. Prints build
time, index memory, p50/p99 latency at batch 1 and batch 64 (per query), and
recall@1 against exact search, which is the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.identity import FaissIdentityIndex, normalize  # noqa: E402


def gallery(n: int, dim: int, refs: int, rng: np.random.Generator):
    centers = normalize(rng.normal(size=(max(n // refs, 1), dim)).astype(np.float32))
    noise = rng.normal(size=(n, dim)).astype(np.float32) * (0.35 / np.sqrt(dim))
    return centers, normalize(np.repeat(centers, refs, axis=0)[:n] + noise)


def latencies(index: FaissIdentityIndex, queries: np.ndarray, batch: int) -> list[float]:
    """Seconds per query, measured one batch at a time."""
    out = []
    for start in range(0, len(queries), batch):
        chunk = queries[start : start + batch]
        t0 = time.perf_counter()
        index.search(chunk, 1)
        out += [(time.perf_counter() - t0) / len(chunk)] * len(chunk)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--flat-queries", type=int, default=100, help="exact search is slow")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    centers, vectors = gallery(args.n, args.dim, 5, rng)
    ids = np.arange(args.n, dtype=np.int64)
    picks = rng.integers(0, len(centers), args.queries)
    noise = rng.normal(size=(args.queries, args.dim)).astype(np.float32) * (
        0.45 / np.sqrt(args.dim)
    )
    queries = normalize(centers[picks] + noise)
    print(
        f"{args.n} vectors x {args.dim}-d; {args.queries} queries; "
        "build on 2 threads, search on 1 thread"
    )

    faiss.omp_set_num_threads(2)
    t0 = time.perf_counter()
    flat = FaissIdentityIndex.build(args.dim, ids, vectors, "flat")
    flat_build = time.perf_counter() - t0
    truth = flat.search(queries, 1)[1][:, 0]  # exact answers, batched
    t0 = time.perf_counter()
    ivf = FaissIdentityIndex.build(args.dim, ids, vectors, "ivf")
    ivf_build = time.perf_counter() - t0
    faiss.omp_set_num_threads(1)

    def report(name: str, index: FaissIdentityIndex, build: float, nq: int) -> None:
        found = index.search(queries[:nq], 1)[1][:, 0]
        recall = float((found == truth[:nq]).mean())
        # A different reference of the same person is as good as the exact neighbour.
        same_person = float((found // 5 == truth[:nq] // 5).mean())
        memory_mb = faiss.serialize_index(index._cpu).nbytes / 1e6
        print(
            f"{name}: build {build:6.1f} s  memory {memory_mb:6.1f} MB  "
            f"recall@1 {recall:.4f} (same identity {same_person:.4f})"
        )
        for batch in (1, 64):
            lat = latencies(index, queries[:nq], batch)
            print(
                f"      batch {batch:>2}: p50 {_util.percentile(lat, 50) * 1e3:8.3f} ms  "
                f"p99 {_util.percentile(lat, 99) * 1e3:8.3f} ms per query"
            )

    report("flat (exact)", flat, flat_build, args.flat_queries)
    raw = faiss.downcast_index(ivf._cpu)
    default = raw.nprobe
    for nprobe in sorted({default // 2, default, default * 2}):
        raw.nprobe = nprobe
        mark = " (default)" if nprobe == default else ""
        report(f"ivf nlist {raw.nlist} nprobe {nprobe}{mark}", ivf, ivf_build, args.queries)


if __name__ == "__main__":
    main()

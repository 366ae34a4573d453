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

    results = {}
    for kind in ("flat", "ivf"):
        faiss.omp_set_num_threads(2)
        t0 = time.perf_counter()
        index = FaissIdentityIndex.build(args.dim, ids, vectors, kind)
        build = time.perf_counter() - t0
        memory_mb = faiss.serialize_index(index._cpu).nbytes / 1e6
        faiss.omp_set_num_threads(1)
        nq = args.flat_queries if kind == "flat" else args.queries
        found = index.search(queries[:nq], 1)[1][:, 0]
        results[kind] = (index, build, memory_mb, nq, found)

    truth = results["flat"][4]
    base = None
    for kind, (index, build, memory_mb, nq, found) in results.items():
        recall = float((found[: len(truth)] == truth).mean())
        line = f"{kind:>5}: build {build:7.2f} s  memory {memory_mb:7.1f} MB  recall@1 {recall:.4f}"
        if kind == "ivf":
            raw = faiss.downcast_index(index._cpu)
            line += f"  (nlist {raw.nlist}, nprobe {raw.nprobe})"
        print(line)
        for batch in (1, 64):
            lat = latencies(index, queries[:nq], batch)
            p50 = _util.percentile(lat, 50)
            base = base or p50
            print(
                f"       batch {batch:>2}: p50 {p50 * 1e3:8.3f} ms  "
                f"p99 {_util.percentile(lat, 99) * 1e3:8.3f} ms per query  "
                f"{base / p50:8.1f}x flat batch-1 speed"
            )


if __name__ == "__main__":
    main()

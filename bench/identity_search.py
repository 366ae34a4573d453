"""Identity search at 100k enrolled vectors: exact (flat) vs HNSW.

    python bench/identity_search.py [--n 100000] [--queries 1000]

Vectors are synthetic but shaped like a gallery: identities with several reference
embeddings each, queries are fresh noisy views of enrolled identities. Prints build
time, p50/p99 single-query latency, and recall@1 against exact search (the baseline).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.identity import FaissIdentityIndex, normalize  # noqa: E402


def gallery(n: int, dim: int, refs: int, rng: np.random.Generator):
    centers = normalize(rng.normal(size=(n // refs, dim)))
    vectors = np.repeat(centers, refs, axis=0) + 0.25 * rng.normal(size=(n, dim)) / np.sqrt(dim)
    return centers, normalize(vectors)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    centers, vectors = gallery(args.n, args.dim, 5, rng)
    ids = np.arange(args.n, dtype=np.int64)
    picks = rng.integers(0, len(centers), args.queries)
    queries = normalize(
        centers[picks] + 0.3 * rng.normal(size=(args.queries, args.dim)) / np.sqrt(args.dim)
    )

    truth = None
    print(f"{args.n} vectors x {args.dim}-d, {args.queries} single queries, 1 thread")
    base = None
    for kind in ("flat", "hnsw"):
        index = FaissIdentityIndex.create(args.dim, kind)
        t0 = time.perf_counter()
        index.add(ids, vectors)
        build = time.perf_counter() - t0
        found, lat = [], []
        for q in queries:
            t = time.perf_counter()
            _, i = index.search(q, 1)
            lat.append(time.perf_counter() - t)
            found.append(i[0, 0])
        found = np.array(found)
        if truth is None:
            truth = found
        recall = float((found == truth).mean())
        med = statistics.median(lat)
        base = base or med
        print(
            f"{kind:>5}: build {build:6.2f} s   {_util.summary(lat)}   "
            f"recall@1 vs exact {recall:.4f}   {med / base:5.2f}x flat latency"
        )


if __name__ == "__main__":
    main()

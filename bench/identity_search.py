"""Identity search at gallery scale: exact (flat) search vs the index reelguard picks.

    python bench/identity_search.py [--n 1000000] [--kind ivf|ivfpq] [--queries 1000]
    python bench/identity_search.py --n 10000000          # the 10 M gallery (ivfpq)

Vectors are synthetic but shaped like a gallery: identities with five reference
embeddings each; queries are fresh noisy views of enrolled identities. The gallery is
made a million at a time, and the index is built as an offline rebuild would build it
(trained on a sample, filled in chunks, saved). Then a fresh process loads the saved
index as a front door does and searches it on one thread: it prints p50/p99 latency at
batch 1 and batch 64 (per query), recall@1 against exact search (the baseline, whose
batch-1 latency is measured on a few queries), and the memory it really holds (RSS, and
its peak), not only the index's size.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.identity import FaissIdentityIndex, build_index, kind_for, normalize  # noqa: E402
from indexes.identity_compressed import CompressedIndex, vectors_path_for  # noqa: E402

DIM, REFS, CHUNK = 128, 5, 1_000_000


def gallery(n: int, centers: np.ndarray, rng: np.random.Generator):
    """(first id, vectors) a million at a time: REFS noisy references per centre."""
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        noise = rng.normal(size=(stop - start, DIM)).astype(np.float32) * (0.35 / np.sqrt(DIM))
        yield start, normalize(centers[np.arange(start, stop) // REFS] + noise)


def build(args, workdir: Path) -> tuple[Path, np.ndarray, np.ndarray]:
    """Write the index (and its rows) to workdir; return its path, the queries and the
    exact answers."""
    rng = np.random.default_rng(0)
    centers = normalize(rng.normal(size=(max(args.n // REFS, 1), DIM)).astype(np.float32))
    picks = rng.integers(0, len(centers), args.queries)
    noise = rng.normal(size=(args.queries, DIM)).astype(np.float32) * (0.45 / np.sqrt(DIM))
    queries = normalize(centers[picks] + noise)
    kind = args.kind or kind_for(args.n)
    path = workdir / "identities.faiss"
    faiss.omp_set_num_threads(2)
    best = np.full(args.queries, -np.inf, np.float32)
    truth = np.full(args.queries, -1, np.int64)
    t0 = time.perf_counter()
    index, held = None, []
    for start, chunk in gallery(args.n, centers, rng):
        exact = faiss.IndexFlatIP(DIM)  # the baseline, a chunk at a time
        exact.add(chunk)
        sims, found = exact.search(queries, 1)
        better = sims[:, 0] > best
        best[better], truth[better] = sims[better, 0], found[better, 0] + start
        if kind == "ivfpq":
            if index is None:  # trained on a sample: the first million, shuffled
                index = CompressedIndex.train(chunk, vectors_path_for(path), args.n)
            index.add_with_ids(chunk, np.arange(start, start + len(chunk)))
        else:
            held.append(chunk)
        print(f"  {start + len(chunk):>10,} vectors  {time.perf_counter() - t0:6.0f} s", flush=True)
    if index is None:
        vectors = np.concatenate(held)
        index = build_index(DIM, np.arange(args.n), vectors, kind)
    FaissIdentityIndex(index).save(path)
    print(f"built {kind} and exact answers in {time.perf_counter() - t0:.0f} s")
    np.save(workdir / "queries.npy", queries)
    np.save(workdir / "truth.npy", truth)
    return path, queries, truth


def latencies(index: FaissIdentityIndex, queries: np.ndarray, batch: int) -> list[float]:
    """Seconds per query, measured one batch at a time."""
    out = []
    for start in range(0, len(queries), batch):
        chunk = queries[start : start + batch]
        t0 = time.perf_counter()
        index.search(chunk, 1)
        out += [(time.perf_counter() - t0) / len(chunk)] * len(chunk)
    return out


def serve(workdir: Path, flat_queries: int) -> None:
    """What a front door holds: the saved index, loaded; searched on one thread."""
    faiss.omp_set_num_threads(1)
    before = _util.rss_mb()[0]
    t0 = time.perf_counter()
    index = FaissIdentityIndex.load(workdir / "identities.faiss")
    load = time.perf_counter() - t0
    queries, truth = np.load(workdir / "queries.npy"), np.load(workdir / "truth.npy")
    found = index.search(queries, 1)[1][:, 0]
    recall = float((found == truth).mean())
    same_person = float((found // REFS == truth // REFS).mean())
    rows = [(f"{index.kind}", latencies(index, queries, 1), latencies(index, queries, 64))]
    rss, peak = _util.rss_mb()
    print(
        f"{index.kind}: {len(index):,} vectors, loaded in {load:.1f} s; "
        f"RSS {rss:.0f} MB (peak {peak:.0f} MB; {before:.0f} MB before loading)"
    )
    print(f"  recall@1 vs exact {recall:.4f} (same identity {same_person:.4f})")
    if flat_queries:
        exact = flat_latencies(workdir, queries[:flat_queries])
        rows.insert(0, ("exact (flat)", exact, []))
    base = _util.percentile(rows[0][1], 99)
    for name, one, many in rows:
        p99 = _util.percentile(one, 99)
        line = (
            f"  {name:<13} batch 1: p50 {_util.percentile(one, 50) * 1e3:8.3f} ms  "
            f"p99 {p99 * 1e3:8.3f} ms ({p99 / base:.3f}x exact)"
        )
        if many:
            line += f"; batch 64: p99 {_util.percentile(many, 99) * 1e3:.3f} ms a query"
        print(line)


def flat_latencies(workdir: Path, queries: np.ndarray) -> list[float]:
    """Exact search's batch-1 latency over the same vectors (the ivfpq rows file, mapped,
    or the ivf lists reconstructed), taken after the RSS figures above."""
    rows = vectors_path_for(workdir / "identities.faiss")
    if rows.exists():
        vectors = np.memmap(rows, "<f4", "r").reshape(-1, DIM)
    else:
        index = FaissIdentityIndex.load(workdir / "identities.faiss")._cpu
        vectors = index.reconstruct_n(0, index.ntotal)
    out = []
    for query in queries:
        t0 = time.perf_counter()
        faiss.knn(query[None], vectors, 1, metric=faiss.METRIC_INNER_PRODUCT)
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--kind", choices=["ivf", "ivfpq"], help="default: what reelguard picks")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--flat-queries", type=int, default=20, help="exact search is slow")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the child's half
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.flat_queries)
        return
    print(f"{args.n:,} vectors x {DIM}-d; {args.queries} queries; build on 2 threads")
    with tempfile.TemporaryDirectory() as tmp:
        build(args, Path(tmp))
        child = [sys.executable, __file__, "--serve", tmp, "--flat-queries", str(args.flat_queries)]
        subprocess.run(child, check=True)


if __name__ == "__main__":
    main()

"""A hash bank of millions of PDQ hashes: multi-index hashing vs FAISS's flat scan.

    python bench/hash_bank.py [--n 10000000] [--pictures 2000] [--distance 31]

One process, one thread, as a front door holds a bank: it makes n random 256-bit hashes
(the bank), builds the multi-index tables, and prints the memory it really holds (RSS,
and its peak while building). Queries are pictures as the moderator sends them: the eight
dihedral variants of each (here eight hashes, one of them, for half the pictures, a banked
hash with up to `distance` bits flipped). A lookup is one variant; pictures/s counts all
eight. The baseline is faiss.IndexBinaryFlat's range search over the same bank (on a few
pictures: it reads the whole bank per query), which also checks that every match the
tables return, and only those, is what the scan finds.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.hamming_mih import MultiIndexHamming, plan  # noqa: E402

VARIANTS = 8


def rss_mb() -> tuple[float, float]:
    """(resident, peak resident) MB of this process."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return tuple(int(status[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM"))


def pictures(bank: np.ndarray, count: int, distance: int, rng: np.random.Generator):
    """(count·8, 32) query rows, and which bank row each picture's first variant copies
    (-1 for a stranger)."""
    queries = rng.integers(0, 256, (count * VARIANTS, 32), dtype=np.uint8)
    planted = np.where(np.arange(count) % 2 == 0, rng.integers(0, len(bank), count), -1)
    for p in np.flatnonzero(planted >= 0):
        bits = np.unpackbits(bank[planted[p]])
        bits[rng.choice(256, rng.integers(0, distance + 1), replace=False)] ^= 1
        queries[p * VARIANTS] = np.packbits(bits)
    return queries, planted


def rate(mih: MultiIndexHamming, queries: np.ndarray, per_call: int) -> float:
    """Variant lookups a second, `per_call` pictures a call."""
    step = per_call * VARIANTS
    t0 = time.perf_counter()
    for start in range(0, len(queries), step):
        mih.within(queries[start : start + step])
    return len(queries) / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--pictures", type=int, default=2000)
    ap.add_argument("--distance", type=int, default=31)
    ap.add_argument("--flat-pictures", type=int, default=10, help="the flat scan is slow")
    args = ap.parse_args()
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    before = rss_mb()[0]
    bank = rng.integers(0, 256, (args.n, 32), dtype=np.uint8)
    t0 = time.perf_counter()
    mih = MultiIndexHamming(bank, args.distance)
    build = time.perf_counter() - t0
    queries, planted = pictures(bank, args.pictures, args.distance, rng)
    del bank  # the tables keep their own copy of the hashes
    gc.collect()
    rss, peak = rss_mb()
    m, bits, radii = plan(args.n, args.distance)
    print(
        f"{args.n:,} PDQ hashes, distance {args.distance}: {m} tables of {bits} bits "
        f"(probe radii {radii}); built in {build:.1f} s on one thread"
    )
    print(f"  RSS {rss:.0f} MB (peak {peak:.0f} MB while building; {before:.0f} MB before)")

    who, rows, _ = mih.within(queries)
    hits = set(zip((who // VARIANTS).tolist(), rows.tolist(), strict=True))
    found = sum((p, int(r)) in hits for p, r in enumerate(planted) if r >= 0)
    print(f"  planted copies found: {found}/{int((planted >= 0).sum())}")
    for per_call, what in ((1, "one picture a call"), (16, "16 pictures a call (a video)")):
        lookups = rate(mih, queries, per_call)
        print(f"  {what:<29}: {lookups:8,.0f} lookups/s  {lookups / VARIANTS:7,.0f} pictures/s")

    flat = faiss.IndexBinaryFlat(256)
    flat.add(np.ascontiguousarray(mih._words.astype(">u8").view(np.uint8)))
    sample = queries[: args.flat_pictures * VARIANTS]
    t0 = time.perf_counter()
    lims, _, labels = flat.range_search(sample, args.distance + 1)
    scan = len(sample) / (time.perf_counter() - t0)
    expected = {(q, int(r)) for q in range(len(sample)) for r in labels[lims[q] : lims[q + 1]]}
    who, rows, _ = mih.within(sample)
    same = set(zip(who.tolist(), rows.tolist(), strict=True)) == expected
    print(
        f"  flat scan (baseline)         : {scan:8,.1f} lookups/s  "
        f"{scan / VARIANTS:7,.1f} pictures/s; same matches as the tables: {same}"
    )


if __name__ == "__main__":
    main()

"""A hash bank of millions of PDQ hashes: multi-index hashing vs FAISS's flat scan.

    python bench/hash_bank.py [--n 10000000] [--pictures 2000] [--distance 31]
    python bench/hash_bank.py --through-store    # the same bank in SQLite, as served

With --through-store the bank is written to a SQLite store first; then a fresh process
opens it as a front door does (HashBanks over the store: entry ids and hashes read a
chunk at a time) and looks pictures up through `nearest_in_each_bank`, which also fetches
the entry each match names.

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _util  # noqa: F401  (thread settings)
import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indexes.hamming_mih import MultiIndexHamming, plan  # noqa: E402

VARIANTS = 8


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


def fill_store(path: Path, n: int, rng: np.random.Generator) -> np.ndarray:
    """A SQLite store holding one bank of n random hashes; returns the hashes."""
    from indexes.hashbank import Bank
    from safety.store.opening import open_store
    from safety.store.schema import bank_entries

    store = open_store(f"sqlite:///{path}")
    store.add_bank(Bank("large", 31, "bench"))
    bank = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        for start in range(0, n, 100_000):
            chunk = bank[start : start + 100_000]
            conn.execute(
                bank_entries.insert(),
                [
                    {"bank": "large", "hash": row.tobytes().hex(), "media_id": f"m{start + i}"}
                    | {"note": "", "added_at": 0.0}
                    for i, row in enumerate(chunk)
                ],
            )
    print(f"wrote {n:,} entries to SQLite in {time.perf_counter() - t0:.0f} s")
    return bank


def serve_from_store(path: Path, pictures_count: int, distance: int) -> None:
    """The child: HashBanks over the store, as a front door opens it."""
    from indexes.hashbank import HashBanks
    from indexes.pdq import from_hex
    from safety.store.opening import open_store

    before = _util.rss_mb()[0]
    store = open_store(f"sqlite:///{path}", read_only=True)
    t0 = time.perf_counter()
    banks = HashBanks(store)
    load = time.perf_counter() - t0
    gc.collect()
    rss, peak = _util.rss_mb()
    print(
        f"HashBanks over the store: {len(banks):,} entries read and indexed in {load:.0f} s; "
        f"RSS {rss:.0f} MB (peak {peak:.0f} MB; {before:.0f} MB before)"
    )
    sample = store.bank_hashes()["large"][1][: pictures_count // 2]
    queries, planted = pictures(sample, pictures_count, distance, np.random.default_rng(2))
    bits = [from_hex(row.tobytes().hex()) for row in queries]
    as_pictures = [bits[i : i + VARIANTS] for i in range(0, len(bits), VARIANTS)]
    t0 = time.perf_counter()
    found = 0
    for p, variants in enumerate(as_pictures):
        ((_, nearest),) = banks.nearest_in_each_bank([variants])
        found += planted[p] >= 0 and nearest[0][0] is not None
    lookups = len(bits) / (time.perf_counter() - t0)
    print(
        f"  one picture a call, entries fetched: {lookups:8,.0f} lookups/s  "
        f"{lookups / VARIANTS:7,.0f} pictures/s; planted copies found {found}/"
        f"{int((planted >= 0).sum())}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--pictures", type=int, default=2000)
    ap.add_argument("--distance", type=int, default=31)
    ap.add_argument("--flat-pictures", type=int, default=10, help="the flat scan is slow")
    ap.add_argument("--through-store", action="store_true")
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the child's half
    args = ap.parse_args()
    if args.serve:
        serve_from_store(args.serve, args.pictures, args.distance)
        return
    if args.through_store:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bank.sqlite3"
            fill_store(path, args.n, np.random.default_rng(0))
            child = [sys.executable, __file__, "--serve", str(path)]
            subprocess.run([*child, "--pictures", str(args.pictures)], check=True)
        return
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(0)
    before = _util.rss_mb()[0]
    bank = rng.integers(0, 256, (args.n, 32), dtype=np.uint8)
    t0 = time.perf_counter()
    mih = MultiIndexHamming(bank, args.distance)
    build = time.perf_counter() - t0
    queries, planted = pictures(bank, args.pictures, args.distance, rng)
    del bank  # the tables keep their own copy of the hashes
    gc.collect()
    rss, peak = _util.rss_mb()
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
    original = mih.labels  # the tables keep the hashes in their own order
    expected = {
        (q, int(original[r])) for q in range(len(sample)) for r in labels[lims[q] : lims[q + 1]]
    }
    who, rows, _ = mih.within(sample)
    same = set(zip(who.tolist(), rows.tolist(), strict=True)) == expected
    print(
        f"  flat scan (baseline)         : {scan:8,.1f} lookups/s  "
        f"{scan / VARIANTS:7,.1f} pictures/s; same matches as the tables: {same}"
    )


if __name__ == "__main__":
    main()

import numpy as np
import pytest

from indexes.hamming import HammingIndex
from indexes.hamming_mih import MultiIndexHamming, _Offsets, plan

N = 20_000


@pytest.fixture(scope="module")
def stored() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (N, 32), dtype=np.uint8)


def flipped(row: np.ndarray, positions) -> np.ndarray:
    bits = np.unpackbits(row)
    bits[list(positions)] ^= 1
    return np.packbits(bits)


def dodging(short: int | None) -> list[int]:
    """Bit positions an adversary would flip to dodge multi-index hashing: one more in
    every substring than its probe radius, except in substring `short`, which gets exactly
    its radius (so the copy is 31 bits off, the bank's distance, and only that table can
    find it). With `short` None, every table misses: 32 bits off."""
    _, bits, radii = plan(N, 31)
    return [k * bits + i for k, r in enumerate(radii) for i in range(r + (k != short)) if r >= 0]


def test_finds_exactly_what_a_flat_scan_finds(stored):
    rng = np.random.default_rng(1)
    queries = []
    for d in range(0, 40):  # near copies from 0 to 39 bits off, and strangers
        queries.append(flipped(stored[d], rng.choice(256, d, replace=False)))
    queries += list(rng.integers(0, 256, (40, 32), dtype=np.uint8))
    queries = np.stack(queries)
    mih = MultiIndexHamming(stored, 31)
    who, rows, distances = mih.within(queries)
    flat = HammingIndex(stored).within(queries, 31)
    expected = {(q, int(r)) for q, (found, _) in enumerate(flat) for r in found}
    assert set(zip(who.tolist(), rows.tolist(), strict=True)) == expected
    assert {q for q, _ in expected} == set(range(32))  # 0..31 bits off, nothing else
    assert distances.max() <= 31


def test_a_copy_with_its_flips_spread_to_dodge_the_tables_is_still_found(stored):
    mih = MultiIndexHamming(stored, 31)
    for short in range(len(plan(N, 31)[2])):  # whichever table is left to find it
        found, distance = mih.nearest(flipped(stored[5], dodging(short))[None])
        assert (found[0], distance[0]) == (5, 31), f"missed when only table {short} could see it"
    # One bit further is out of the bank's distance: not a match, and not reported.
    assert len(dodging(None)) == 32
    found, distance = mih.nearest(flipped(stored[5], dodging(None))[None])
    assert found[0] == -1 and distance[0] == 32


def test_nearest_prefers_the_closest_of_several_matches(stored):
    mih = MultiIndexHamming(np.stack([stored[0], flipped(stored[0], range(10)), stored[1]]), 31)
    found, distance = mih.nearest(flipped(stored[0], range(8))[None])
    assert found[0] == 1 and distance[0] == 2


def test_offsets_widen_when_a_list_piles_hashes_into_one_block():
    counts = np.zeros(2**16, np.int64)
    counts[3], counts[200], counts[300] = 70_000, 5, 1  # 70,005 rows in the first block
    offsets = _Offsets(counts)
    starts = np.concatenate([[0], np.cumsum(counts)])
    keys = np.array([0, 3, 4, 200, 201, 256, 300, 301, 2**16], np.uint32)
    assert np.array_equal(offsets[keys], starts[keys])

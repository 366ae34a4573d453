import numpy as np
import pytest

from indexes.hamming import HammingIndex, rows
from indexes.pdq import to_hex


@pytest.fixture
def stored():
    return np.random.default_rng(0).integers(0, 2, (500, 256))


def pack(bits: np.ndarray) -> np.ndarray:
    """Index rows for 0/1 bit vectors, through the hex form the stores keep."""
    return rows([to_hex(b) for b in np.atleast_2d(bits)])


def flipped(bits: np.ndarray, n: int) -> np.ndarray:
    out = bits.copy()
    out[:n] ^= 1
    return out


def test_nearest_agrees_with_a_brute_force_count_of_differing_bits(stored):
    queries = np.random.default_rng(1).integers(0, 2, (20, 256))
    rows, distances = HammingIndex(pack(stored)).nearest(pack(queries))
    brute = (queries[:, None, :] != stored[None, :, :]).sum(axis=2)
    assert distances.tolist() == brute.min(axis=1).tolist()
    assert brute[np.arange(20), rows].tolist() == distances.tolist()


def test_within_includes_the_threshold_and_nothing_beyond(stored):
    queries = np.stack([flipped(stored[3], 31), flipped(stored[7], 32)])
    hits = HammingIndex(pack(stored)).within(pack(queries), 31)
    assert hits[0][0].tolist() == [3] and hits[0][1].tolist() == [31]
    assert hits[1][0].tolist() == []  # 32 bits away: outside


def test_rows_added_later_take_the_next_row_numbers(stored):
    index = HammingIndex(pack(stored[:10]))
    index.add(pack(stored[10:12]))
    assert len(index) == 12
    rows, distances = index.nearest(pack(stored[11]))
    assert (rows[0], distances[0]) == (11, 0)


def test_an_empty_index_finds_nothing_within_and_refuses_nearest(stored):
    index = HammingIndex()
    assert [len(rows) for rows, _ in index.within(pack(stored[:2]), 31)] == [0, 0]
    with pytest.raises(LookupError):
        index.nearest(pack(stored[0]))


def test_a_hash_that_is_not_64_hex_digits_is_refused():
    with pytest.raises(ValueError, match="64 hex digits"):
        rows(["ab" * 31])
    with pytest.raises(ValueError):
        rows(["zz" * 32])

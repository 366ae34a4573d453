"""Importing the hash lists trust-and-safety teams exchange."""

from __future__ import annotations

import pytest

from indexes.hashbank import HashBanks, read_hash_list
from indexes.index_errors import IndexInputError
from safety.store.memory import MemoryStore

A, B = "f" * 64, "0123456789abcdef" * 4


def test_pdq_hex_one_per_line_with_comments():
    text = f"# from a partner\n{A}\n\n{B.upper()}  # a comment\n"
    assert read_hash_list(text) == [A, B]


def test_an_hma_csv_export_is_read_by_its_header_and_only_pdq_rows():
    text = "signal_type,signal_value,bank,tags\n"
    text += f"pdq,{A},nc,x\nvideo_md5,{'a' * 32},nc,\npdq,{B},nc,\n"
    assert read_hash_list(text) == [A, B]
    assert read_hash_list(f"hash,id,time,tags\n{A},1,0,csam\n") == [A]
    assert read_hash_list(f"# exported 2026-11-30\n\nhash,id\n{A},1\n") == [A]  # header after notes


@pytest.mark.parametrize(
    "text, line",
    [
        (f"{A}\nnot-a-hash\n", 2),
        (f"{A}\n{A[:-1]}\n", 2),  # 63 digits
        (f"signal_type,signal_value\npdq,{A}\npdq,{A}zz\n", 3),
    ],
)
def test_a_malformed_line_stops_the_import_with_its_number(text, line):
    with pytest.raises(IndexInputError, match=f"line {line}:"):
        read_hash_list(text)


def test_a_csv_without_a_hash_column_is_refused():
    with pytest.raises(IndexInputError, match="no hash column"):
        read_hash_list(f"id,value\n1,{A}\n")


def test_a_bank_we_fill_ourselves_is_made_once_and_never_a_csam_list():
    banks = HashBanks(MemoryStore())  # the bank storage the service's tests stand on
    made = banks.ensure("review-rejected", "rejected in review", filled_by="review")
    assert banks.ensure("review-rejected", "again", filled_by="review") == made
    banks.create("known-csam", csam=True)
    with pytest.raises(IndexInputError, match="known-CSAM list.*not takedowns"):
        banks.ensure("known-csam", "taken down", filled_by="takedowns")


def test_a_large_bank_is_searched_exactly_at_its_distance(monkeypatch):
    # Past MIH_MIN entries a bank is looked up by multi-index hashing, which finds what
    # lies within the bank's distance and nothing beyond (no nearest miss to show).
    import numpy as np

    import indexes.bank_matcher as bank_matcher
    from indexes.pdq import from_hex, to_hex

    monkeypatch.setattr(bank_matcher, "MIH_MIN", 1000)
    rng = np.random.default_rng(0)
    hashes = [to_hex(bits) for bits in rng.integers(0, 2, (2000, 256)).astype(bool)]
    banks = HashBanks(MemoryStore())
    banks.create("large")
    banks.add("large", hashes, media_id="m")
    assert banks._matchers["large"].incremental  # multi-index hashing

    near = from_hex(hashes[7]).copy()
    near[:31] ^= True  # 31 bits off: the default distance
    stranger = rng.integers(0, 2, 256).astype(bool)
    ((bank, nearest),) = banks.nearest_in_each_bank([[stranger, near], [stranger]])
    entry, distance = nearest[0]
    assert entry.hash == hashes[7] and distance == 31
    assert nearest[1] == (None, 32)  # nothing within 31 bits

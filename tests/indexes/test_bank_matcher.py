"""A large bank takes additions and removals on beside its index, without a rebuild."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import indexes.bank_matcher as bank_matcher
from indexes.hashbank import HashBanks
from indexes.pdq import from_hex, to_hex
from safety.store.memory import MemoryStore


def random_hashes(n: int, seed: int) -> list[str]:
    bits = np.random.default_rng(seed).integers(0, 2, (n, 256)).astype(bool)
    return [to_hex(b) for b in bits]


def off_by(hex_hash: str, bits: int, start: int = 0) -> np.ndarray:
    query = from_hex(hex_hash).copy()
    query[start : start + bits] ^= True
    return query


@pytest.fixture
def large(monkeypatch):
    monkeypatch.setattr(bank_matcher, "MIH_MIN", 1000)
    banks = HashBanks(MemoryStore())
    banks.create("large")
    banks.add("large", random_hashes(2000, 0), media_id="base")
    assert banks._matchers["large"].incremental
    return banks


def nearest(banks: HashBanks, query: np.ndarray):
    ((_, found),) = banks.nearest_in_each_bank([[query]])
    return found[0]


def test_an_added_hash_blocks_the_next_lookup_without_a_rebuild(large):
    built = large._matchers["large"]._index
    (new,) = random_hashes(1, 99)
    (entry_id,) = large.add("large", [new], media_id="reviewed", note="rejected")
    entry, distance = nearest(large, off_by(new, 20))
    assert entry.id == entry_id and distance == 20
    assert large._matchers["large"]._index is built and len(large) == 2001


def test_a_removed_entry_stops_matching_and_a_farther_match_shows_through(large):
    (target,) = random_hashes(1, 7)
    near_id, far_id = large.add("large", [target, to_hex(off_by(target, 12, start=100))], "m")
    query = off_by(target, 10)  # 10 bits from one entry, 22 from the other
    assert nearest(large, query) == (large.storage.bank_entry(near_id), 10)
    large.remove(near_id)
    entry, distance = nearest(large, query)
    assert entry.id == far_id and distance == 22
    large.remove(far_id)
    assert nearest(large, query) == (None, 32)  # nothing within 31 bits now


def test_added_entries_are_frozen_into_tables_and_the_bank_rebuilt_past_the_limit(
    large, monkeypatch
):
    monkeypatch.setattr(bank_matcher, "SEGMENT", 2)
    monkeypatch.setattr(bank_matcher, "MAX_SEGMENTS", 2)
    first = random_hashes(2, 5)
    ids = large.add("large", first, media_id="m")
    matcher = large._matchers["large"]
    assert len(matcher._segments) == 1 and len(matcher._tail_ids) == 0 and len(large) == 2002
    entry, distance = nearest(large, off_by(first[1], 30))  # found in the frozen tables
    assert entry.id == ids[1] and distance == 30
    large.remove(ids[1])  # and removed from them
    assert nearest(large, off_by(first[1], 30)) == (None, 32)
    large.add("large", random_hashes(2, 6), media_id="m")  # a second segment: rebuilt
    matcher = large._matchers["large"]
    assert matcher.changes == 0 and not matcher._segments and len(large) == 2003


def test_additions_from_many_threads_are_all_kept(large):
    batches = [random_hashes(5, 100 + i) for i in range(8)]
    threads = [
        threading.Thread(target=large.add, args=("large", batch, f"m{i}"))
        for i, batch in enumerate(batches)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(large) == 2040
    assert all(nearest(large, from_hex(b[0]))[1] == 0 for b in batches)


def test_a_batch_of_changes_from_elsewhere_is_applied_with_one_look_a_bank(large):
    # Another front door's store adds two entries and removes one of the base's.
    hashes = random_hashes(2, 42)
    ids = large.storage.add_bank_entries("large", hashes, "elsewhere", "")
    first = large.storage.bank_entries()[0]
    large.storage.remove_bank_entry(first.id)
    large.apply(
        [{"bank": "large", "entries": ids[:1]}, {"bank": "large", "entries": ids[1:]}]
        + [{"entry": first.id}, {"entry": 10**9}]  # one this front door never held
    )
    assert len(large) == 2001 and large._matchers["large"].changes == 3
    assert nearest(large, from_hex(hashes[1]))[0].id == ids[1]
    assert nearest(large, from_hex(first.hash)) == (None, 32)


def test_a_change_that_does_not_name_its_entries_reads_that_bank_again(large):
    # As an older front door writes it: {"bank": name} for entries added.
    (new,) = random_hashes(1, 77)
    large.storage.add_bank_entries("large", [new], "older", "")
    built = large._matchers["large"]._index
    large.apply([{"bank": "large"}])
    assert large._matchers["large"]._index is not built and len(large) == 2001
    assert nearest(large, from_hex(new))[1] == 0

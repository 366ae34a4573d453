"""The change feed: a front door's index and bank caches follow changes another front
door made through the same database, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import numpy as np
import pytest

from indexes.hashbank import Bank, HashBanks
from indexes.identity import FaissIdentityIndex
from safety.store.sql import SqlStore
from safety.sync import ChangeFollower, StaleCaches

DIM = 8


def vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=DIM).astype(np.float32)


def nearest(index: FaissIdentityIndex, v: np.ndarray) -> int:
    if len(index) == 0:
        return -1
    _, ids = index.search(v[None, :], 1)
    return int(ids[0][0])


@pytest.fixture
def two_doors(database_url):
    """Two stores on one database, as two front doors hold them; the second's caches."""
    a = SqlStore(database_url, origin="door-a#run")
    b = SqlStore(database_url, origin="door-b#run")
    index_b, banks_b = FaissIdentityIndex.create(DIM), HashBanks(b)
    follower = ChangeFollower(b, b, index_b, banks_b, "door-b#run", poll_s=0.05, stale_s=5)
    yield a, b, index_b, banks_b, follower
    follower.stop()
    a.close()
    b.close()


def test_an_enrolment_and_a_removal_elsewhere_reach_this_index(two_doors):
    a, _, index_b, _, follower = two_doors
    record, ids = a.add_identity("Ada", [], "", [("h1", vector(1)), ("h2", vector(2))])
    assert follower.sync() == 1
    assert len(index_b) == 2 and nearest(index_b, vector(2)) == ids[1]
    assert follower.sync() == 0 and len(index_b) == 2  # applied once
    a.remove_identity(record.id)
    follower.sync()
    assert len(index_b) == 0


def test_re_reading_a_change_adds_no_duplicate(two_doors):
    """A change committed while the caches loaded is read again after them: harmless."""
    a, b, index_b, banks_b, _ = two_doors
    _, ids = a.add_identity("Ada", [], "", [("h1", vector(1))])
    index_b.add(np.asarray(ids), vector(1)[None, :])  # the cache loaded with it already
    replay = ChangeFollower(b, b, index_b, banks_b, "door-b#run", after=0)
    replay.sync()
    assert len(index_b) == 1


def test_an_enrolment_removed_before_it_was_read_leaves_nothing(two_doors):
    a, _, index_b, _, follower = two_doors
    record, _ = a.add_identity("Ada", [], "", [("h1", vector(1))])
    a.remove_identity(record.id)
    follower.sync()
    assert len(index_b) == 0


def test_own_changes_are_not_applied_twice(two_doors):
    _, b, index_b, _, follower = two_doors
    b.add_identity("Ada", [], "", [("h1", vector(1))])  # b's own enroller added it itself
    follower.sync()
    assert len(index_b) == 0 and follower.applied == 0


def test_bank_changes_elsewhere_reload_the_bank_caches(two_doors):
    a, _, _, banks_b, follower = two_doors
    a.add_bank(Bank("known-bad", 31, ""))
    a.add_bank_entries("known-bad", ["f" * 64], "m1", "")
    follower.sync()
    assert banks_b.bank("known-bad").max_distance == 31 and len(banks_b) == 1


def test_a_large_bank_follows_changes_elsewhere_without_a_rebuild(two_doors, monkeypatch):
    import indexes.bank_matcher as bank_matcher
    from indexes.pdq import from_hex

    monkeypatch.setattr(bank_matcher, "MIH_MIN", 1000)
    a, _, _, banks_b, follower = two_doors
    a.add_bank(Bank("large", 31, ""))
    rng = np.random.default_rng(0)
    a.add_bank_entries(
        "large",
        [r.tobytes().hex() for r in rng.integers(0, 256, (1500, 32), dtype=np.uint8)],
        "m",
        "",
    )
    follower.sync()
    tables = banks_b._matchers["large"]._index
    assert banks_b._matchers["large"].incremental and len(banks_b) == 1500

    new = bytes(rng.integers(0, 256, 32).astype(np.uint8)).hex()
    (entry_id,) = a.add_bank_entries("large", [new], "reviewed", "")
    follower.sync()
    ((_, found),) = banks_b.nearest_in_each_bank([[from_hex(new)]])
    assert found[0][0].id == entry_id and len(banks_b) == 1501
    assert banks_b._matchers["large"]._index is tables  # taken on, not rebuilt
    banks_b.apply([{"bank": "large", "entries": [entry_id]}])  # a change read twice
    assert len(banks_b) == 1501

    a.remove_bank_entry(entry_id)
    follower.sync()
    ((_, found),) = banks_b.nearest_in_each_bank([[from_hex(new)]])
    assert found[0][0] is None and len(banks_b) == 1500


def test_the_running_follower_applies_a_change_within_two_seconds(two_doors):
    a, _, index_b, _, follower = two_doors
    follower.start()
    a.add_identity("Ada", [], "", [("h1", vector(1))])
    deadline = time.monotonic() + 2.0
    while len(index_b) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(index_b) == 1


class UnreachableFeed:
    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def last_change(self) -> int:
        return 0

    def changes_after(self, seq: int, limit: int = 1000):
        raise ConnectionError("the database is unreachable")

    def wait_for_change(self, timeout_s: float) -> None:
        time.sleep(timeout_s)


def test_a_follower_that_cannot_read_the_feed_goes_stale(two_doors):
    _, b, index_b, banks_b, _ = two_doors
    follower = ChangeFollower(
        UnreachableFeed(b), b, index_b, banks_b, "door-b#run", poll_s=0.05, stale_s=0.3
    ).start()
    try:
        follower.probe()  # just started: fresh
        time.sleep(0.5)
        with pytest.raises(StaleCaches, match="change feed has not been read"):
            follower.probe()
    finally:
        follower.stop()


def test_a_change_numbered_first_but_committed_last_is_not_skipped(postgres):
    """On PostgreSQL numbers are handed out before commit: a change numbered 1 that
    commits after one numbered 2 would be behind a cursor already at 2, and skipped for
    good. Changes are serialized to commit in number order; the later writer waits."""
    import threading

    url = postgres.fresh_database("feed_order")
    a, b = SqlStore(url, origin="door-a#run"), SqlStore(url, origin="door-c#run")
    reader = SqlStore(url, origin="door-b#run")
    record, ids = a.add_identity("Ada", [], "", [("h1", vector(1))])
    index, banks = FaissIdentityIndex.create(DIM), HashBanks(reader)
    follower = ChangeFollower(reader, reader, index, banks, "door-b#run")  # after that one
    late = threading.Thread(target=lambda: b.add_bank(Bank("late", 31, "")))
    with a._write() as slow:  # an enrolment's change is numbered, not yet committed ...
        a._changed(slow, "identity_added", {"id": record.id, "vectors": ids})
        late.start()  # ... while another front door changes a bank
        late.join(timeout=1.0)
        follower.sync()  # what a follower reads meanwhile
    late.join(timeout=10)
    follower.sync()
    assert [c.kind for c in reader.changes_after(1)] == ["identity_added", "banks"]
    assert len(index) == 1, "the change committed second was skipped"
    assert banks.bank("late").max_distance == 31
    for s in (a, b, reader):
        s.close()

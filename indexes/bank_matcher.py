"""One hash bank, searchable: the index built from the store, plus what changed since.

Building a 10 M-entry bank's tables takes ~40 s (reading the store included), so a large
bank is not rebuilt for each hash a reviewer adds or removes: entries added since are
scanned flat beside it, frozen into tables of their own every `SEGMENT` of them, and
entries removed since are skipped, until `MAX_SEGMENTS` or `COMPACT_AT` say the bank is
read again. A small bank (a flat scan anyway) is rebuilt on every change. Matchers are
immutable: a change makes a new one, swapped in whole, so a search never sees half of a
change.
"""

from __future__ import annotations

import numpy as np

from indexes.hamming import HammingIndex
from indexes.hamming_mih import MultiIndexHamming, probe_cost

# Multi-index hashing past this many entries: at 200k it looked up a picture's 8 variants
# ~3x faster than the flat scan (bench/hash_bank.py), below it numpy's per-call cost wins.
MIH_MIN = 100_000
# Entries added to a large bank since it was built are scanned flat up to SEGMENT of them
# (~0.26 ms a lookup at 100k: the scan did 25.7 lookups/s over 10 M in bench/hash_bank.py),
# then frozen into tables of their own; past MAX_SEGMENTS of those, or COMPACT_AT removed
# entries (each removal copies the set skipped), the bank is read from the store again
# (~40 s at 10 M). A 10 M list imported in batches is so indexed again every ~800k
# entries, not every batch.
SEGMENT = 100_000
MAX_SEGMENTS = 8
COMPACT_AT = 10_000


def uses_tables(count: int, max_distance: int) -> bool:
    """Multi-index hashing where it looks up less than a flat scan would read (large banks
    at a modest distance)."""
    return count >= MIH_MIN and probe_cost(count, max_distance) < count / 4


def compact(ids: np.ndarray) -> np.ndarray:
    """Entry ids in 4 bytes each while they fit (40 MB, not 80, at 10 M entries)."""
    return ids.astype(np.uint32) if len(ids) and 0 <= ids.min() and ids.max() < 2**32 else ids


class BankMatcher:
    def __init__(self, ids: np.ndarray, hashes: np.ndarray, max_distance: int) -> None:
        self.max_distance = max_distance
        self._size = len(ids)
        # The tables answer with entry ids (they keep them in their own order); the flat
        # scan with row numbers, mapped through `_ids`.
        if uses_tables(len(ids), max_distance):
            self._ids, self._index = None, MultiIndexHamming(hashes, max_distance, compact(ids))
        else:
            self._ids, self._index = compact(ids), HammingIndex(hashes)
        self._segments: tuple[MultiIndexHamming, ...] = ()  # added since, frozen
        self._tail_ids, self._tail_rows = np.zeros(0, np.int64), np.zeros((0, 32), np.uint8)
        self._tail = HammingIndex()  # added since, scanned flat
        self._removed: frozenset[int] = frozenset()
        self._removed_ids = np.zeros(0, np.int64)

    @property
    def incremental(self) -> bool:
        """Whether changes are layered on (a large bank) rather than rebuilt."""
        return isinstance(self._index, MultiIndexHamming)

    @property
    def changes(self) -> int:
        return self._added() + len(self._removed)

    @property
    def needs_rebuild(self) -> bool:
        return len(self._segments) >= MAX_SEGMENTS or len(self._removed) >= COMPACT_AT

    def _added(self) -> int:
        return len(self._tail_ids) + sum(len(seg) for seg in self._segments)

    def __len__(self) -> int:
        return self._size + self._added() - len(self._removed)

    def holds(self, entry_ids: np.ndarray) -> np.ndarray:
        """Which of these entry ids the bank holds (removed ones not)."""
        built = self._ids if self._ids is not None else self._index.labels
        held = np.isin(entry_ids, built) | np.isin(entry_ids, self._tail_ids)
        for seg in self._segments:
            held |= np.isin(entry_ids, seg.labels)
        return held & ~np.isin(entry_ids, self._removed_ids)

    def with_added(self, ids: np.ndarray, hashes: np.ndarray) -> BankMatcher:
        new = self._copy()
        tail_ids = np.concatenate([self._tail_ids, np.asarray(ids, np.int64)])
        tail_rows = np.concatenate([self._tail_rows, hashes])
        if len(tail_ids) >= SEGMENT:
            frozen = MultiIndexHamming(tail_rows, self.max_distance, compact(tail_ids))
            new._segments = (*self._segments, frozen)
            tail_ids, tail_rows = tail_ids[:0], tail_rows[:0]
        new._tail_ids, new._tail_rows, new._tail = tail_ids, tail_rows, HammingIndex(tail_rows)
        return new

    def without(self, entry_ids: np.ndarray) -> BankMatcher:
        new = self._copy()
        new._removed = self._removed | {int(i) for i in entry_ids}
        new._removed_ids = np.fromiter(new._removed, np.int64)
        return new

    def nearest(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query row: the nearest entry id and its distance. A large bank looks only
        within its distance (entry -1, distance max_distance + 1 when nothing is)."""
        if self._ids is not None:  # the flat scan: never has removals (rebuilt instead)
            rows, distances = self._index.nearest(queries)
            found = self._ids[rows].astype(np.int64)
        elif not self._removed:
            found, distances = self._index.nearest(queries)
        else:  # every match within the distance, the removed ones skipped
            found, distances = self._none(queries)
            self._keep(found, distances, *self._index.within(queries))
        for seg in self._segments:
            self._keep(found, distances, *seg.within(queries))
        if len(self._tail_ids):
            for q, (rows, d) in enumerate(self._tail.within(queries, self.max_distance)):
                self._keep(found, distances, np.full(len(rows), q), self._tail_ids[rows], d)
        return found, distances

    def _keep(self, found, distances, who, ids, d) -> None:
        """Where a live match (query `who`, entry `ids`, distance `d`) is nearer, keep it."""
        live = ~np.isin(ids, self._removed_ids)
        who, ids, d = who[live].tolist(), ids[live].tolist(), d[live].tolist()
        for q, entry, dist in zip(who, ids, d, strict=True):
            if dist < distances[q]:
                found[q], distances[q] = entry, dist

    def _none(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(len(queries), -1, np.int64), np.full(
            len(queries), self.max_distance + 1, np.int32
        )

    def _copy(self) -> BankMatcher:
        new = object.__new__(BankMatcher)
        new.__dict__.update(self.__dict__)
        return new

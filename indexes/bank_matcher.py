"""One hash bank, searchable: the index built from the store, plus what changed since.

Building a 10 M-entry bank's tables takes ~40 s (reading the store included), so a large
bank is not rebuilt for each hash a reviewer adds or removes: entries added since are
scanned flat beside it, and entries removed since are skipped, until the changes pass
`COMPACT_AT` and the bank is rebuilt. A small bank (a flat scan anyway) is rebuilt on
every change. Matchers are immutable: a change makes a new one, swapped in whole, so a
search never sees half of a change.
"""

from __future__ import annotations

import numpy as np

from indexes.hamming import HammingIndex
from indexes.hamming_mih import MultiIndexHamming, probe_cost

# Multi-index hashing past this many entries: at 200k it looked up a picture's 8 variants
# ~3x faster than the flat scan (bench/hash_bank.py), below it numpy's per-call cost wins.
MIH_MIN = 100_000
# A large bank is rebuilt once this many entries were added or removed since it was built.
# The added ones are scanned flat: ~0.26 ms a lookup at 100k (the scan did 25.7 lookups/s
# over 10 M in bench/hash_bank.py), about what the tables take for the rest. So a 10 M
# list imported in batches is indexed again every 100k entries, ~40 s each at 10 M.
COMPACT_AT = 100_000


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
        self._added_ids, self._added_rows = np.zeros(0, np.int64), np.zeros((0, 32), np.uint8)
        self._added = HammingIndex()
        self._removed: frozenset[int] = frozenset()
        self._removed_ids = np.zeros(0, np.int64)

    @property
    def incremental(self) -> bool:
        """Whether changes are layered on (a large bank) rather than rebuilt."""
        return isinstance(self._index, MultiIndexHamming)

    @property
    def changes(self) -> int:
        return len(self._added_ids) + len(self._removed)

    def __len__(self) -> int:
        return self._size + len(self._added_ids) - len(self._removed)

    def holds(self, entry_ids: np.ndarray) -> np.ndarray:
        """Which of these entry ids the bank holds (removed ones not)."""
        built = self._ids if self._ids is not None else self._index.labels
        held = np.isin(entry_ids, built) | np.isin(entry_ids, self._added_ids)
        return held & ~np.isin(entry_ids, self._removed_ids)

    def with_added(self, ids: np.ndarray, hashes: np.ndarray) -> BankMatcher:
        new = self._copy()
        new._added_ids = np.concatenate([self._added_ids, np.asarray(ids, np.int64)])
        new._added_rows = np.concatenate([self._added_rows, hashes])
        new._added = HammingIndex(new._added_rows)
        return new

    def without(self, entry_id: int) -> BankMatcher:
        new = self._copy()
        new._removed = self._removed | {int(entry_id)}
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
            who, ids, d = self._index.within(queries)
            live = ~np.isin(ids, self._removed_ids)
            _keep_nearest(found, distances, who[live], ids[live], d[live])
        if len(self._added_ids):
            hits = self._added.within(queries, self.max_distance)
            for q, (rows, d) in enumerate(hits):
                ids = self._added_ids[rows]
                live = ~np.isin(ids, self._removed_ids)
                _keep_nearest(found, distances, np.full(live.sum(), q), ids[live], d[live])
        return found, distances

    def _none(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.full(len(queries), -1, np.int64), np.full(
            len(queries), self.max_distance + 1, np.int32
        )

    def _copy(self) -> BankMatcher:
        new = object.__new__(BankMatcher)
        new.__dict__.update(self.__dict__)
        return new


def _keep_nearest(found, distances, who, ids, d) -> None:
    """Where a candidate (query `who`, entry `ids`, distance `d`) is nearer, keep it."""
    for q, entry, dist in zip(who.tolist(), ids.tolist(), d.tolist(), strict=True):
        if dist < distances[q]:
            found[q], distances[q] = entry, dist

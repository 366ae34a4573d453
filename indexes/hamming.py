"""Exact Hamming-distance search over PDQ hashes, with FAISS's binary flat index.

Hash banks and the manifest repository both ask which stored 256-bit hashes lie
nearest to, or within d bits of, a query hash. FAISS compares packed bits with
hardware popcount (as Meta's Hasher-Matcher-Actioner does for its PDQ banks), so a
lookup is a scan of 32 bytes per stored hash, not Python work per record.

Rows are the bytes of Meta's hex form of each hash: a fixed permutation of its bits,
so Hamming distances are the same, and parsing is a hex decode rather than bit work
(a 100k-video repository loads in well under a second). Not thread-safe for adds
during searches: owners hold a lock around both.
"""

from __future__ import annotations

import faiss
import numpy as np

PDQ_BITS = 256


def rows(hashes: list[str]) -> np.ndarray:
    """PDQ hashes in hex -> (n, 32) bytes, the index's row format."""
    if any(len(h) != PDQ_BITS // 4 for h in hashes):
        raise ValueError(f"a PDQ hash is {PDQ_BITS // 4} hex digits")
    return np.frombuffer(bytes.fromhex("".join(hashes)), np.uint8).reshape(-1, PDQ_BITS // 8)


class HammingIndex:
    def __init__(self, stored: np.ndarray | None = None) -> None:
        self._index = faiss.IndexBinaryFlat(PDQ_BITS)
        if stored is not None and len(stored):
            self.add(stored)

    def __len__(self) -> int:
        return self._index.ntotal

    def add(self, stored: np.ndarray) -> None:
        """Append rows; they take the next row numbers, in order."""
        self._index.add(np.ascontiguousarray(stored, dtype=np.uint8))

    def nearest(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query row: the nearest stored row number and its distance in bits."""
        if not len(self):
            raise LookupError("the index is empty")
        distances, found = self._index.search(np.ascontiguousarray(queries, dtype=np.uint8), 1)
        return found[:, 0], distances[:, 0]

    def within(self, queries: np.ndarray, max_distance: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per query row: the stored row numbers within `max_distance` bits, and their
        distances."""
        if not len(self):
            return [(np.empty(0, np.int64), np.empty(0, np.int32)) for _ in queries]
        # FAISS returns the rows strictly closer than the radius.
        lims, distances, found = self._index.range_search(
            np.ascontiguousarray(queries, dtype=np.uint8), max_distance + 1
        )
        return [
            (found[lims[i] : lims[i + 1]], distances[lims[i] : lims[i + 1]])
            for i in range(len(queries))
        ]

"""Exact Hamming radius search over millions of PDQ hashes: multi-index hashing.

A flat scan reads 32 bytes of every stored hash per query: 320 MB at 10 M, a few lookups a
second. Multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with
Multi-Index Hashing", CVPR 2012) cuts each hash into m substrings and keeps one table per
substring. By the pigeonhole principle, a stored hash within r bits of a query agrees with
it within ⌊r/m⌋ bits on at least one substring, so probing each table at every key within
that many bits of the query's substring finds every match, and only the few stored hashes
in those buckets are compared in full. The search is exact: no match within the radius is
missed, whatever its bits (an approximate index would let an adversary perturb a banked
picture until it lands where the index does not look).

Each table is a sorted list of row numbers with an offset per key (2^b + 1 of them), so a
probe is two array reads. At 10 M hashes, 11 substrings of 22 bits: 2,794 probes and ~6,600
full comparisons per query at r = 31 (figures in bench/hash_bank.py).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

PDQ_BITS = 256


def _flips(bits: int, radius: int) -> np.ndarray:
    """Every mask of `bits` bits with at most `radius` set: the keys to probe, XORed in."""
    masks = [0]
    for r in range(1, radius + 1):
        masks += [sum(1 << i for i in c) for c in itertools.combinations(range(bits), r)]
    return np.array(masks, np.uint32)


def plan(count: int, radius: int) -> tuple[int, int, list[int]]:
    """(substrings m, bits b each, probe radius per table) for `count` hashes: b ≈ log2 n
    (about one hash a bucket), and the generalized pigeonhole of r = s·m + t: a match is
    within s bits on one of the first t + 1 substrings, or within s − 1 on another."""
    bits = min(24, max(8, round(math.log2(max(count, 2)))))
    m = PDQ_BITS // bits
    s, t = divmod(radius, m)
    return m, bits, [s if k <= t else s - 1 for k in range(m)]


def probe_cost(count: int, radius: int) -> float:
    """Expected probes + full comparisons per query, to weigh against a flat scan."""
    m, bits, radii = plan(count, radius)
    probes = sum(sum(math.comb(bits, i) for i in range(r + 1)) for r in radii if r >= 0)
    return probes * (1 + count / 2**bits)


def _words(rows: np.ndarray) -> np.ndarray:
    """(n, 32) bytes -> (n, 4) native uint64, most significant bits first."""
    return np.ascontiguousarray(rows, dtype=np.uint8).view(">u8").astype(np.uint64)


def _substring(words: np.ndarray, start: int, bits: int) -> np.ndarray:
    """Bits [start, start + bits) of each 256-bit row (counted from the top), as uint32."""
    w, offset = divmod(start, 64)
    end = offset + bits
    if end <= 64:
        out = words[:, w] >> np.uint64(64 - end)
    else:
        out = (words[:, w] << np.uint64(end - 64)) | (words[:, w + 1] >> np.uint64(128 - end))
    return (out & np.uint64((1 << bits) - 1)).astype(np.uint32)


class _Offsets:
    """Where each key's bucket starts in a table: 2 bytes a key (a 4-byte start per block
    of 256 keys, plus the key's 2-byte offset in its block) rather than 4 — 17 MB a table
    instead of 34 at 2^23 keys. A block holding 65,536 rows or more (a list that piles
    hashes into a few buckets) keeps 4-byte offsets, so nothing overflows."""

    BLOCK = 8  # bits: 256 keys a block

    def __init__(self, counts: np.ndarray) -> None:
        starts = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        self._base = starts[:: 1 << self.BLOCK].copy()
        within = starts - np.repeat(self._base, 1 << self.BLOCK)[: len(starts)]
        self._within = within.astype(np.uint16 if within.max() < 2**16 else np.uint32)

    def __getitem__(self, keys: np.ndarray) -> np.ndarray:
        return self._base.take(keys >> self.BLOCK) + self._within.take(keys)


class MultiIndexHamming:
    """Stored rows (PDQ hashes as 32 bytes), searched for all rows within `radius` bits.

    Results name each stored row by its label (default: its row number; a bank passes its
    entry ids). The hashes are kept ordered by the first substring, so the first table
    needs no row numbers of its own (40 MB fewer at 10 M)."""

    def __init__(self, stored: np.ndarray, radius: int, labels: np.ndarray | None = None) -> None:
        self.radius = radius
        words = _words(stored)
        self.m, self.bits, radii = plan(len(stored), radius)
        first = _substring(words, 0, self.bits)
        order = np.argsort(first, kind="stable")
        self._words = words[order]
        del words
        if labels is None:
            labels = np.arange(len(stored), dtype=np.uint32 if len(stored) < 2**32 else np.int64)
        self._labels = np.asarray(labels)[order]
        # The first table's rows are the hashes' own order (radii[0] is never negative).
        first_offsets = _Offsets(np.bincount(first, minlength=2**self.bits))
        self._tables = [(0, None, first_offsets, _flips(self.bits, radii[0]))]
        for k, r in enumerate(radii[1:], start=1):
            if r < 0:  # this substring needs no probe: the others catch every match
                continue
            keys = _substring(self._words, k * self.bits, self.bits)
            rows = np.argsort(keys, kind="stable").astype(np.uint32)
            offsets = _Offsets(np.bincount(keys, minlength=2**self.bits))
            self._tables.append((k * self.bits, rows, offsets, _flips(self.bits, r)))

    def __len__(self) -> int:
        return len(self._words)

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    def within(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query numbers, labels, distances) of every stored row within the radius of a
        query, each pair once, ordered by query."""
        q = _words(queries)
        found_q, found_rows = [], []
        for start, rows, offsets, flips in self._tables:
            probes = (_substring(q, start, self.bits)[:, None] ^ flips[None, :]).ravel()
            begin = offsets[probes]
            counts = offsets[probes + 1] - begin
            total = int(counts.sum())
            if not total:
                continue
            # The positions begin..end of every probed bucket, flattened.
            positions = np.arange(total) + (begin - (counts.cumsum() - counts)).repeat(counts)
            found_rows.append(positions if rows is None else rows.take(positions))
            found_q.append((np.arange(probes.size) // flips.size).repeat(counts))
        if not found_rows:
            empty = np.zeros(0, np.int64)
            return empty, empty, empty.astype(np.int32)
        who, rows = np.concatenate(found_q), np.concatenate(found_rows)
        distance = self._distances(who, rows, q)
        keep = distance <= self.radius
        # A row found by two tables is one match: its distance is kept, not computed again.
        pairs, first = np.unique(who[keep] * len(self._words) + rows[keep], return_index=True)
        who, rows = pairs // len(self._words), pairs % len(self._words)
        return who, self._labels[rows].astype(np.int64), distance[keep][first]

    def _distances(self, who: np.ndarray, rows: np.ndarray, q: np.ndarray) -> np.ndarray:
        # take: a fast path, ~3x quicker than fancy indexing for random rows (the method,
        # not np.take, whose Python wrapper costs a microsecond a call).
        differ = np.bitwise_count(self._words.take(rows, axis=0) ^ q.take(who, axis=0))
        return differ[:, 0].astype(np.int32) + differ[:, 1] + differ[:, 2] + differ[:, 3]

    def nearest(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per query row: the label of the nearest stored row within the radius and its
        distance, or -1 and distance radius + 1 when none is (how far the nearest lies
        beyond the radius is not looked for)."""
        found = np.full(len(queries), -1, np.int64)
        distance = np.full(len(queries), self.radius + 1, np.int32)
        who, labels, d = self.within(queries)
        order = np.lexsort((labels, d, who))  # per query, the nearest (then lowest label)
        first = order[np.r_[True, who[order][1:] != who[order][:-1]]] if len(order) else order
        found[who[first]], distance[who[first]] = labels[first], d[first]
        return found, distance

"""Hash banks: named lists of known-bad media, matched by PDQ Hamming distance.

An image is one PDQ hash; a video is the PDQ hashes of its sampled frames (vPDQ-style),
and it matches when any checked frame is within the bank's distance of a banked frame.
Each bank is judged by its own distance, so each has its own index (one nearest entry
across all banks would let a strict bank's near miss hide a loose bank's match): FAISS's
binary flat scan while small, exact multi-index hashing at its distance past `MIH_MIN`
entries (`hamming_mih.py`; a flat scan of 10 M hashes reads 320 MB a lookup). The indexes
are rebuilt from the store on every change, so a hash added by a reviewer blocks the next
request.

Frames whose PDQ quality is under 50 (flat, dark, featureless: a fade-in, a black frame)
are neither banked nor matched, the reference implementation's rule: their hashes say
little about the content, and one banked black frame would block every video with one.
"""

from __future__ import annotations

import csv
import re
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from indexes.hamming import HammingIndex, rows
from indexes.hamming_mih import MultiIndexHamming, probe_cost
from indexes.index_errors import IndexEntryNotFound, IndexInputError
from indexes.pdq import pdq_media, to_hex

DEFAULT_MAX_DISTANCE = 31  # Meta's suggested PDQ threshold
MIN_QUALITY = 50  # below it, a PDQ hash is not trusted (Meta's reference implementation)
# Multi-index hashing past this many entries: at 200k it looked up a picture's 8 variants
# ~3x faster than the flat scan (bench/hash_bank.py), below it numpy's per-call cost wins.
MIH_MIN = 100_000


@dataclass(frozen=True)
class Bank:
    name: str
    max_distance: int
    description: str = ""
    # A known-CSAM hash list: a match is sexual_minors (always blocked, never reviewed or
    # cleared), and the bank takes hashes only, never media.
    csam: bool = False


@dataclass(frozen=True)
class BankEntry:
    id: int
    bank: str
    hash: str  # PDQ hex
    media_id: str  # groups the frame hashes of one video
    note: str


class BankStorage(Protocol):
    """Where banks and their entries are kept (the service's store implements it)."""

    def add_bank(self, bank: Bank) -> None:
        """Create a bank; a second bank of the same name raises."""
        ...

    def banks(self) -> list[Bank]:
        """All banks, by name."""
        ...

    def add_bank_entries(self, bank: str, hashes: list[str], media_id: str, note: str) -> list[int]:
        """Add hashes to a bank in one transaction; a hash already in it is skipped.
        Returns the new entries' ids."""
        ...

    def remove_bank_entry(self, entry_id: int) -> bool:
        """Delete one entry; False if there was none."""
        ...

    def bank_entries(self, media_id: str | None = None) -> list[BankEntry]:
        """Every entry of every bank (or those of one media id), oldest first."""
        ...

    def bank_entry(self, entry_id: int) -> BankEntry | None:
        """One entry (what a match names), or None if it was removed."""
        ...

    def bank_counts(self) -> dict[str, int]:
        """Entries per bank (banks without entries are absent)."""
        ...

    def bank_hashes(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per bank, (entry ids, hashes as (n, 32) bytes: `hamming.rows`), oldest first:
        what the matcher is built from, read without an object per entry (10 M entries as
        Python objects would be gigabytes)."""
        ...


class HashBanks:
    def __init__(self, storage: BankStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._refresh()

    def create(
        self,
        name: str,
        max_distance: int = DEFAULT_MAX_DISTANCE,
        description: str = "",
        csam: bool = False,
    ) -> Bank:
        name = name.strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise IndexInputError("a bank name is letters, digits, '-' and '_'")
        if not 0 <= max_distance <= 128:
            raise IndexInputError("max_distance must be within 0..128 bits of 256")
        if any(b.name == name for b in self.storage.banks()):
            raise IndexInputError(f"bank {name!r} already exists")
        bank = Bank(name, max_distance, description, csam)
        self.storage.add_bank(bank)
        self._refresh()
        return bank

    def ensure(self, name: str, description: str, filled_by: str) -> Bank:
        """The bank `name`, created (at the default distance) if missing, for content this
        service banks itself; never a known-CSAM list, which takes hash lists only."""
        existing = {b.name: b for b in self.storage.banks()}.get(name)
        if existing is None:
            return self.create(name, DEFAULT_MAX_DISTANCE, description)
        if existing.csam:
            raise IndexInputError(
                f"bank {name!r} is a known-CSAM list: it is filled from hash lists, not {filled_by}"
            )
        return existing

    def bank(self, name: str) -> Bank:
        if name not in self._banks:
            raise IndexEntryNotFound(f"no hash bank {name!r}; create it first")
        return self._banks[name]

    def add(self, bank: str, hashes: list[str], media_id: str, note: str = "") -> list[int]:
        self.bank(bank)
        ids = self.storage.add_bank_entries(bank, hashes, media_id, note)
        self._refresh()
        return ids

    def remove(self, entry_id: int) -> None:
        if not self.storage.remove_bank_entry(entry_id):
            raise IndexEntryNotFound(f"no bank entry {entry_id}")
        self._refresh()

    def nearest_in_each_bank(
        self, queries: list[list[np.ndarray]]
    ) -> list[tuple[Bank, list[tuple[BankEntry | None, int]]]]:
        """For each bank: per query (the hashes of one picture's variants, see
        `pdq_dihedral`), the entry nearest to any of its variants and the distance; the
        entry is None when the bank's index looks no further than its distance and
        nothing lies within it."""
        with self._lock:  # a refresh swaps in new indexes; these are never changed
            per_bank, banks = self._per_bank, self._banks
        if not queries:
            return []
        flat = [variant for variants in queries for variant in variants]
        query_rows = rows([to_hex(q) for q in flat])
        owner = np.repeat(np.arange(len(queries)), [len(v) for v in queries])
        out = []
        for name, (entry_ids, index) in per_bank.items():
            found, distances = index.nearest(query_rows)
            best: dict[int, tuple[int, int]] = {}
            for query, i, d in zip(owner.tolist(), found.tolist(), distances.tolist(), strict=True):
                if query not in best or d < best[query][1]:
                    best[query] = (i, d)
            # An entry removed since the last refresh reads None: no longer banked.
            nearest = [
                (self.storage.bank_entry(int(entry_ids[i])) if i >= 0 else None, d)
                for i, d in (best[q] for q in range(len(queries)))
            ]
            out.append((banks[name], nearest))
        return out

    def __len__(self) -> int:
        return self._count

    def reload(self) -> None:
        """Read the banks again (another front door changed them)."""
        self._refresh()

    def _refresh(self) -> None:
        banks = {b.name: b for b in self.storage.banks()}
        per_bank = {
            name: (compact(ids), bank_index(hashes, banks[name].max_distance))
            for name, (ids, hashes) in self.storage.bank_hashes().items()
        }
        with self._lock:
            self._per_bank, self._banks = per_bank, banks
            self._count = sum(len(ids) for ids, _ in per_bank.values())


def compact(ids: np.ndarray) -> np.ndarray:
    """Entry ids in 4 bytes each while they fit (40 MB, not 80, at 10 M entries)."""
    return ids.astype(np.uint32) if len(ids) and 0 <= ids.min() and ids.max() < 2**32 else ids


def bank_index(stored: np.ndarray, max_distance: int) -> HammingIndex | MultiIndexHamming:
    """The flat scan, or multi-index hashing where it looks up less than a scan would read
    (large banks at a modest distance)."""
    n = len(stored)
    if n >= MIH_MIN and probe_cost(n, max_distance) < n / 4:
        return MultiIndexHamming(stored, max_distance)
    return HammingIndex(stored)


def media_hashes(frames: list[np.ndarray]) -> list[str]:
    """The PDQ hashes to bank for an image (one frame) or a video's sampled frames: those
    of quality `MIN_QUALITY` or more."""
    hashes = set()
    for pixels in frames:
        bits, quality = pdq_media(pixels)
        if quality >= MIN_QUALITY:
            hashes.add(to_hex(bits))
    return sorted(hashes)


_PDQ = re.compile(r"^[0-9a-f]{64}$")


def read_hash_list(text: str) -> list[str]:
    """The PDQ hashes of a list trust-and-safety teams exchange: one hex hash a line
    (# comments), or a CSV export (HMA, ThreatExchange) whose header names the hash
    column (`signal_value`, `signal`, `hash` or `pdq`) and, if it has one, the type
    column (`signal_type`: only `pdq` rows are read). A line that is neither is refused
    with its number: a list that half-imports protects against half of it."""
    lines = text.splitlines()
    start = next(
        (i for i, ln in enumerate(lines) if ln.strip() and not ln.lstrip().startswith("#")),
        len(lines),
    )
    if start == len(lines) or "," not in lines[start]:
        found = ((n, line.split("#", 1)[0]) for n, line in enumerate(lines, 1))
        return [_pdq(n, value) for n, value in found if value.strip()]
    rows_ = list(csv.reader(lines[start:]))
    header = [c.strip().lower() for c in rows_[0]]
    column = next(
        (header.index(c) for c in ("signal_value", "signal", "hash", "pdq") if c in header), None
    )
    if column is None:
        raise IndexInputError(
            f"line {start + 1}: no hash column (signal_value, signal, hash or pdq) in {header}"
        )
    kind = header.index("signal_type") if "signal_type" in header else None
    return [
        _pdq(number, row[column] if column < len(row) else "")
        for number, row in enumerate(rows_[1:], start + 2)
        if row and (kind is None or row[kind].strip().lower() == "pdq")
    ]


def _pdq(line: int, value: str) -> str:
    """`value` as a PDQ hash (lower-case hex), or the error naming its line."""
    value = value.strip().lower()
    if not _PDQ.match(value):
        raise IndexInputError(f"line {line}: not a PDQ hash (64 hex digits): {value[:80]!r}")
    return value

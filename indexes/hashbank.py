"""Hash banks: named lists of known-bad media, matched by PDQ Hamming distance.

An image is one PDQ hash; a video is the PDQ hashes of its sampled frames (vPDQ-style),
and it matches when any checked frame is within the bank's distance of a banked frame.
Each bank is judged by its own distance, so each has its own index (one nearest entry
across all banks would let a strict bank's near miss hide a loose bank's match): FAISS's
binary flat scan while small, exact multi-index hashing at its distance past `MIH_MIN`
entries (`bank_matcher.py`, `hamming_mih.py`; a flat scan of 10 M hashes reads 320 MB a
lookup). A hash added by a reviewer blocks the next request: a small bank is rebuilt from
the store on every change, a large one takes the change on beside its index.

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

from indexes.bank_matcher import BankMatcher
from indexes.index_errors import IndexEntryNotFound, IndexInputError
from indexes.pdq import pdq_media, to_hex, to_rows

DEFAULT_MAX_DISTANCE = 31  # Meta's suggested PDQ threshold
MIN_QUALITY = 50  # below it, a PDQ hash is not trusted (Meta's reference implementation)


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

    def bank_hashes(
        self, bank: str | None = None, ids: list[int] | None = None
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per bank (or for one; or only these entry ids), (entry ids, hashes as (n, 32)
        bytes: `hamming.rows`), oldest first: what the matcher is built from, or takes on,
        read without an object per entry (10 M entries as Python objects would be
        gigabytes) and in one statement, not one an entry."""
        ...


class HashBanks:
    def __init__(self, storage: BankStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()  # guards the swap of `_matchers`
        self._write = threading.Lock()  # one change at a time: none is lost
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
        with self._write:
            self.storage.add_bank(bank)
            with self._lock:
                self._banks = {**self._banks, name: bank}
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
        with self._write:
            ids = self.storage.add_bank_entries(bank, hashes, media_id, note)
            if ids:
                self._took(bank, np.asarray(ids, np.int64))
        return ids

    def remove(self, entry_id: int) -> None:
        with self._write:
            if not self.storage.remove_bank_entry(entry_id):
                raise IndexEntryNotFound(f"no bank entry {entry_id}")
            self._lost(np.array([entry_id], np.int64))

    def nearest_in_each_bank(
        self, queries: list[list[np.ndarray]]
    ) -> list[tuple[Bank, list[tuple[BankEntry | None, int]]]]:
        """For each bank: per query (the hashes of one picture's variants, see
        `pdq_dihedral`), the entry nearest to any of its variants and the distance; the
        entry is None when the bank's index looks no further than its distance and
        nothing lies within it."""
        with self._lock:  # a change swaps in new matchers; these are never changed
            matchers, banks = self._matchers, self._banks
        if not queries:
            return []
        query_rows = to_rows(np.stack([variant for variants in queries for variant in variants]))
        owner = np.repeat(np.arange(len(queries)), [len(v) for v in queries])
        out = []
        for name, matcher in matchers.items():
            found, distances = matcher.nearest(query_rows)
            best: dict[int, tuple[int, int]] = {}
            for query, i, d in zip(owner.tolist(), found.tolist(), distances.tolist(), strict=True):
                if query not in best or d < best[query][1]:
                    best[query] = (i, d)
            # An entry removed by another front door since the last reload reads None.
            nearest = [
                (self.storage.bank_entry(i) if i >= 0 else None, d)
                for i, d in (best[q] for q in range(len(queries)))
            ]
            out.append((banks[name], nearest))
        return out

    def __len__(self) -> int:
        with self._lock:
            return sum(len(m) for m in self._matchers.values())

    def reload(self) -> None:
        """Read the banks again (another front door changed them)."""
        with self._write:
            self._refresh()

    def apply(self, changes: list[dict]) -> None:
        """Another front door's bank changes, as the change feed tells them: a bank made,
        entries added (their ids), an entry removed. Only what changed is read; a large
        bank takes the change on beside its tables."""
        with self._write:
            banks = {b.name: b for b in self.storage.banks()}
            with self._lock:
                self._banks = banks
            added: dict[str, list[int]] = {}
            # A bank made, or entries added by a front door that did not name them (an
            # older version): that bank is read again.
            unspecified = set()
            for change in changes:
                if change.get("bank") not in banks:
                    continue
                if "entries" in change:
                    added.setdefault(change["bank"], []).extend(change["entries"])
                else:
                    unspecified.add(change["bank"])
            for bank in unspecified:
                self._rebuild(bank)
            for bank, ids in added.items():
                self._took(bank, np.asarray(ids, np.int64))
            removed = [int(c["entry"]) for c in changes if "entry" in c]
            if removed:
                self._lost(np.asarray(removed, np.int64))

    def _took(self, bank: str, entry_ids: np.ndarray) -> None:
        """Entries added to `bank` (by this front door or another)."""
        matcher = self._matchers.get(bank)
        if matcher is None or not matcher.incremental:
            self._rebuild(bank)
            return
        new = entry_ids[~matcher.holds(entry_ids)]  # a change read twice adds nothing
        if not len(new):
            return
        found = self.storage.bank_hashes(bank, new.tolist()).get(bank)
        if found is not None:  # None: removed again before it was read
            self._changed(bank, matcher.with_added(*found))

    def _lost(self, entry_ids: np.ndarray) -> None:
        """Entries removed, from whichever banks hold them (one look a bank)."""
        for bank, matcher in list(self._matchers.items()):
            held = entry_ids[matcher.holds(entry_ids)]
            if not len(held):
                continue
            if matcher.incremental:
                self._changed(bank, matcher.without(held))
            else:
                self._rebuild(bank)

    def _refresh(self) -> None:
        banks = {b.name: b for b in self.storage.banks()}
        matchers = {
            name: BankMatcher(ids, hashes, banks[name].max_distance)
            for name, (ids, hashes) in self.storage.bank_hashes().items()
        }
        with self._lock:
            self._matchers, self._banks = matchers, banks

    def _rebuild(self, bank: str) -> None:
        """One bank read from the store again (the others are left as they are)."""
        ids, hashes = self.storage.bank_hashes(bank).get(bank, (np.zeros(0, np.int64), None))
        matcher = None
        if len(ids):
            matcher = BankMatcher(ids, hashes, self._banks[bank].max_distance)
        with self._lock:
            matchers = dict(self._matchers)
            if matcher is None:
                matchers.pop(bank, None)
            else:
                matchers[bank] = matcher
            self._matchers = matchers

    def _changed(self, bank: str, matcher: BankMatcher) -> None:
        """Swap in a bank's changed matcher, or rebuild it once changes have piled up."""
        if matcher.needs_rebuild:
            self._rebuild(bank)
            return
        with self._lock:
            self._matchers = {**self._matchers, bank: matcher}


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

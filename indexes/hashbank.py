"""Hash banks: named lists of known-bad media, matched by PDQ Hamming distance.

An image is one PDQ hash; a video is the PDQ hashes of its sampled frames (vPDQ-style),
and it matches when any checked frame is within the bank's distance of a banked frame.
The matcher keeps every hash in memory in a FAISS binary index, rebuilt from the store
on every change, so a hash added by a reviewer blocks the next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from indexes.errors import IndexEntryNotFound, IndexInputError
from indexes.hamming import HammingIndex, rows
from indexes.pdq import pdq_media, to_hex

DEFAULT_MAX_DISTANCE = 31  # Meta's suggested PDQ threshold


@dataclass(frozen=True)
class Bank:
    name: str
    max_distance: int
    description: str = ""


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

    def bank_entries(self) -> list[BankEntry]:
        """Every entry of every bank, oldest first: what the matcher is built from."""
        ...


class HashBanks:
    def __init__(self, storage: BankStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._refresh()

    def create(
        self, name: str, max_distance: int = DEFAULT_MAX_DISTANCE, description: str = ""
    ) -> Bank:
        name = name.strip()
        if not name or not name.replace("-", "").replace("_", "").isalnum():
            raise IndexInputError("a bank name is letters, digits, '-' and '_'")
        if not 0 <= max_distance <= 128:
            raise IndexInputError("max_distance must be within 0..128 bits of 256")
        if any(b.name == name for b in self.storage.banks()):
            raise IndexInputError(f"bank {name!r} already exists")
        bank = Bank(name, max_distance, description)
        self.storage.add_bank(bank)
        self._refresh()
        return bank

    def add(self, bank: str, hashes: list[str], media_id: str, note: str = "") -> list[int]:
        if bank not in self._banks:
            raise IndexEntryNotFound(f"no hash bank {bank!r}; create it first")
        ids = self.storage.add_bank_entries(bank, hashes, media_id, note)
        self._refresh()
        return ids

    def remove(self, entry_id: int) -> None:
        if not self.storage.remove_bank_entry(entry_id):
            raise IndexEntryNotFound(f"no bank entry {entry_id}")
        self._refresh()

    def nearest(self, query_bits: np.ndarray) -> tuple[BankEntry, int] | None:
        """The banked hash closest to one PDQ hash, and its distance."""
        with self._lock:  # a refresh swaps in a new index; this one is never changed
            entries, index = self._entries, self._index
        if not entries:
            return None
        found, distances = index.nearest(rows([to_hex(query_bits)]))
        return entries[int(found[0])], int(distances[0])

    def max_distance(self, bank: str) -> int:
        return self._banks[bank].max_distance

    def __len__(self) -> int:
        return len(self._entries)

    def _refresh(self) -> None:
        entries = self.storage.bank_entries()
        index = HammingIndex(rows([e.hash for e in entries]) if entries else None)
        banks = {b.name: b for b in self.storage.banks()}
        with self._lock:
            self._entries, self._index, self._banks = entries, index, banks


def media_hashes(frames: list[np.ndarray]) -> list[str]:
    """The PDQ hashes to bank for an image (one frame) or a video's sampled frames."""
    return sorted({to_hex(pdq_media(pixels)[0]) for pixels in frames})

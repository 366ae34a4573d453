"""Following the store's change feed, so this front door's caches match the database
every front door writes: enrolments and removals into the FAISS index, bank changes
into the hash-bank caches.

A follower that cannot read the feed for `stale_s` reports itself down (`probe`
raises), and the health monitor turns the services that match against those caches
NOT_SERVING: stale data is not served. Changes this front door made itself it applied
when it made them; they are skipped.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from indexes.hashbank import HashBanks
from indexes.identity import FaissIdentityIndex
from safety.store.interface import ChangeFeed, IdentityStore
from safety.store.records import Change

log = logging.getLogger(__name__)


class StaleCaches(RuntimeError):
    """The change feed could not be read for too long."""


class ChangeFollower:
    def __init__(
        self,
        feed: ChangeFeed,
        identities: IdentityStore,
        index: FaissIdentityIndex,
        banks: HashBanks,
        origin: str,
        poll_s: float = 0.5,
        stale_s: float = 5.0,
        after: int | None = None,
    ) -> None:
        """`after`: the last change the caches already hold (read before they were
        loaded, so none committed meanwhile is missed; re-applying one is harmless)."""
        self.feed, self.identities, self.index, self.banks = feed, identities, index, banks
        self.origin = origin
        self.poll_s, self.stale_s = poll_s, stale_s
        self.cursor = feed.last_change() if after is None else after
        self.last_synced = time.monotonic()
        self.applied = 0  # changes from other front doors applied so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ChangeFollower:
        self._thread = threading.Thread(target=self._run, name="change-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def probe(self) -> None:
        """Raise when the caches may be stale (the health monitor's probe)."""
        behind = time.monotonic() - self.last_synced
        if behind > self.stale_s:
            raise StaleCaches(
                f"the change feed has not been read for {behind:.0f} s (limit "
                f"{self.stale_s:.0f} s): identity index and hash banks may be stale"
            )

    def sync(self) -> int:
        """Apply every change after the cursor; returns how many were read."""
        read = 0
        while batch := self.feed.changes_after(self.cursor):
            bank_changes = []
            for change in batch:
                if change.origin != self.origin:
                    if self._apply(change):
                        bank_changes.append(change.body)
                    self.applied += 1
                self.cursor = change.seq
            if bank_changes:
                self.banks.apply(bank_changes)
            read += len(batch)
        self.last_synced = time.monotonic()
        return read

    def _apply(self, change: Change) -> bool:
        """Apply one change to the index; True if it is the bank caches' to apply."""
        if change.kind == "identity_added":
            ids, vectors = self.identities.reference_vectors(change.body["vectors"])
            if len(ids):
                self.index.remove(ids)  # re-applying a change adds no duplicate
                self.index.add(ids, vectors)
        elif change.kind == "identity_removed":
            self.index.remove(np.asarray(change.body["vectors"], dtype=np.int64))
        elif change.kind == "banks":
            return True
        else:
            log.warning("change %d: unknown kind %r ignored", change.seq, change.kind)
        return False

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sync()
                self.feed.wait_for_change(self.poll_s)
            except Exception as e:  # the database is away: retry, and go stale meanwhile
                log.warning("change feed: %s", e)
                self._stop.wait(self.poll_s)

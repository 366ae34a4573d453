"""Stopping a check that ran past its deadline, where the model lets us.

A thread cannot be killed, so a check that overruns would keep its pool thread (and its
CPU) after the verdict has already failed it closed; enough of them and the pool starves.
`Checks` runs each check under its own `Cancellation` and cancels those still running at
the deadline. Work that can be stopped registers how (`on_cancel`): the face workers are
processes, and a cancelled check kills them; loops over frames call `raise_if_cancelled`
between frames. Work that registers nothing simply finishes late, as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class CheckCancelled(Exception):
    """The check's deadline passed and it was stopped; its result is no longer wanted."""


class Cancellation:
    """One check's cancel signal: set once, and the stoppers registered for it run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stoppers: dict[int, Callable[[], None]] = {}
        self._next = 0
        self.cancelled = False

    def on_cancel(self, stop: Callable[[], None]) -> Callable[[], None]:
        """Call `stop` if this is cancelled (now, if it already is); returns the undo."""
        with self._lock:
            if not self.cancelled:
                key, self._next = self._next, self._next + 1
                self._stoppers[key] = stop
                return lambda: self._stoppers.pop(key, None)
        stop()
        return lambda: None

    def cancel(self) -> None:
        with self._lock:
            if self.cancelled:
                return
            self.cancelled = True
            stoppers, self._stoppers = list(self._stoppers.values()), {}
        for stop in stoppers:
            try:
                stop()
            except Exception:  # a stopper that fails leaves the check running late, no worse
                log.exception("stopping a cancelled check failed")

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise CheckCancelled("the check's deadline passed")


_current: ContextVar[Cancellation | None] = ContextVar("reelguard_cancellation", default=None)


def current_cancellation() -> Cancellation:
    """The running check's cancellation (one that is never cancelled outside a check)."""
    return _current.get() or Cancellation()


def run_cancellable(cancellation: Cancellation, fn: Callable[[], T]) -> T:
    """Run `fn` with `cancellation` as the current one."""
    token = _current.set(cancellation)
    try:
        return fn()
    finally:
        _current.reset(token)

"""Admission control: how many generations run at once, in total and per tenant.

A request over a ceiling is refused at once (RESOURCE_EXHAUSTED), before any heavy
work; a slot is held for the life of the stream and freed when it ends for any
reason — completion, error or the client going away.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class Overloaded(RuntimeError):
    """No generation slot is free; the message says which ceiling was hit."""


class Admission:
    def __init__(self, max_total: int, max_per_tenant: int, kind: str = "generation") -> None:
        self.max_total = max_total
        self.kind = kind  # what a slot is for, in the refusal: "generation", "media check"
        self.max_per_tenant = max_per_tenant
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def full(self) -> str | None:
        """Why no request can be admitted now (every slot busy), or None: what load
        shedding asks before a request is authenticated or decoded."""
        return self._over_total(self.running())

    def _over_total(self, running: int) -> str | None:
        if running >= self.max_total:
            return f"all {self.max_total} {self.kind} slots are busy; retry shortly"
        return None

    @contextmanager
    def slot(self, tenant: str) -> Iterator[None]:
        with self._lock:
            if reason := self._over_total(sum(self._running.values())):
                raise Overloaded(reason)
            if self._running.get(tenant, 0) >= self.max_per_tenant:
                raise Overloaded(
                    f"tenant {tenant!r} already runs {self.max_per_tenant} {self.kind}(s), "
                    "its limit; retry when one finishes"
                )
            self._running[tenant] = self._running.get(tenant, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running[tenant] -= 1
                if not self._running[tenant]:
                    del self._running[tenant]

    def running(self) -> int:
        with self._lock:
            return sum(self._running.values())

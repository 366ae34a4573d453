"""Component health: probe what requests depend on, publish it through gRPC health.

A request whose component fails is already blocked or failed by the pipeline (fail
closed); this is what lets a load balancer or orchestrator see it too. Each probe
exercises the real dependency (a write to the store, a signature from the signer, a
search of the index, a face-model call), because "loaded" is not "working".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass

from safety.errors import Unavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Component:
    name: str
    probe: Callable[[], object]  # raises (or overruns the timeout) when the component is down
    # What cannot work without it: short gRPC service names ("Generation") or single
    # methods ("Provenance.Sign"); a service is NOT_SERVING when any of either is down.
    needed_by: tuple[str, ...]


class HealthMonitor:
    def __init__(
        self, components: list[Component], interval_s: float = 5.0, timeout_s: float = 10.0
    ) -> None:
        self.components = components
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self._down: dict[str, str] = {}  # component -> why
        self._lock = threading.Lock()
        self._listeners: list[Callable[[str, bool], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Probes run here so a hung dependency cannot hang the monitor itself.
        self._pool = futures.ThreadPoolExecutor(len(components) or 1, thread_name_prefix="probe")

    @property
    def services(self) -> set[str]:
        return {s.split(".")[0] for c in self.components for s in c.needed_by}

    def on_change(self, listener: Callable[[str, bool], None]) -> None:
        """`listener(service, serving)` for every service ("" = the whole server) on each check."""
        self._listeners.append(listener)

    def check_now(self) -> dict[str, str]:
        """Probe every component once; publish and return what is down (name -> why)."""
        running = {c.name: self._pool.submit(c.probe) for c in self.components}
        down: dict[str, str] = {}
        for name, future in running.items():
            try:
                future.result(timeout=self.timeout_s)
            except futures.TimeoutError:
                down[name] = f"no answer within {self.timeout_s:g} s"
            except Exception as e:  # noqa: BLE001 - any failure means down; the reason is kept
                down[name] = f"{type(e).__name__}: {e}"
        with self._lock:
            for name in down.keys() - self._down.keys():
                log.error("component %s is down: %s", name, down[name])
            for name in self._down.keys() - down.keys():
                log.warning("component %s is back", name)
            self._down = down
        self._publish()
        return dict(down)

    def _publish(self) -> None:
        down = self.down()
        for service in sorted(self.services | {""}):
            serving = not (down if service == "" else self.blocking(service))
            for listener in self._listeners:
                listener(service, serving)

    def down(self) -> dict[str, str]:
        with self._lock:
            return dict(self._down)

    def blocking(self, what: str) -> dict[str, str]:
        """The down components that `what` needs: a method ("Service.Method") needs those
        named for it or its service; a whole service, those any of its methods needs."""
        down = self.down()
        return {c.name: down[c.name] for c in self.components if c.name in down and _needs(c, what)}

    def require(self, method: str) -> None:
        """Refuse `method` at once (UNAVAILABLE) while a component it needs is down,
        instead of starting work that cannot finish."""
        blocking = self.blocking(method)
        if blocking:
            why = "; ".join(f"{name}: {reason}" for name, reason in sorted(blocking.items()))
            raise Unavailable(f"{method} is unavailable while a component it needs is down ({why})")

    def start(self) -> None:
        self.check_now()
        self._thread = threading.Thread(target=self._run, name="health", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.check_now()
            except Exception:  # the monitor must outlive any probe bug
                log.exception("health check failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s)
        self._pool.shutdown(wait=False, cancel_futures=True)


def _needs(component: Component, what: str) -> bool:
    service = what.split(".")[0]
    return any(
        n in (what, service) if "." in what else n.split(".")[0] == what
        for n in component.needed_by
    )

"""The face models in worker processes, so the frames of a clip are embedded on every
core (dlib's landmarks and chips hold the GIL), and a model that overruns its check's
deadline can be killed and replaced (a thread cannot be)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np

from safety.cancellation import current_cancellation
from safety.likeness.checker import DlibFaceEmbedder, FaceEmbedder
from safety.likeness.tracking import Box, Detection, Face

log = logging.getLogger(__name__)


# The face model of a worker process (see ProcessEmbedderPool).
_WORKER_EMBEDDER: FaceEmbedder | None = None


def _start_worker(
    make_embedder: Callable[[int], FaceEmbedder], min_face_size: int, service_pid: int
) -> None:
    global _WORKER_EMBEDDER
    _die_with_service(service_pid)
    _WORKER_EMBEDDER = make_embedder(min_face_size)


def _die_with_service(service_pid: int) -> None:
    """End this worker when the service ends, even by SIGKILL: a pool worker would
    otherwise wait forever on its queue, holding its models in memory. Its parent is the
    forkserver, which the workers themselves keep alive, so the worker watches the
    service: on Linux through a pidfd (readable once that very process has exited, so a
    reused pid cannot fool it), elsewhere by asking every second whether the pid lives."""
    import select

    try:
        pidfd = os.pidfd_open(service_pid) if hasattr(os, "pidfd_open") else None
    except ProcessLookupError:
        os._exit(0)  # the service is gone already

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _alive(service_pid):
                time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="watch-service", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _worker_faces(pixels: np.ndarray) -> list[Face]:
    return _WORKER_EMBEDDER.faces(pixels)


def _worker_detect(pixels: np.ndarray) -> list[Detection]:
    return _WORKER_EMBEDDER.detect(pixels)


def _worker_embed(crops: list[tuple[np.ndarray, Box]]) -> list[np.ndarray]:
    return _WORKER_EMBEDDER.embed_faces(crops)


def _processes(pool: ProcessPoolExecutor) -> list:
    # ProcessPoolExecutor names its processes only here (Python 3.14 adds kill_workers).
    return list((getattr(pool, "_processes", None) or {}).values())


def _dlib_embedder(min_face_size: int) -> FaceEmbedder:
    return DlibFaceEmbedder(min_face_size=min_face_size)


class ProcessEmbedderPool:
    """The default embedder in worker processes, so frames of a clip are embedded on every
    core: dlib holds the GIL while it aligns faces, so threads would take turns.

    Processes can be stopped, threads cannot: a check cancelled at its deadline kills the
    workers and the pool starts fresh ones, so an overrunning face model gives its CPU back.
    Other checks that had frames on the killed workers run them again on the new ones."""

    model = DlibFaceEmbedder.model
    dim = DlibFaceEmbedder.dim

    def __init__(
        self,
        workers: int,
        min_face_size: int = 20,
        make_embedder: Callable[[int], FaceEmbedder] = _dlib_embedder,
        preload: tuple[str, ...] = (),
    ) -> None:
        """`preload`: modules the workers' server imports once, before any worker forks
        (see _new_pool)."""
        self.model_version = DlibFaceEmbedder.version_string()
        self._preload = [__name__, *preload]
        self._workers = workers
        self._initargs = (make_embedder, min_face_size, os.getpid())
        self._lock = threading.Lock()
        self.restarts = 0
        self._closed = False
        self._pool = self._new_pool()
        # Start every worker now (models load at start-up, not on the first request), from
        # a thread: ready() waits for them, so the service's other models load meanwhile.
        starter = ThreadPoolExecutor(1, thread_name_prefix="face-workers-start")
        self._starting = starter.submit(self._start_workers, self._pool)
        starter.shutdown(wait=False)

    def _start_workers(self, pool: ProcessPoolExecutor) -> None:
        blank = np.zeros((16, 16, 3), np.uint8)
        list(pool.map(_worker_faces, [blank] * self._workers))

    def ready(self) -> None:
        """Block until every worker has loaded its models (raises what a worker raised)."""
        self._starting.result()

    def _new_pool(self) -> ProcessPoolExecutor:
        import multiprocessing

        # Not fork: the parent runs gRPC threads, which fork does not copy safely. Workers
        # fork from a single-threaded server that imported this module and `preload`.
        # Each worker still runs the program's __main__ again (as spawn does; Python
        # 3.11's preload of "__main__" itself does not take), so the program's modules
        # preloaded make that cheap: `reelguard serve`'s workers each imported the CLI
        # again, 0.3-0.45 s of CPU apiece, and a restart after a kill answered its first
        # call in 0.52-0.60 s against 0.24-0.26 s preloaded (bench/cold_start.py).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self._preload)
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=self._initargs,
        )

    def worker_pids(self) -> list[int]:
        self.ready()  # before, the workers may not have started
        return [p.pid for p in _processes(self._pool)]

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        """Kill `broken`'s workers and put a fresh pool in its place (once, however many
        checks ask)."""
        with self._lock:
            if self._pool is not broken or self._closed:
                return
            for process in _processes(broken):
                process.kill()
            broken.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            self.restarts += 1
        log.warning("face workers killed and restarted after a check overran its deadline")

    def faces(self, pixels: np.ndarray) -> list[Face]:
        return self.faces_of_frames([pixels])[0]

    def faces_of_frames(self, frames: list[np.ndarray]) -> list[list[Face]]:
        return self._map(_worker_faces, frames)

    def detect_frames(self, frames: list[np.ndarray]) -> list[list[Detection]]:
        return self._map(_worker_detect, frames)

    def embed_faces(self, crops: list[tuple[np.ndarray, Box]]) -> list[np.ndarray]:
        """One batch a worker: the network costs less a face in a batch."""
        if not crops:
            return []
        share = -(-len(crops) // self._workers)
        batches = [crops[i : i + share] for i in range(0, len(crops), share)]
        return [e for batch in self._map(_worker_embed, batches) for e in batch]

    def _map(self, fn: Callable, items: list) -> list:
        """`fn` over `items` on the workers; stopped (the workers killed) if the check is
        cancelled, run again once if another check's cancellation killed them."""
        cancellation = current_cancellation()
        for attempt in (1, 2):
            pool = self._pool
            stop = cancellation.on_cancel(lambda pool=pool: self._restart(pool))
            try:
                futures = [pool.submit(fn, item) for item in items]
                return [f.result() for f in futures]
            except RuntimeError as e:  # BrokenProcessPool is one
                cancellation.raise_if_cancelled()
                replaced = pool is not self._pool  # submitted while another check restarted it
                retry = replaced or isinstance(e, BrokenProcessPool)
                if attempt == 2 or self._closed or not retry:
                    raise  # the model's own error (a crash twice running) fails the check
                self._restart(pool)  # another check's overrun killed these workers: again
            finally:
                stop()
        raise AssertionError("unreachable")

    def close(self, grace_s: float = 5.0) -> None:
        """Stop the workers; one still busy after `grace_s` (a stuck model) is killed."""
        with self._lock:
            self._closed = True  # no restarts from here on
        processes = _processes(self._pool)
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.join(grace_s)
            if process.is_alive():
                process.kill()

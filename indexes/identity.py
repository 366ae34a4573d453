"""The identity index: reference-face embeddings of enrolled people, searched with FAISS.

Vectors are L2-normalised, so inner product is cosine similarity. Each reference
image has a stable int64 id that the store maps to its identity, so references can
be added and removed without a rebuild.

Index kind follows gallery size behind one API: exact `flat` search while small;
past `flat_max` vectors an `ivf` index (IVF with full vectors in the lists, so the
similarities it returns are exact and only the probed lists are scanned — recall is
set by `nprobe` and measured in bench/identity_search.py); past `IVF_MAX` an `ivfpq`
index (compressed codes in memory, the short list re-ranked exactly from the full
vectors on disk: `identity_compressed.py`). With CUDA present
(`faiss.get_num_gpus()`), searches run on a GPU replica; the CPU index stays the
master for updates and persistence.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from indexes.identity_compressed import (
    CompressedIndex,
    build_compressed,
    is_compressed,
    ivf_list_ids,
    lists_for,
    normalize,
    read_compressed,
)

log = logging.getLogger(__name__)

DEFAULT_FLAT_MAX = 200_000
# Past a million references the full vectors of an ivf index pass 512 MB: compress.
IVF_MAX = 1_000_000
KINDS = ("flat", "ivf", "ivfpq")
# nprobe = nlist / 32: on 1M gallery-like vectors this reached recall@1 >= 0.99 against
# exact search (bench/identity_search.py; figures in the README).
NPROBE_DIVISOR = 32


class IdentityIndex(Protocol):
    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id; returns how many were removed."""
        ...

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (similarities, ids), each n×k; missing neighbours have id -1."""
        ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


def kind_for(count: int, flat_max: int = DEFAULT_FLAT_MAX) -> str:
    if count <= flat_max:
        return "flat"
    return "ivf" if count <= max(flat_max, IVF_MAX) else "ivfpq"


def build_index(
    dim: int,
    ids: np.ndarray,
    vectors: np.ndarray,
    kind: str,
    vectors_path: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> faiss.Index | CompressedIndex:
    """A new index of `kind` holding `vectors` under `ids` (trained on them for `ivf` and
    `ivfpq`; an `ivfpq` index writes the full vectors to `vectors_path`, a million at a
    time, calling `progress(done, total)` after each)."""
    if kind == "ivfpq":
        if vectors_path is None:
            raise ValueError("an ivfpq index keeps its full vectors in a file: give vectors_path")
        return build_compressed(np.asarray(ids, np.int64), vectors, vectors_path, progress)
    vectors = normalize(vectors) if len(vectors) else np.zeros((0, dim), np.float32)
    if kind == "flat":
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
    elif kind == "ivf":
        nlist = lists_for(len(vectors), "ivf")
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: 40 * nlist]]
        index.train(sample)
        index.nprobe = max(8, nlist // NPROBE_DIVISOR)
        index.set_direct_map_type(faiss.DirectMap.Hashtable)  # remove_ids by arbitrary id
    else:
        raise ValueError(f"unknown index kind {kind!r}; use one of {', '.join(KINDS)}")
    if len(vectors):
        index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))
    return index


def index_kind(index: faiss.Index | CompressedIndex) -> str:
    if isinstance(index, CompressedIndex):
        return "ivfpq"
    return "ivf" if isinstance(faiss.downcast_index(index), faiss.IndexIVF) else "flat"


class FaissIdentityIndex:
    """Thread-safe: searches run beside enrolments; swaps and saves are atomic."""

    def __init__(
        self, index: faiss.Index | CompressedIndex, flat_max: int = DEFAULT_FLAT_MAX
    ) -> None:
        self.dim = index.d
        self.flat_max = flat_max
        self._lock = threading.RLock()
        self._swap(index)

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def create(cls, dim: int, kind: str = "flat", flat_max: int = DEFAULT_FLAT_MAX):
        if kind != "flat":
            raise ValueError(f"an {kind} index is built from vectors: use FaissIdentityIndex.build")
        return cls(build_index(dim, np.zeros(0, np.int64), np.zeros((0, dim)), kind), flat_max)

    @classmethod
    def build(
        cls,
        dim: int,
        ids: np.ndarray,
        vectors: np.ndarray,
        kind: str | None = None,
        flat_max: int = DEFAULT_FLAT_MAX,
        vectors_path: Path | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> FaissIdentityIndex:
        kind = kind or kind_for(len(ids), flat_max)
        return cls(build_index(dim, ids, vectors, kind, vectors_path, progress), flat_max)

    @classmethod
    def load(cls, path: Path, flat_max: int = DEFAULT_FLAT_MAX) -> FaissIdentityIndex:
        try:
            index = faiss.read_index(str(path))
            return cls(read_compressed(index, path) if is_compressed(index) else index, flat_max)
        except RuntimeError as e:
            raise RuntimeError(f"identity index {path} is unreadable or corrupt: {e}") from None

    @classmethod
    def open(cls, path: Path, dim: int, flat_max: int = DEFAULT_FLAT_MAX) -> FaissIdentityIndex:
        index = cls.load(path, flat_max) if path.exists() else cls.create(dim, flat_max=flat_max)
        if index.dim != dim:
            raise RuntimeError(
                f"identity index {path} holds {index.dim}-d vectors but the face embedder "
                f"makes {dim}-d ones; rebuild it with `reelguard identities reindex`"
            )
        return index

    # ---- the API -----------------------------------------------------------------------

    @property
    def kind(self) -> str:
        return index_kind(self._cpu)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            self._cpu.add_with_ids(normalize(vectors), np.asarray(ids, dtype=np.int64))
            if self.kind == "flat" and self._cpu.ntotal > self.flat_max:
                log.info("identity index passed %d vectors: rebuilding as ivf", self.flat_max)
                self._swap(build_index(self.dim, *self._all_vectors(), "ivf"))
            else:
                self._refresh_replica()

    def remove(self, ids: np.ndarray) -> int:
        with self._lock:
            removed = int(self._cpu.remove_ids(np.asarray(ids, dtype=np.int64)))
            self._refresh_replica()
            return removed

    def search(self, vectors: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        queries = normalize(vectors)
        # FAISS indexes are not safe to read while another thread writes them; searches
        # take milliseconds, and rebuilds happen outside the lock (see `replace`).
        with self._lock:
            return self._searcher.search(queries, k)

    def replace(self, other: FaissIdentityIndex) -> None:
        """Swap in another index (a rebuild or a reload) without stopping searches."""
        with self._lock:
            if other.dim != self.dim:
                raise RuntimeError(f"cannot swap a {other.dim}-d index into a {self.dim}-d one")
            self._swap(other._cpu)

    def save(self, path: Path) -> None:
        """Write to a temporary file, then rename: a crash never leaves a half-written index."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        with self._lock:
            if isinstance(self._cpu, CompressedIndex):
                self._cpu.write(tmp)
            else:
                faiss.write_index(self._cpu, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        return self._cpu.ntotal

    def ids(self) -> np.ndarray:
        """Every vector id held, ascending (what a start compares with the store's)."""
        with self._lock:
            if isinstance(self._cpu, CompressedIndex):
                found = self._cpu.ids()
            elif isinstance(index := faiss.downcast_index(self._cpu), faiss.IndexIDMap2):
                found = faiss.vector_to_array(index.id_map)
            else:
                found = ivf_list_ids(index)
        return np.sort(found.astype(np.int64))

    # ---- internals ---------------------------------------------------------------------

    def _all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        index = faiss.downcast_index(self._cpu)
        if isinstance(index, faiss.IndexIDMap2):
            ids = faiss.vector_to_array(index.id_map).astype(np.int64)
            return ids, index.index.reconstruct_n(0, index.ntotal)
        raise RuntimeError("only a flat index can be regrown in place; rebuild from the store")

    def _swap(self, cpu_index: faiss.Index | CompressedIndex) -> None:
        self._cpu = cpu_index
        self._refresh_replica()

    def _refresh_replica(self) -> None:
        # Untested here (no GPU in CI); the CPU path is the tested one.
        # The compressed index re-ranks from disk on the CPU; its codes stay there too.
        on_gpu = not isinstance(self._cpu, CompressedIndex) and faiss.get_num_gpus() > 0
        if on_gpu and hasattr(faiss, "index_cpu_to_all_gpus"):
            self._searcher = faiss.index_cpu_to_all_gpus(self._cpu)
        else:
            self._searcher = self._cpu

"""The identity index: reference-face embeddings of enrolled people, searched with FAISS.

Vectors are L2-normalised, so inner product is cosine similarity. Each reference
image has a stable int64 id (IndexIDMap2) that the store maps to its identity.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np


class IdentityIndex(Protocol):
    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def search(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return (similarities, ids), each n×k; missing neighbours have id -1."""
        ...

    def save(self, path: Path) -> None: ...

    def __len__(self) -> int: ...


def normalize(vectors: np.ndarray) -> np.ndarray:
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


def make_index(dim: int, kind: str = "flat") -> faiss.Index:
    """`flat`: exact search, the default while a gallery is small (≤ ~1e5 vectors).
    `hnsw`: approximate graph search for larger galleries (recall measured in bench/)."""
    if kind == "flat":
        base = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        base.hnsw.efConstruction = 80
        base.hnsw.efSearch = 64
    else:
        raise ValueError(f"unknown index kind {kind!r}; use 'flat' or 'hnsw'")
    return faiss.IndexIDMap2(base)


class FaissIdentityIndex:
    """Thread-safe wrapper: searches run concurrently with enrolments, saves are atomic."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        self.dim = index.d
        self._lock = threading.Lock()

    @classmethod
    def create(cls, dim: int, kind: str = "flat") -> FaissIdentityIndex:
        return cls(make_index(dim, kind))

    @classmethod
    def load(cls, path: Path) -> FaissIdentityIndex:
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as e:
            raise RuntimeError(f"identity index {path} is unreadable or corrupt: {e}") from None

    @classmethod
    def open(cls, path: Path, dim: int) -> FaissIdentityIndex:
        index = cls.load(path) if path.exists() else cls.create(dim)
        if index.dim != dim:
            raise RuntimeError(
                f"identity index {path} holds {index.dim}-d vectors but the face embedder "
                f"makes {dim}-d ones; re-enrol or point index_path elsewhere"
            )
        return index

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        with self._lock:
            self._index.add_with_ids(normalize(vectors), np.asarray(ids, dtype=np.int64))

    def search(self, vectors: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
        with self._lock:
            return self._index.search(normalize(vectors), k)

    def save(self, path: Path) -> None:
        """Write to a temporary file, then rename: a crash never leaves a half-written index."""
        tmp = path.with_suffix(path.suffix + ".tmp")
        with self._lock:
            faiss.write_index(self._index, str(tmp))
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def __len__(self) -> int:
        return self._index.ntotal

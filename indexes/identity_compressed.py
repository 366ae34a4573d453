"""The identity gallery past a million references: compressed codes in memory, full
vectors on disk.

At 10 M references, 128 floats each, the full vectors are 5.1 GB: more than a front door
should hold. Here the memory holds an IVF index of 4-bit product-quantization codes
(FAISS's fast-scan layout, 16 bytes a reference plus its 8-byte id), which finds a short
list of candidates; the candidates are then re-ranked exactly against their full vectors,
read from a file beside the index. So the similarities returned are exact (the match
threshold compares real cosines, not approximations) and only the candidates' rows are
read: a few KB a query, from the page cache, which the kernel owns and may drop, not the
process. Recall against exact search is set by `nprobe` (measured at 10 M in
bench/identity_search.py; figures in the README).

The vectors file is addressed by vector id (row = id): no id map is held in memory, and a
row, once written, never changes meaning (a vector id names one embedding for good), so an
index being rebuilt can write rows while the live one reads them. Removing a reference
takes it out of the codes; its row stays until the file is rebuilt, unread.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

VECTORS_SUFFIX = ".vectors"
# The short list re-ranked per query: candidates the codes put first. On 10 M gallery-like
# vectors the exact neighbour was within the first 32 whenever its list was probed.
SHORT_LIST = 32
# nprobe = nlist / 16 reached recall@1 >= 0.99 against exact search at 2 M and 10 M.
NPROBE_DIVISOR = 16


def lists_for(n: int, kind: str) -> int:
    """IVF lists for `n` vectors: ~4·sqrt(n), trained on 40 points a list (k-means stays
    fast); fewer vectors than lists cannot train."""
    nlist = max(16, min(65536, int(4 * math.sqrt(max(n, 1)))))
    if n < nlist:
        raise ValueError(f"an {kind} index needs at least {nlist} vectors to train")
    return nlist


def vectors_path_for(index_path: Path) -> Path:
    return index_path.with_name(index_path.name + VECTORS_SUFFIX)


class DiskVectors:
    """Full float32 vectors, one row per vector id, read and written with pread/pwrite."""

    def __init__(self, path: Path, dim: int) -> None:
        self.path, self.dim = Path(path), dim
        self._row = dim * 4
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def write(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Write rows; runs of consecutive ids (a rebuild's) go in one call each."""
        order = np.argsort(ids, kind="stable")
        ids = np.asarray(ids, np.int64)[order]
        rows = np.ascontiguousarray(vectors, dtype="<f4")[order]
        if len(ids) and ids[0] < 0:
            raise ValueError("vector ids are non-negative")
        breaks = np.flatnonzero(np.diff(ids) != 1) + 1
        for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(ids)], strict=True):
            os.pwrite(self._fd, rows[start:stop].tobytes(), int(ids[start]) * self._row)

    def read(self, ids: np.ndarray) -> np.ndarray:
        out = np.empty((len(ids), self.dim), np.float32)
        for i, vector_id in enumerate(ids.tolist()):
            data = os.pread(self._fd, self._row, vector_id * self._row)
            if len(data) != self._row:
                raise RuntimeError(f"{self.path} holds no vector {vector_id}: rebuild the index")
            out[i] = np.frombuffer(data, "<f4")
        return out

    def sync(self) -> None:
        os.fsync(self._fd)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)


class CompressedIndex:
    """IVF + 4-bit PQ codes, re-ranked from `DiskVectors`. Answers the part of the
    faiss.Index API the identity index uses (d, ntotal, add_with_ids, remove_ids, search)."""

    def __init__(self, codes: faiss.Index, vectors: DiskVectors) -> None:
        if codes.d != vectors.dim:
            raise RuntimeError(f"{vectors.path} holds {vectors.dim}-d rows, the index {codes.d}-d")
        self.codes, self.vectors = codes, vectors
        self.d = codes.d

    @classmethod
    def train(cls, sample: np.ndarray, path: Path, n: int | None = None) -> CompressedIndex:
        """An empty index for `n` vectors (default: as many as the sample), trained on the
        sample, its rows kept at `path`."""
        dim = sample.shape[1]
        nlist = lists_for(n or len(sample), "ivfpq")
        if len(sample) < nlist:
            raise ValueError(f"training {nlist} lists needs at least {nlist} sample vectors")
        codes = faiss.index_factory(dim, f"IVF{nlist},PQ{dim // 4}x4fs", faiss.METRIC_INNER_PRODUCT)
        codes.train(sample[np.random.default_rng(0).permutation(len(sample))[: 40 * nlist]])
        codes.nprobe = max(8, nlist // NPROBE_DIVISOR)
        return cls(codes, DiskVectors(path, dim))

    @property
    def ntotal(self) -> int:
        return self.codes.ntotal

    @property
    def nprobe(self) -> int:
        return self.codes.nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self.codes.nprobe = value

    def add_with_ids(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        self.vectors.write(ids, vectors)  # the rows first: a code never points at nothing
        self.codes.add_with_ids(vectors, ids)

    def remove_ids(self, ids: np.ndarray) -> int:
        return self.codes.remove_ids(ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        _, candidates = self.codes.search(queries, max(k, SHORT_LIST))
        sims = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        for i, row in enumerate(candidates):
            row = row[row >= 0]
            exact = self.vectors.read(row) @ queries[i]
            best = np.argsort(-exact, kind="stable")[:k]
            sims[i, : len(best)], ids[i, : len(best)] = exact[best], row[best]
        return sims, ids

    def ids(self) -> np.ndarray:
        return ivf_list_ids(self.codes)

    def write(self, path: Path) -> None:
        """The codes to `path`; the rows are already on disk (synced here)."""
        self.vectors.sync()
        faiss.write_index(self.codes, str(path))


def build_compressed(
    ids: np.ndarray,
    vectors: np.ndarray,
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 1_000_000,
) -> CompressedIndex:
    """Trained on a sample, filled a chunk at a time: no normalized copy of all the vectors
    (5 GB at 10 M) is ever made."""
    sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: 40 * 65536]]
    index = CompressedIndex.train(normalize(sample), path, len(vectors))
    for start in range(0, len(vectors), chunk):
        index.add_with_ids(normalize(vectors[start : start + chunk]), ids[start : start + chunk])
        if progress is not None:
            progress(min(start + chunk, len(vectors)), len(vectors))
    return index


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit rows (so inner product is cosine), float32, at least 2-d."""
    v = np.ascontiguousarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


def read_compressed(codes: faiss.Index, index_path: Path) -> CompressedIndex:
    """The codes read from `index_path`, with the vectors file beside it."""
    path = vectors_path_for(index_path)
    if not path.exists():
        raise RuntimeError(f"{path} (the full vectors the index re-ranks with) is missing")
    index = CompressedIndex(codes, DiskVectors(path, codes.d))
    ids = index.ids()
    # A short file would fail searches one by one; refuse it whole, here.
    if len(ids) and path.stat().st_size < (int(ids.max()) + 1) * codes.d * 4:
        raise RuntimeError(f"{path} is shorter than the vectors the index holds")
    return index


def ivf_list_ids(index: faiss.Index) -> np.ndarray:
    """Every id in an IVF index's lists (unordered)."""
    lists = faiss.extract_index_ivf(index).invlists
    return np.concatenate(
        [np.zeros(0, np.int64)]
        + [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(lists.nlist)
            if lists.list_size(i)
        ]
    )


def is_compressed(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index), faiss.IndexIVFPQFastScan)

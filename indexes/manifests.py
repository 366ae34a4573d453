"""The manifest repository: durable Content Credentials via soft binding.

Every manifest we sign is kept here under a perceptual fingerprint of the content —
PDQ for an image, PDQ of sampled frames (vPDQ-style) for a video — and the same
fingerprint is declared in the manifest's `c2pa.soft-binding` assertion. When a copy
arrives with its metadata stripped (re-encoded, screenshotted, resized), the
fingerprint finds the manifest again.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from indexes.hamming import HammingIndex, rows
from indexes.pdq import pdq_media, to_hex

SOFT_BINDING_LABEL = "c2pa.soft-binding"
# Soft-binding algorithm names, as declared in the assertion.
PDQ_ALG = "com.meta.pdq"
VPDQ_ALG = "com.meta.vpdq"
# Meta's suggested PDQ match threshold (of 256 bits).
MATCH_DISTANCE = 31


@dataclass(frozen=True)
class Fingerprint:
    alg: str  # PDQ_ALG or VPDQ_ALG
    hashes: list[str]  # PDQ hex, one per image / sampled frame
    times_s: list[float]

    def assertion(self) -> dict:
        """The `c2pa.soft-binding` assertion body declaring this fingerprint."""
        blocks = []
        for digest, time_s in zip(self.hashes, self.times_s, strict=True):
            ms = round(time_s * 1000)  # timespans are whole milliseconds from media start
            scope = {"timespan": {"start": ms, "end": ms}} if self.alg == VPDQ_ALG else {}
            value = base64.b64encode(bytes.fromhex(digest)).decode()
            blocks.append({"scope": scope, "value": value})
        return {"alg": self.alg, "blocks": blocks, "pad": [0]}


def fingerprint_image(pixels: np.ndarray) -> Fingerprint:
    bits, _ = pdq_media(pixels)
    return Fingerprint(PDQ_ALG, [to_hex(bits)], [0.0])


def fingerprint_frames(frames: list[tuple[float, np.ndarray]]) -> Fingerprint:
    hashes = [to_hex(pdq_media(pixels)[0]) for _, pixels in frames]
    return Fingerprint(VPDQ_ALG, hashes, [t for t, _ in frames])


@dataclass(frozen=True)
class ManifestRecord:
    manifest_id: str  # the decision id the manifest was signed for
    alg: str
    hashes: list[str]
    manifest: bytes  # the signed manifest store (application/c2pa)
    mime_type: str


@dataclass(frozen=True)
class Recovery:
    record: ManifestRecord
    distance: float  # PDQ bits; for video the mean over matched frames
    matched_frames: float = 1.0  # the share of query frames that matched (video)


@dataclass(frozen=True)
class StoredFingerprint:
    seq: int  # the storage's insertion order: a repository syncs everything after its last
    manifest_id: str
    alg: str
    hashes: list[str]


class ManifestStorage(Protocol):
    """Where signed manifests are kept by fingerprint (the service's store implements it)."""

    def add_manifest_record(self, record: ManifestRecord) -> None:
        """Keep a signed manifest and its fingerprint; durable when this returns."""
        ...

    def manifest_fingerprints(self, after_seq: int) -> list[StoredFingerprint]:
        """The fingerprints stored after `after_seq`, oldest first (no manifest bytes)."""
        ...

    def manifest_record(self, manifest_id: str) -> ManifestRecord | None:
        """One record by its manifest id, or None."""
        ...

    def manifest_record_by_prefix(self, prefix: str) -> ManifestRecord | None:
        """The one record whose manifest id starts with `prefix` (a watermark's payload)."""
        ...


class _AlgIndex:
    """The frame hashes of one soft-binding algorithm, and the manifest each row came from."""

    def __init__(self) -> None:
        self.index = HammingIndex()
        self.owners: list[str] = []


class ManifestRepository:
    """Signed manifests in storage; their frame hashes in memory, in FAISS binary indexes.

    Storage is the truth and may be written by other processes (or other repositories
    on the same store): each lookup first pulls in what was stored since the last."""

    def __init__(self, storage: ManifestStorage, max_distance: int = MATCH_DISTANCE) -> None:
        self.storage = storage
        self.max_distance = max_distance
        self._lock = threading.Lock()
        self._indexes: dict[str, _AlgIndex] = {}
        self._synced_seq = 0
        with self._lock:
            self._sync()

    def remember(self, record: ManifestRecord) -> None:
        self.storage.add_manifest_record(record)

    def by_watermark(self, manifest_prefix: str) -> ManifestRecord | None:
        return self.storage.manifest_record_by_prefix(manifest_prefix)

    def lookup(self, query: Fingerprint, only: str | None = None) -> Recovery | None:
        """The stored manifest whose fingerprint is nearest, if within the threshold: the
        most query frames within `max_distance` of one of its frames (at least half; one
        frame for images), ties to the smaller mean distance. With `only`, whether that
        manifest matches (a watermark's claim, confirmed by the content)."""
        queries = rows(query.hashes)
        with self._lock:
            self._sync()
            alg = self._indexes.get(query.alg)
            if alg is None:
                return None
            hits = alg.index.within(queries, self.max_distance)
            # manifest id -> {query frame: distance to that manifest's nearest frame}
            per_manifest: dict[str, dict[int, float]] = {}
            for frame, (found, distances) in enumerate(hits):
                for row, distance in zip(found, distances, strict=True):
                    frames = per_manifest.setdefault(alg.owners[row], {})
                    frames[frame] = min(frames.get(frame, distance), distance)
        ranked = sorted(
            (len(frames) / len(queries), -float(np.mean(list(frames.values()))), manifest_id)
            for manifest_id, frames in per_manifest.items()
            if only is None or manifest_id == only
        )
        if not ranked or ranked[-1][0] < 0.5:
            return None
        share, negative_distance, manifest_id = ranked[-1]
        record = self.storage.manifest_record(manifest_id)
        return Recovery(record, -negative_distance, share) if record else None

    def _sync(self) -> None:
        fresh = self.storage.manifest_fingerprints(self._synced_seq)
        for name in {stored.alg for stored in fresh}:  # one add per index
            mine = [stored for stored in fresh if stored.alg == name]
            hashes = [h for stored in mine for h in stored.hashes]
            new_rows = rows(hashes)  # parsed before anything changes
            alg = self._indexes.setdefault(name, _AlgIndex())
            alg.index.add(new_rows)
            alg.owners.extend(stored.manifest_id for stored in mine for _ in stored.hashes)
        if fresh:
            self._synced_seq = fresh[-1].seq


def fingerprint_copy(frames: list[tuple[float, np.ndarray]], mime_type: str) -> Fingerprint:
    if mime_type.startswith("video/"):
        return fingerprint_frames(frames)
    return fingerprint_image(frames[0][1])

"""Enrolment and removal of public figures; the identity index kept in step with the store.

Every reference image must show exactly one usable face: big enough and sharp
enough to embed reliably. A request is validated whole before anything is written,
so a rejected enrolment changes nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexes.identity import DEFAULT_FLAT_MAX, FaissIdentityIndex
from indexes.identity_compressed import vectors_path_for
from media.decode import DecodedImage
from safety.errors import FailedPrecondition, InvalidInput, NotFound
from safety.likeness.checker import FaceEmbedder
from safety.likeness.face_images import face_crop_jpeg, face_sharpness
from safety.likeness.tracking import Face
from safety.store.interface import IdentityStore
from safety.store.records import IdentityRecord

log = logging.getLogger(__name__)

# Variance of the Laplacian of the face crop at 128×128. Measured on the test photos
# (astronaut, Grace Hopper, cameraman): sharp 196-1337; Gaussian blur radius 2: 9-66;
# radius 3: 7-22.
MIN_SHARPNESS = 25.0
# A reference this close to someone enrolled is likely the same person (the default
# policy's public_figure threshold, safety/policy/rules.py): enrolled, with a warning.
SAME_PERSON = 0.92


@dataclass(frozen=True)
class Enrolled:
    record: IdentityRecord
    warnings: list[str]  # references that resemble someone already enrolled


class Enroller:
    def __init__(
        self,
        embedder: FaceEmbedder,
        index: FaissIdentityIndex,
        store: IdentityStore,
        index_path: Path,
        min_face_size: int = 40,
        min_sharpness: float = MIN_SHARPNESS,
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.store = store
        self.index_path = index_path
        self.min_face_size = min_face_size
        self.min_sharpness = min_sharpness
        self._write = threading.Lock()  # one enrolment/removal/rebuild at a time

    def enroll(
        self, name: str, aliases: list[str], images: list[DecodedImage], external_id: str = ""
    ) -> IdentityRecord:
        return self.enroll_checked(name, aliases, images, external_id).record

    def enroll_checked(
        self, name: str, aliases: list[str], images: list[DecodedImage], external_id: str = ""
    ) -> Enrolled:
        """Enrol, and say which references look like someone already enrolled (another
        photo of the same person, a mirrored copy): a second identity for one person
        splits their consent grants and their matches."""
        name = name.strip()
        if not name:
            raise InvalidInput("an identity needs a name")
        if not images:
            raise InvalidInput("enrol at least one reference image")
        seen: dict[str, str] = {}
        for img in images:
            if img.sha256 in seen:
                raise InvalidInput(f"{img.label} is the same file as {seen[img.sha256]}")
            seen[img.sha256] = img.label
            owner = self.store.reference_owner(img.sha256)
            if owner is not None:
                raise InvalidInput(f"{img.label} is already a reference of identity {owner}")
        faces = [self._reference_face(img) for img in images]
        vectors = [f.embedding for f in faces]
        with self._write:
            warnings = self._resembling(images, vectors)
            record, vector_ids = self.store.add_identity(
                name,
                [a.strip() for a in aliases if a.strip()],
                external_id.strip(),
                [(img.sha256, v) for img, v in zip(images, vectors, strict=True)],
            )
            self.index.add(np.asarray(vector_ids, dtype=np.int64), np.stack(vectors))
            self.index.save(self.index_path)
        # Reviewers compare a detected face with the enrolled one: keep a crop of each.
        for vector_id, img, face in zip(vector_ids, images, faces, strict=True):
            self.store.set_reference_face(vector_id, face_crop_jpeg(img.pixels, face.box))
        for warning in warnings:
            log.warning("enrolling %s (%s): %s", record.id, name, warning)
        return Enrolled(record, warnings)

    def _resembling(self, images: list[DecodedImage], vectors: list[np.ndarray]) -> list[str]:
        if len(self.index) == 0:
            return []
        sims, ids = self.index.search(np.stack(vectors), k=1)
        warnings = []
        for img, sim, vector_id in zip(images, sims[:, 0], ids[:, 0], strict=True):
            who = self.store.identity_for_vector(int(vector_id)) if vector_id >= 0 else None
            if who is not None and sim >= SAME_PERSON:
                warnings.append(
                    f"{img.label} resembles enrolled {who[1]!r} ({who[0]}, cosine {sim:.3f}): "
                    "the same person enrolled twice?"
                )
        return warnings

    def remove(self, identity_id: str) -> IdentityRecord:
        with self._write:
            record = self.store.identity(identity_id)
            if record is None:
                raise NotFound(f"no enrolled identity {identity_id!r}")
            vector_ids = self.store.remove_identity(identity_id)
            self.index.remove(np.asarray(vector_ids, dtype=np.int64))
            self.index.save(self.index_path)
        return record

    def rebuild(self) -> int:
        """Rebuild the index from the store's embeddings and swap it in; searches go on."""
        with self._write:
            fresh = build_from_store(
                self.store, self.index_path, self.index.dim, self.index.flat_max
            )
            self.index.replace(fresh)
        log.info("identity index rebuilt from the store: %d vectors (%s)", len(fresh), fresh.kind)
        return len(fresh)

    def reload(self) -> int:
        """Swap in the index file on disk (e.g. one built offline); searches go on."""
        with self._write:
            try:
                fresh = FaissIdentityIndex.load(self.index_path, self.index.flat_max)
            except RuntimeError as e:
                raise FailedPrecondition(
                    f"{e}; the index in use is unchanged (run `reelguard identities reindex` "
                    "to rebuild the file from the store)"
                ) from None
            if fresh.dim != self.index.dim:
                raise FailedPrecondition(
                    f"{self.index_path} holds {fresh.dim}-d vectors, the face embedder makes "
                    f"{self.index.dim}-d; the index in use is unchanged"
                )
            self.index.replace(fresh)
        return len(fresh)

    def _reference_face(self, image: DecodedImage) -> Face:
        faces = self.embedder.faces(image.pixels)
        if not faces:
            raise InvalidInput(f"{image.label}: no face found; use a clear, frontal photo")
        if len(faces) > 1:
            raise InvalidInput(
                f"{image.label}: {len(faces)} faces found; crop it to the one person to enrol"
            )
        face = faces[0]
        x, y, w, h = face.box
        if min(w, h) < self.min_face_size:
            raise InvalidInput(
                f"{image.label}: the face is {w}×{h} px, under the {self.min_face_size} px "
                "minimum; use a larger photo"
            )
        sharpness = face_sharpness(image.pixels, face.box)
        if sharpness < self.min_sharpness:
            raise InvalidInput(
                f"{image.label}: the face is too blurry (sharpness {sharpness:.0f}, minimum "
                f"{self.min_sharpness:.0f}); use a sharper photo"
            )
        return face


def open_index(path: Path, store: IdentityStore, dim: int, flat_max: int = DEFAULT_FLAT_MAX):
    """The persisted index, rebuilt from the store when missing, corrupt or holding
    other vector ids than the store (only then are the embeddings read)."""
    ids = store.reference_vector_ids()
    try:
        index = FaissIdentityIndex.open(path, dim, flat_max)
        # The same ids, not only as many: another front door on the same database may
        # have removed one identity and enrolled another while this one was down.
        if np.array_equal(index.ids(), ids):
            return index
        log.warning(
            "identity index %s holds other vectors (%d) than the store (%d): rebuilding",
            path,
            len(index),
            len(ids),
        )
    except RuntimeError as e:
        log.warning("%s: rebuilding from the store", e)
    return build_from_store(store, path, dim, flat_max)


def build_from_store(
    store: IdentityStore,
    path: Path,
    dim: int,
    flat_max: int = DEFAULT_FLAT_MAX,
    kind: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FaissIdentityIndex:
    """Every reference embedding in the store, indexed (as `kind`, or by their count) and
    saved at `path`: a start's or a reindex's rebuild, or `identities build-index` offline."""
    ids, vectors = store.reference_vectors()
    index = FaissIdentityIndex.build(
        dim,
        ids,
        vectors if len(ids) else np.zeros((0, dim)),
        kind,
        flat_max,
        vectors_path_for(path),
        progress,
    )
    index.save(path)
    return index


def enrolled_names(store: IdentityStore) -> Iterator[tuple[str, str, str]]:
    """(identity id, name, alias) of everyone enrolled, their name among the aliases: what
    the prompt check matches, read anew on every prompt."""
    for identity in store.identities():
        for alias in [identity.name, *identity.aliases]:
            yield identity.id, identity.name, alias

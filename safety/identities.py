"""Enrolment of public figures: every reference image must show exactly one usable face."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexes.identity import IdentityIndex
from safety.errors import InvalidInput
from safety.likeness import FaceEmbedder
from safety.media import DecodedImage
from safety.store import IdentityRecord, Store


class Enroller:
    def __init__(
        self,
        embedder: FaceEmbedder,
        index: IdentityIndex,
        store: Store,
        index_path: Path,
        min_face_size: int = 40,
    ) -> None:
        self.embedder = embedder
        self.index = index
        self.store = store
        self.index_path = index_path
        self.min_face_size = min_face_size

    def enroll(self, name: str, aliases: list[str], images: list[DecodedImage]) -> IdentityRecord:
        name = name.strip()
        if not name:
            raise InvalidInput("an identity needs a name")
        if not images:
            raise InvalidInput("enrol at least one reference image")
        vectors = [self._reference_vector(img) for img in images]
        record, vector_ids = self.store.add_identity(
            name, [a.strip() for a in aliases if a.strip()], [img.sha256 for img in images]
        )
        self.index.add(np.asarray(vector_ids, dtype=np.int64), np.stack(vectors))
        self.index.save(self.index_path)
        return record

    def _reference_vector(self, image: DecodedImage) -> np.ndarray:
        faces = self.embedder.faces(image.pixels)
        if not faces:
            raise InvalidInput(f"{image.label}: no face found; use a clear, frontal photo")
        if len(faces) > 1:
            raise InvalidInput(
                f"{image.label}: {len(faces)} faces found; crop it to the one person to enrol"
            )
        x, y, w, h = faces[0].box
        if min(w, h) < self.min_face_size:
            raise InvalidInput(
                f"{image.label}: the face is {w}×{h} px, under the {self.min_face_size} px "
                "minimum; use a larger photo"
            )
        return faces[0].embedding

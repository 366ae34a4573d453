"""A small face is still evidence: an enrolled person shrunk to 20 px in a 512² picture
(cosine 0.95 to her enrolled face), or to 36 px in a 720p frame, which the detector
reads at half size (0.98), matches above the policy's 0.92. A detector minimum of 40 px
at display size, which would make the checks cheaper, finds neither: it would let
anyone depict an enrolled person at a size a player happily enlarges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from indexes.identity import FaissIdentityIndex
from media.decode import Frame
from safety.likeness.checker import LikenessChecker
from safety.policy.rules import Policy
from tests.safety.domain import Models


@pytest.fixture(scope="module")
def collins(astronaut):
    embedder = Models.get()[0]
    (box, _), *_ = embedder.detect(astronaut)
    vector = embedder.embed(astronaut, box)
    index = FaissIdentityIndex.build(
        embedder.dim, np.array([7], np.int64), (vector / np.linalg.norm(vector))[None]
    )
    return LikenessChecker(embedder, index, {7: ("id-collins", "Eileen Collins")}.get)


FACE_WIDTH = 89  # px: the astronaut's face box in skimage's picture, as MTCNN finds it


def shrunk_into(astronaut, face_px: int, canvas_shape) -> np.ndarray:
    scale = face_px / FACE_WIDTH
    small = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.full(canvas_shape, 128, np.uint8)
    h, w = min(small.shape[0], canvas_shape[0]), min(small.shape[1], canvas_shape[1])
    canvas[100 : 100 + h, 200 : 200 + w] = small[: canvas_shape[0] - 100, : canvas_shape[1] - 200]
    return canvas


@pytest.mark.parametrize(
    ("face_px", "canvas"), [(20, (512, 512, 3)), (36, (720, 1280, 3))], ids=["still", "720p"]
)
def test_an_enrolled_face_shrunk_small_is_still_matched(collins, astronaut, face_px, canvas):
    frame = Frame(0.0, shrunk_into(astronaut, face_px, canvas))
    findings = [f for f in collins.score("output_frame", [frame]) if f.category == "public_figure"]
    assert findings and findings[0].identity_name == "Eileen Collins"
    assert findings[0].score >= Policy().rules["public_figure"].threshold

"""The eyes of the performance transfer: the iris model's lids replace the mesh's only
where they agree with it, a closing eye is covered by its lid's skin, and an iris moves
whole across its eye."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from generator.face_mesh import EYES, LOWER_LIDS, UPPER_LIDS, eye_openings, refine_lids
from generator.irises import Irises
from generator.performance import MeshWarp, PerformanceTransfer, anchors, lids_over, warp_points
from tests.landmarks68 import Landmarks, eye_aperture, gaze


@pytest.fixture(scope="module")
def character(astronaut):
    canvas, face = PerformanceTransfer().character(astronaut, 256, 256)
    return canvas, face


def contour(points: np.ndarray, k: int, lift: float = 0.0, mirrored: bool = False):
    """The iris model's 16-point contour for eye k as the mesh has it (corner, one lid,
    the other corner, the other lid), its upper lid raised by `lift` pixels; from a
    mirrored crop it starts at the inner corner."""
    outer, inner = EYES[k]
    lower, upper = points[LOWER_LIDS[k], :2], points[UPPER_LIDS[k], :2] - [0, lift]
    if mirrored:
        return np.concatenate([points[[inner], :2], lower[::-1], points[[outer], :2], upper[::-1]])
    return np.concatenate([points[[outer], :2], lower, points[[inner], :2], upper])


def test_the_iris_models_lids_are_taken_only_where_they_agree_with_the_mesh(character):
    _, face = character
    points = face.points.copy()
    width = float(np.linalg.norm(points[EYES[0][1], :2] - points[EYES[0][0], :2]))
    # Read from a mirrored crop: the same contour back to front still lands lid on lid.
    refine_lids(points, 0, contour(face.points, 0, lift=0.1 * width, mirrored=True))
    assert np.allclose(points[UPPER_LIDS[0], 1], face.points[UPPER_LIDS[0], 1] - 0.1 * width)
    assert np.allclose(points[LOWER_LIDS[0], :2], face.points[LOWER_LIDS[0], :2])
    # A contour half an eye away from the mesh's lids is a misread: nothing changes.
    wild = face.points.copy()
    refine_lids(wild, 1, contour(face.points, 1, lift=0.5 * width))
    assert np.array_equal(wild, face.points)


def test_a_shut_eye_is_covered_and_an_open_one_left_alone(character):
    canvas, face = character
    assert lids_over(canvas, face, face) is canvas  # eyes as open as the character's own
    target = shut_eyes(face)
    assert (eye_openings(target.points) < 0.3 * eye_openings(face.points)).all()
    covered = lids_over(canvas, target, face)
    for k, (outer, inner) in enumerate(EYES):
        x0, x1 = sorted(int(face.points[i, 0]) for i in (outer, inner))
        y = int(face.points[UPPER_LIDS[k], 1].mean() + face.points[LOWER_LIDS[k], 1].mean()) // 2
        before = canvas[y - 1 : y + 2, x0 + 2 : x1 - 2].astype(float)
        after = covered[y - 1 : y + 2, x0 + 2 : x1 - 2].astype(float)
        assert np.abs(after - before).mean() > 10  # the eye's inside is painted over
        assert after.std(axis=(0, 1)).mean() < before.std(axis=(0, 1)).mean()  # evenly


def shut_eyes(face):
    """`face` with both eyes shut: each lid pair a pixel apart at its middle, each lower
    point under its upper one."""
    shut = face.points.copy()
    for upper, lower in zip(UPPER_LIDS, LOWER_LIDS, strict=True):
        middle = (shut[upper, 1].mean() + shut[lower, 1].mean()) / 2
        shut[upper, 1], shut[lower, 1] = middle - 0.5, middle + 0.5
        shut[lower, 0] = shut[upper, 0]
    return replace(face, points=shut)


def renderer(canvas, face):
    """The transfer's frame for a target face, as it renders one: the canvas warped
    without its irises, the irises drawn whole, the lids over them."""
    irises = Irises(canvas, face)
    height, width = canvas.shape[:2]
    fixed = anchors(warp_points(face), width, height)
    warp = MeshWarp(irises.bare, np.concatenate([warp_points(face), fixed]))

    def render(target):
        frame = warp(np.concatenate([warp_points(target), fixed]))
        return lids_over(irises.draw(frame, target), target, face)

    return render


def glancing(canvas, face, along: float):
    """The character rendered with both irises moved `along` eye widths to image-right."""
    moved = face.irises.copy()
    for k, (outer, inner) in enumerate(EYES):
        ends = sorted([face.points[outer, :2], face.points[inner, :2]], key=lambda p: p[0])
        moved[k] += (ends[1] - ends[0]) * along
    return renderer(canvas, face)(replace(face, irises=moved.astype(np.float32)))


def test_an_iris_moved_across_its_eye_is_seen_there(astronaut):
    """Read by dlib's 68 points and the darkest pixels of each eye, not by the mesh that
    placed it: a warp alone only sheared the iris between its lids."""
    canvas, face = PerformanceTransfer().character(astronaut, 512, 512)
    marks = Landmarks()

    def seen(rgb):
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return gaze(grey, marks.detect(grey))

    left, ahead, right = (seen(glancing(canvas, face, a)) for a in (-0.15, 0.0, 0.15))
    assert left < ahead < right
    assert right - left >= 0.15  # at least half of the 0.3 the irises were moved


def test_the_bare_canvas_keeps_no_copy_of_the_iris(astronaut):
    canvas, face = PerformanceTransfer().character(astronaut, 512, 512)
    bare = Irises(canvas, face).bare
    for k in range(2):
        x, y = np.round(face.irises[k]).astype(int)
        grey = cv2.cvtColor(bare, cv2.COLOR_RGB2GRAY).astype(float)
        before = cv2.cvtColor(canvas, cv2.COLOR_RGB2GRAY).astype(float)
        assert (
            grey[y - 2 : y + 3, x - 2 : x + 3].mean()
            > before[y - 2 : y + 3, x - 2 : x + 3].mean() + 15
        )


def test_a_shut_eye_reads_shut_to_another_landmark_model(astronaut):
    """Rendered as the transfer renders it (warp, irises, lids) and read by dlib's 68
    points, not the mesh: under half the open eye's aperture. With a pale, thin line
    where the lids meet, dlib read the squeezed eye at 0.56 of open."""
    canvas, face = PerformanceTransfer().character(astronaut, 512, 512)
    render, marks = renderer(canvas, face), Landmarks()

    def aperture(target) -> float:
        return eye_aperture(marks.detect(cv2.cvtColor(render(target), cv2.COLOR_RGB2GRAY)))

    assert aperture(shut_eyes(face)) < 0.5 * aperture(face)

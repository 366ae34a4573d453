"""The warp's triangulation: OpenCV's Subdiv2D must give SciPy's Delaunay triangles
(up to slivers no pixel lies in)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import Delaunay

from generator.face_mesh import LIPS, LOWER_LIDS, UPPER_LIDS, Face, FaceMesh
from generator.performance import MeshWarp, anchors, delaunay, pose_counted, warp_points


def triangles(simplices: np.ndarray) -> set[tuple[int, ...]]:
    return set(map(tuple, np.sort(simplices, axis=1).tolist()))


@pytest.fixture(scope="module")
def face(astronaut):
    return FaceMesh().detect(astronaut)


@pytest.mark.parametrize("n", [20, 300, 1500])
def test_random_points_triangulate_as_qhull_does(n):
    points = np.random.default_rng(n).uniform(0, 512, (n, 2)).astype(np.float32)
    assert triangles(delaunay(points)) == triangles(Delaunay(points).simplices)


def test_a_face_with_its_ring_and_border_triangulates_as_qhull_does(astronaut, face):
    moving = warp_points(face)
    height, width = astronaut.shape[:2]
    points = np.concatenate([moving, anchors(moving, width, height)])
    points += np.random.default_rng(0).uniform(-0.4, 0.4, points.shape)  # as MeshWarp does
    points = points.astype(np.float32)
    ours, qhull = triangles(delaunay(points)), triangles(Delaunay(points).simplices)
    assert ours <= qhull
    # Qhull may add slivers along the jittered image border (nearly collinear points):
    # no pixel lies in them, so the warp is the same.
    for missing in qhull - ours:
        (x1, y1), (x2, y2), (x3, y3) = corners = points[list(missing)].astype(np.float64)
        twice_area = abs((x2 - x1) * (y3 - y1) - (x3 - x1) * (y2 - y1))
        longest = max(np.linalg.norm(corners[i] - corners[i - 1]) for i in range(3))
        assert twice_area / longest < 0.1  # thinner than a tenth of a pixel
    assert len(ours) > 2 * len(moving)  # every moving point is inside the mesh


def test_lips_turned_over_take_back_no_head_pose_an_eye_turned_over_does(astronaut, face):
    """A head pose is taken back where it would fold the face (performance.unfolded),
    but not for the lips' triangles: the expression alone turns them over (closed lips
    put the inner lips' points on top of each other), and counted, they made the pose
    kept, and so the eyes, change with the mouth's shape frame by frame."""
    moving = warp_points(face)
    fixed = anchors(moving, *astronaut.shape[1::-1])
    warp = MeshWarp(astronaut, np.concatenate([moving, fixed]))
    counted = pose_counted(warp)

    def flipped(indices: np.ndarray) -> np.ndarray:  # upside down about their middle
        points = face.points.copy()
        points[indices, 1] = 2 * points[indices, 1].mean() - points[indices, 1]
        return np.concatenate([warp_points(Face(points, face.irises, 1.0)), fixed])

    lips = flipped(LIPS)
    assert warp.folded(lips) > 100 and warp.folded(lips, counted) == 0
    eye = flipped(np.concatenate([UPPER_LIDS[0], LOWER_LIDS[0]]))
    assert warp.folded(eye, counted) > 20

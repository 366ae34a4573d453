"""The warp's triangulation: OpenCV's Subdiv2D must give SciPy's Delaunay triangles
(up to slivers no pixel lies in)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import Delaunay

from generator.face_mesh import FaceMesh
from generator.performance import anchors, delaunay, warp_points


def triangles(simplices: np.ndarray) -> set[tuple[int, ...]]:
    return set(map(tuple, np.sort(simplices, axis=1).tolist()))


@pytest.mark.parametrize("n", [20, 300, 1500])
def test_random_points_triangulate_as_qhull_does(n):
    points = np.random.default_rng(n).uniform(0, 512, (n, 2)).astype(np.float32)
    assert triangles(delaunay(points)) == triangles(Delaunay(points).simplices)


def test_a_face_with_its_ring_and_border_triangulates_as_qhull_does(astronaut):
    face = FaceMesh().detect(astronaut)
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

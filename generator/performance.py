"""Performance transfer: an actor's driving video animates the character image's face.

No trained generator: dlib's 68 landmarks are tracked through the driving video, each
frame is read relative to the first (neutral) one as a head pose (a similarity fitted
on points expression does not move) plus the expression left once that pose is undone;
the expression, scaled to the character's face, moves the character's landmarks, the
pose turns, scales and shifts them; and the character image is warped piecewise-affine
over a Delaunay mesh of its landmarks, held still by a ring around the face and the
image border. A mouth that opens shows a dark mouth interior between the inner lips.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from scipy.spatial import Delaunay

from generator.base import DRIVING_VIDEO, IMAGE, PLAIN_ALGORITHM, GenerationInput, ProgressFn
from generator.landmarks import INNER_MOUTH, STABLE, Landmarks, interocular, mouth_opening
from media.mp4 import write_mp4

MAX_TRACK_SIDE = 512  # driving frames are tracked at most this large
MAX_SHIFT = 0.35  # head translation, at most this much of the face's width
MAX_TURN, MAX_ZOOM = np.radians(35), 1.3  # head roll and scale, at most
RING_POINTS = 20
MOUTH_COLOUR = np.array([46, 18, 22], np.float32)  # the dark of an open mouth


class NoFaceToAnimate(ValueError):
    """The character image or the driving video shows no face."""


def cover(image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, np.ndarray]:
    """Scale to cover width×height and crop the centre (no distortion); the canvas, the
    scale and the crop's corner in the scaled image (to map points onto the canvas)."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    y0, x0 = (resized.shape[0] - height) // 2, (resized.shape[1] - width) // 2
    canvas = np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])
    return canvas, scale, np.array([x0, y0], np.float32)


def grey_for_tracking(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """A frame as uint8 grey at most MAX_TRACK_SIDE, and the scale it was shrunk by."""
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    scale = min(1.0, MAX_TRACK_SIDE / max(grey.shape[:2]))
    if scale < 1.0:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return grey, scale


def anchors(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Points that never move: a ring around the face and the image border."""
    centre = points.mean(axis=0)
    radius = (points.max(axis=0) - points.min(axis=0)) * 0.95
    angles = np.linspace(0, 2 * np.pi, RING_POINTS, endpoint=False)
    ring = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius
    ring = np.clip(ring, 1, [width - 2, height - 2])
    xs, ys = np.linspace(0, width - 1, 5), np.linspace(0, height - 1, 5)
    border = [(x, y) for x in xs for y in (0, height - 1)] + [
        (x, y) for y in ys[1:-1] for x in (0, width - 1)
    ]
    return np.concatenate([ring, np.array(border, np.float32)]).astype(np.float32)


def head_pose(neutral: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The 2×3 similarity (rotation, scale, shift) taking the neutral face's stable
    points to the current frame's; turning at most MAX_TURN, scaling within MAX_ZOOM
    (a landmark fit gone astray must not fold the face)."""
    matrix, _ = cv2.estimateAffinePartial2D(neutral[STABLE], current[STABLE], method=cv2.LMEDS)
    if matrix is None:
        return np.array([[1, 0, 0], [0, 1, 0]], np.float64)
    zoom = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    turn = float(np.arctan2(matrix[1, 0], matrix[0, 0]))
    zoom, turn = np.clip(zoom, 1 / MAX_ZOOM, MAX_ZOOM), np.clip(turn, -MAX_TURN, MAX_TURN)
    c, s = zoom * np.cos(turn), zoom * np.sin(turn)
    return np.array([[c, -s, matrix[0, 2]], [s, c, matrix[1, 2]]], np.float64)


def retarget(character: np.ndarray, neutral: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Where the character's landmarks go for one driving frame."""
    pose = head_pose(neutral, current)
    inverse = cv2.invertAffineTransform(pose)
    undone = current @ inverse[:, :2].T + inverse[:, 2]  # the expression, pose removed
    scale = interocular(character) / max(interocular(neutral), 1e-6)
    expressed = character + (undone - neutral) * scale
    # The head's motion about the face centre, its shift in the character's units.
    rotation_scale = pose[:, :2]
    centre_d, centre_c = neutral.mean(axis=0), character.mean(axis=0)
    shift = (centre_d @ rotation_scale.T + pose[:, 2] - centre_d) * scale
    limit = MAX_SHIFT * (character[:, 0].max() - character[:, 0].min())
    shift = np.clip(shift, -limit, limit)
    return ((expressed - centre_c) @ rotation_scale.T + centre_c + shift).astype(np.float32)


class MeshWarp:
    """A piecewise-affine warp of one image over a fixed triangulation of its points."""

    def __init__(self, image: np.ndarray, points: np.ndarray) -> None:
        self.image = image
        self.source = points
        self.triangles = Delaunay(points).simplices
        height, width = image.shape[:2]
        self.xy1 = np.stack(
            [*np.meshgrid(np.arange(width), np.arange(height)), np.ones((height, width))],
            axis=-1,
        ).astype(np.float32)

    def __call__(self, target: np.ndarray) -> np.ndarray:
        height, width = self.image.shape[:2]
        label = np.full((height, width), -1, np.int32)
        # Each output pixel takes the source position its triangle's affine map gives.
        maps = np.zeros((len(self.triangles) + 1, 2, 3), np.float32)
        maps[-1] = [[1, 0, 0], [0, 1, 0]]  # outside every triangle: unchanged
        for i, tri in enumerate(self.triangles):
            dst = target[tri]
            maps[i] = cv2.getAffineTransform(dst, self.source[tri])
            cv2.fillConvexPoly(label, np.round(dst).astype(np.int32), i)
        chosen = maps[label]  # (H, W, 2, 3)
        coords = np.einsum("hwij,hwj->hwi", chosen, self.xy1)
        return cv2.remap(
            self.image,
            coords[..., 0],
            coords[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )


def open_mouth(frame: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Darken the inner-lip polygon as far as the mouth is open."""
    opening = mouth_opening(points)
    if opening < 0.04:
        return frame
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[INNER_MOUTH]).astype(np.int32)], 255, cv2.LINE_AA)
    alpha = (cv2.GaussianBlur(mask, (5, 5), 0) / 255.0)[..., None] * min(1.0, opening * 6)
    return (frame * (1 - alpha) + MOUTH_COLOUR * alpha).astype(np.uint8)


def pose_series(tracked: list[np.ndarray | None], count: int) -> list[np.ndarray]:
    """`count` landmark sets spread over the tracked clip (linearly interpolated), frames
    before the first face holding the first one found."""
    known = [t for t in tracked if t is not None]
    if not known:
        raise NoFaceToAnimate("the driving video shows no face to follow")
    filled, last = [], known[0]
    for t in tracked:
        last = t if t is not None else last
        filled.append(last)
    # A centred 1-2-1 filter: landmark jitter smoothed, the motion not delayed.
    padded = [filled[0], *filled, filled[-1]]
    filled = [
        0.25 * padded[i - 1] + 0.5 * padded[i] + 0.25 * padded[i + 1]
        for i in range(1, len(padded) - 1)
    ]
    positions = np.linspace(0, len(filled) - 1, count)
    series = []
    for p in positions:
        lo, hi = int(np.floor(p)), int(np.ceil(p))
        w = p - lo
        series.append(filled[lo] * (1 - w) + filled[hi] * w)
    return series


class PerformanceTransfer:
    name = "performance"
    version = "1"
    model_id = "reelguard/performance-transfer-v1 (dlib shape_predictor_68)"
    # A warp computed from landmarks: no trained generator made these pixels.
    digital_source_type = PLAIN_ALGORITHM
    accepts = frozenset({IMAGE, DRIVING_VIDEO})
    needs = frozenset({IMAGE, DRIVING_VIDEO})  # a character to animate, a performance

    def __init__(self) -> None:
        self.landmarks = Landmarks()

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        if job.image is None or not job.driving_frames:
            raise NoFaceToAnimate(
                "performance transfer needs a character image and a driving video"
            )
        character, scale, corner = cover(job.image, job.width, job.height)
        # Found in the image as given (at most MAX_TRACK_SIDE), not on a small canvas
        # where the face may be too few pixels to detect; then mapped onto the canvas.
        grey, shrunk = grey_for_tracking(job.image)
        found = self.landmarks.detect(grey)
        if found is None:
            raise NoFaceToAnimate("the character image shows no face to animate")
        face = (found / shrunk * scale - corner).astype(np.float32)
        greys, scales = zip(*(grey_for_tracking(f) for f in job.driving_frames), strict=True)
        points = self.landmarks.track(list(greys))
        series = pose_series(
            [None if p is None else p / s for p, s in zip(points, scales, strict=True)],
            job.num_frames,
        )
        neutral = series[0]
        fixed = anchors(face, job.width, job.height)
        warp = MeshWarp(character, np.concatenate([face, fixed]))

        def frames():
            for i, current in enumerate(series):
                target = retarget(face, neutral, current)
                frame = warp(np.concatenate([target, fixed]))
                yield open_mouth(frame, target)
                progress(i + 1, job.num_frames)

        write_mp4(frames(), out_path, job.fps)
        return "video/mp4"

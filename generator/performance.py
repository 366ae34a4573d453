"""Performance transfer: an actor's driving video animates the character image's face.

No trained generator: MediaPipe's Face Mesh and Iris (generator/face_mesh.py) follow the
actor's face, each frame is read as head pose plus expression and put on the
character's landmarks (generator/retarget.py), and the character image is warped
piecewise-affine over a Delaunay mesh of those landmarks, held still by a ring around the
face and the image border, a head pose taken back where it would fold the face over
itself. Irises are mesh points of their own, so the eyes look where the actor looks; a
closing eye shows the actor's own lids (generator/eyelids.py). An open mouth shows the
actor's own mouth (teeth, tongue), warped into the character's lips and matched to the
character's skin tone, never a flat fill.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from generator.base import DRIVING_VIDEO, IMAGE, PLAIN_ALGORITHM, GenerationInput, ProgressFn
from generator.eyelids import actors_lids, gaze_held, lids_shown
from generator.face_mesh import (
    INNER_MOUTH,
    LIPS,
    Face,
    FaceMesh,
    mouth_opening,
)
from generator.irises import Irises
from generator.retarget import fill_gaps, neutral_face, retarget, smooth
from media.mp4 import write_mp4

MAX_TRACK_SIDE = 512  # driving frames are tracked at most this large
RING_POINTS = 20
RING_MARGIN = 0.03  # of the frame's side: no ring point nearer its edge
BORDER_POINTS = 16  # the frame's edge: 5 along the top and bottom, 3 more down each side
# The triangles a head pose may turn over beyond what the expression alone does, in px²
# (not counting those on the frame's edge: a face may run out of the frame). Slivers
# flatten and turn under any small turn (17-46 px² on img_facenet_angelina_jolie, where
# a slack of 20 kept roll correlation at 0.55 against 0.81 unguarded; 50 keeps 0.73); a
# torn eye is 80-160 px² (img_hallo_ref3 under vid_tpsmm_driving, 72 % of that pose
# kept at 50, faces found in every frame). bench/performance.py --people.
FOLD_SLACK = 50.0
# From this far into closing (eyelids.closing) the actor's irises are not read but held
# where they were (eyelids.gaze_held): the lids cover them. Held from any closing, the
# people set's readable glances lost ground (vid_tpsmm_driving 0.65 -> 0.56: narrowed
# eyes still look about); never held, 32 of 51 blinks read shut, held from any 34.
HOLD_GAZE_FROM = 0.5
KNEE = 0.7  # of white: a brightened mouth's lightness eases from here (`brightened`)
OPEN_FROM = 0.03  # inner-lip gap over interocular distance: below it the lips are closed
# The mesh points the warp moves: face oval, brows, eyes' contours, nose, outer and inner
# lips (MediaPipe's canonical indices); each iris is added as its own point.
WARP_POINTS = np.array(sorted({
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400,
    377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67,
    109, 70, 63, 105, 66, 107, 46, 53, 52, 65, 55, 300, 293, 334, 296, 336, 276, 283, 282,
    295, 285, 33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 6,
    197, 195, 5, 4, 1, 98, 327, 2, 61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 146,
    91, 181, 84, 17, 314, 405, 321, 375, *INNER_MOUTH.tolist(),
}))  # fmt: skip
LIP_VERTICES = np.flatnonzero(np.isin(WARP_POINTS, LIPS))  # the lips, in WARP_POINTS


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


def for_tracking(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """A frame as RGB at most MAX_TRACK_SIDE, and the scale it was shrunk by."""
    rgb = np.stack([frame] * 3, axis=-1) if frame.ndim == 2 else frame
    scale = min(1.0, MAX_TRACK_SIDE / max(rgb.shape[:2]))
    if scale < 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb), scale


def scaled(face: Face, factor: float, corner: np.ndarray) -> Face:
    """The face's points and irises times `factor`, less `corner` (onto another canvas)."""
    points = face.points * factor
    points[:, :2] -= corner
    return Face(points.astype(np.float32), (face.irises * factor - corner).astype(np.float32), 1)


def anchors(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Points that never move: a ring around the face, then the image border (its last
    BORDER_POINTS). Where the ring would leave the frame or come within RING_MARGIN of
    its edge, it has no points: a face that fills the frame there runs out of it, and a
    ring squeezed onto the edge folded every head movement against it (the people set's
    img_facenet_paul_rudd, chin at the bottom edge)."""
    centre = points.mean(axis=0)
    radius = (points.max(axis=0) - points.min(axis=0)) * 0.95
    angles = np.linspace(0, 2 * np.pi, RING_POINTS, endpoint=False)
    ring = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radius
    margin = RING_MARGIN * max(width, height)
    inside = (ring >= margin) & (ring <= np.array([width - 1, height - 1]) - margin)
    xs, ys = np.linspace(0, width - 1, 5), np.linspace(0, height - 1, 5)
    border = [(x, y) for x in xs for y in (0, height - 1)] + [
        (x, y) for y in ys[1:-1] for x in (0, width - 1)
    ]
    return np.concatenate([ring[inside.all(axis=1)], border]).astype(np.float32)


def warp_points(face: Face) -> np.ndarray:
    """The 2-D points the warp moves, in a fixed order: WARP_POINTS, then the irises."""
    return np.concatenate([face.points[WARP_POINTS, :2], face.irises]).astype(np.float32)


def delaunay(points: np.ndarray) -> np.ndarray:
    """The Delaunay triangles of distinct 2-D points, as (n, 3) indices into `points`.

    OpenCV's Subdiv2D rather than SciPy's Qhull: importing scipy.spatial cost 0.3 s of
    every start. Subdiv2D starts from a triangle around its rectangle; a rectangle 100
    extents wide keeps those virtual vertices out of the hull's circles, and the
    triangles that reach them are dropped: SciPy's triangles, less hull slivers no pixel
    lies in (tests/generator/test_mesh_warp.py)."""
    low, high = points.min(axis=0), points.max(axis=0)
    extent = float((high - low).max()) + 1
    x0, y0 = (low - 100 * extent).astype(int)
    subdiv = cv2.Subdiv2D((int(x0), int(y0), int(201 * extent) + 2, int(201 * extent) + 2))
    for x, y in points:
        subdiv.insert((float(x), float(y)))
    corners = subdiv.getTriangleList().reshape(-1, 3, 2)
    # Each corner is one of the inserted points (a float32 round trip) or a virtual one.
    distance = np.linalg.norm(corners[:, :, None, :] - points[None, None], axis=-1)
    inside = (distance.min(axis=-1) < 1e-3).all(axis=1)
    return distance.argmin(axis=-1)[inside].astype(np.int32)


class MeshWarp:
    """A piecewise-affine warp of one image over a fixed triangulation of its points."""

    def __init__(self, image: np.ndarray, points: np.ndarray) -> None:
        self.image = image
        # Closed lips put upper and lower inner-lip points on top of each other; apart by
        # a pixel, each keeps its own triangles (and can open).
        self.source = points + np.random.default_rng(0).uniform(-0.4, 0.4, points.shape)
        self.source = self.source.astype(np.float32)
        self.triangles = delaunay(self.source)
        self._windings = np.sign(_areas(self.source, self.triangles))
        height, width = image.shape[:2]
        self.xy1 = np.stack(
            [*np.meshgrid(np.arange(width), np.arange(height)), np.ones((height, width))],
            axis=-1,
        ).astype(np.float32)

    def folded(self, target: np.ndarray, counted: np.ndarray | None = None) -> float:
        """The area, in pixels, of the triangles `target` turns over (a face folded over
        itself), among those `counted` (a mask over `triangles`; all when None); slivers
        that merely flatten count for their few pixels."""
        after = _areas(target, self.triangles)
        turned = self._windings != np.sign(after)
        if counted is not None:
            turned &= counted
        return float(np.abs(after[turned]).sum())

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


def _areas(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Each triangle's signed area (its sign: the winding)."""
    a, b, c = (points[triangles[:, i]].astype(np.float64) for i in range(3))
    ab, ac = b - a, c - a
    return (ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]) / 2


def pose_counted(warp: MeshWarp) -> np.ndarray:
    """The triangles a head pose must not fold (a mask over `warp.triangles`): not those
    on the frame's edge (a face may run out of the frame), nor those on the lips. The
    expression alone turns lips' triangles (closed lips put the inner lips' points on top
    of each other: a hair's difference flips a sliver), and counted, they made the pose
    kept depend on the mouth's shape frame by frame: filtering the lips alone moved
    vid_tpsmm_driving's readable gaze from 0.72 to 0.53; not counted, 0.58
    (bench/performance.py --people)."""
    edge = len(warp.source) - BORDER_POINTS
    triangles = warp.triangles
    return (triangles < edge).all(axis=1) & ~np.isin(triangles, LIP_VERTICES).any(axis=1)


def unfolded(warp: MeshWarp, fixed: np.ndarray, still: Face, posed: Face) -> Face:
    """`posed`, its head pose taken back towards `still` (the same expression, unposed)
    as far as it must be for the warp to fold no more than the expression alone does,
    FOLD_SLACK px² aside: a head turned or moved against the fixed ring folded the face
    over itself (vid_tpsmm_driving on img_hallo_ref3, frames 44-53: an eye torn)."""

    def between(t: float) -> Face:
        return Face(still.points + t * (posed.points - still.points),
                    still.irises + t * (posed.irises - still.irises), 1.0)  # fmt: skip

    counted = pose_counted(warp)

    def folded(face: Face) -> float:
        return warp.folded(np.concatenate([warp_points(face), fixed]), counted)

    allowed = folded(still) + FOLD_SLACK
    if folded(posed) <= allowed:
        return posed
    low, high = 0.0, 1.0
    for _ in range(6):  # to 1/64 of the pose
        middle = (low + high) / 2
        low, high = (middle, high) if folded(between(middle)) <= allowed else (low, middle)
    return between(low)


def skin_tone(rgb: np.ndarray, face: Face) -> np.ndarray:
    """The mean Lab colour of the cheeks (around mesh points 50 and 280)."""
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    size = max(2, int(np.ptp(face.points[:, 0]) * 0.06))
    patches = []
    for index in (50, 280):
        x, y = np.round(face.points[index, :2]).astype(int)
        patch = lab[max(0, y - size) : y + size, max(0, x - size) : x + size]
        if patch.size:
            patches.append(patch.reshape(-1, 3))
    return np.concatenate(patches).mean(axis=0) if patches else np.array([128, 128, 128.0])


def mouth_inside(
    frame: np.ndarray,
    target: Face,
    actor_rgb: np.ndarray,
    actor: Face,
    tones: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """The actor's open mouth (its inside: teeth, tongue) warped into the character's
    inner lips, its colour moved from the actor's skin tone to the character's."""
    if mouth_opening(target.points) < OPEN_FROM or mouth_opening(actor.points) < OPEN_FROM:
        return frame  # closed lips stay closed
    src = actor.points[INNER_MOUTH, :2].astype(np.float32)
    dst = target.points[INNER_MOUTH, :2].astype(np.float32)
    height, width = frame.shape[:2]
    x0, y0 = np.maximum(np.floor(dst.min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.minimum(np.ceil(dst.max(axis=0)).astype(int) + 3, [width, height])
    if x1 - x0 < 2 or y1 - y0 < 2:
        return frame
    size, corner = (int(x1 - x0), int(y1 - y0)), np.array([x0, y0], np.float32)
    dst = dst - corner  # in the patch
    inside = np.zeros((size[1], size[0], 3), np.uint8)
    centre_s, centre_d = src.mean(axis=0), dst.mean(axis=0)
    for i in range(len(src)):  # a fan of triangles about the mouth's centre
        j = (i + 1) % len(src)
        tri_s = np.array([centre_s, src[i], src[j]], np.float32)
        tri_d = np.array([centre_d, dst[i], dst[j]], np.float32)
        piece = cv2.warpAffine(actor_rgb, cv2.getAffineTransform(tri_s, tri_d), size)
        mask = np.zeros(inside.shape[:2], np.uint8)
        cv2.fillConvexPoly(mask, np.round(tri_d).astype(np.int32), 1)
        inside[mask > 0] = piece[mask > 0]
    actor_tone, character_tone = tones
    lab = cv2.cvtColor(inside, cv2.COLOR_RGB2LAB).astype(np.float32)
    # Brightness in proportion, highlights eased under white (`brightened`);
    # saturation as the character's skin is to the actor's (a black-and-white portrait
    # gets a grey mouth); the tint as far as a pixel is lit (a dark mouth stays dark, not
    # tinted); teeth and tongue keep their contrast.
    lit = np.clip(lab[..., :1] / max(actor_tone[0], 1.0), 0.0, 1.0)
    lab[..., 0] = brightened(lab[..., 0], character_tone[0] / max(actor_tone[0], 1.0))
    chroma_a = float(np.linalg.norm(actor_tone[1:] - 128))
    chroma_c = float(np.linalg.norm(character_tone[1:] - 128))
    saturation = float(np.clip(chroma_c / max(chroma_a, 4.0), 0.0, 1.5))
    shift = character_tone[1:] - 128 - (actor_tone[1:] - 128) * saturation
    lab[..., 1:] = 128 + (lab[..., 1:] - 128) * saturation + shift * lit
    inside = cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
    mask = np.zeros(inside.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(dst).astype(np.int32)], 255, cv2.LINE_AA)
    alpha = (cv2.GaussianBlur(mask, (3, 3), 0) / 255.0)[..., None]
    out = frame.copy()
    region = out[y0:y1, x0:x1]
    out[y0:y1, x0:x1] = (region * (1 - alpha) + inside * alpha).astype(np.uint8)
    return out


def brightened(lightness: np.ndarray, gain: float) -> np.ndarray:
    """Lab lightness (0-255) times `gain`, eased from KNEE of white so it never clips.
    Scaled alone, a dark-skinned actor's teeth on a light-skinned character went flat
    white: featureless blocks that pulled the output's identity embedding towards the
    actor's (a laugh in vid_xportrait_driving_video on the astronaut: 0.73 from the
    character, 0.67 from the actor, in one frame; eased, 0.53 and 0.83)."""
    x = lightness * (gain / 255)
    eased = KNEE + (1 - KNEE) * np.tanh((x - KNEE) / (1 - KNEE))
    return 255 * np.where(x <= KNEE, x, eased)


def series(count: int, *per_frame: list):
    """`count` tuples (one item of each list) spread over the tracked clip, nearest in
    time."""
    positions = np.round(np.linspace(0, len(per_frame[0]) - 1, count)).astype(int)
    return [tuple(items[p] for items in per_frame) for p in positions]


class PerformanceTransfer:
    name = "performance"
    version = "2"
    model_id = "reelguard/performance-transfer-v2 (MediaPipe Face Mesh + Iris)"
    # A warp computed from landmarks: no trained generator made these pixels.
    digital_source_type = PLAIN_ALGORITHM
    accepts = frozenset({IMAGE, DRIVING_VIDEO})
    needs = frozenset({IMAGE, DRIVING_VIDEO})  # a character to animate, a performance

    def __init__(self) -> None:
        self.mesh = FaceMesh()

    def character(self, image: np.ndarray, width: int, height: int) -> tuple[np.ndarray, Face]:
        """The canvas and the character's face on it (found in the image as given, at
        most MAX_TRACK_SIDE, where a small canvas could make it too few pixels)."""
        canvas, scale, corner = cover(image, width, height)
        rgb, shrunk = for_tracking(image)
        found = self.mesh.detect(rgb)
        if found is None:
            raise NoFaceToAnimate("the character image shows no face to animate")
        return canvas, scaled(found, scale / shrunk, corner)

    def actor(
        self, frames: list[np.ndarray], fps: float
    ) -> tuple[list[Face], list[np.ndarray], list[Face]]:
        """The actor's face in every driving frame (smoothed, gaps held), the frames at
        the size it was tracked in (a clip's frames share one size), and the faces as
        tracked, unsmoothed (what a blink is read from: the filter takes depth off a
        blink's few frames)."""
        rgbs = [for_tracking(f)[0] for f in frames]
        tracked = self.mesh.track(rgbs)
        try:
            held = fill_gaps(tracked)
        except ValueError:
            raise NoFaceToAnimate("the driving video shows no face to follow") from None
        # A face lost for some frames holds its last pose (and that frame's mouth).
        raw = [tracked[i] for i in held]
        return smooth(raw, fps), [rgbs[i] for i in held], raw

    def generate(self, job: GenerationInput, out_path: Path, progress: ProgressFn) -> str:
        if job.image is None or not job.driving_frames:
            raise NoFaceToAnimate(
                "performance transfer needs a character image and a driving video"
            )
        canvas, face = self.character(job.image, job.width, job.height)
        faces, frames, raw = self.actor(job.driving_frames, job.fps)
        pose, rest = faces[0], neutral_face(faces)
        fixed = anchors(warp_points(face), job.width, job.height)
        irises = Irises(canvas, face)  # warped without them, drawn whole where they look
        warp = MeshWarp(irises.bare, np.concatenate([warp_points(face), fixed]))
        tones = (skin_tone(frames[0], pose), skin_tone(canvas, face))

        def rendered():
            opened = faces[0]
            clip = series(job.num_frames, faces, frames, raw, lids_shown(raw, job.fps))
            for i, (current, rgb, seen, closed) in enumerate(clip):
                if closed.max() >= HOLD_GAZE_FROM:
                    current = gaze_held(current, opened)
                else:
                    opened = current
                still = retarget(face, current, rest, current)  # the expression alone
                target = unfolded(warp, fixed, still, retarget(face, pose, rest, current))
                frame = warp(np.concatenate([warp_points(target), fixed]))
                frame = irises.draw(frame, target)
                frame = actors_lids(frame, target, rgb, seen, closed)
                yield mouth_inside(frame, target, rgb, current, tones)
                progress(i + 1, job.num_frames)

        write_mp4(rendered(), out_path, job.fps)
        return "video/mp4"

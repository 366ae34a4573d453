"""The character's irises, moved whole.

A warp vertex at an iris centre only shears the iris between lids that stay where they
are: moved by 0.15 of the eye's width, the iris on the warped canvas read as having
moved 0 to 0.07 (the Face Mesh's iris model on the output, five portraits of the people
set). So each iris is lifted off the canvas once — its place filled from the white of
the eye around it — and drawn again every frame, whole, where the target's iris is,
inside the target's lids (which then hide as much of it as they should).
"""

from __future__ import annotations

import cv2
import numpy as np

from generator.face_mesh import Face, eye_outline, eye_width

IRIS_RADIUS = 0.2  # of the eye's width: an iris is ~12 mm across, an eye ~30 mm wide


def opening_mask(shape: tuple[int, int], outline: np.ndarray) -> np.ndarray:
    """An eye's opening (its outline, `eye_outline`) filled in: 255 inside, 0 outside."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 255, cv2.LINE_AA)
    return mask


class Irises:
    """The canvas without its irises (`bare`, what the warp moves) and each iris as a
    patch with its own alpha: the disc, where the character's lids let it be seen."""

    def __init__(self, canvas: np.ndarray, face: Face) -> None:
        height, width = canvas.shape[:2]
        lift = np.zeros((height, width), np.uint8)
        self._patches = []
        for k in range(2):
            span = eye_width(face.points, k)
            radius = max(2, round(IRIS_RADIUS * span))
            cx, cy = np.round(face.irises[k]).astype(int)
            x0, y0 = max(cx - radius - 1, 0), max(cy - radius - 1, 0)
            x1, y1 = min(cx + radius + 2, width), min(cy + radius + 2, height)
            if x1 - x0 < 3 or y1 - y0 < 3:
                self._patches.append(None)
                continue
            disc = np.zeros((height, width), np.uint8)
            cv2.circle(disc, (int(cx), int(cy)), radius, 255, -1, cv2.LINE_AA)
            seen = cv2.min(disc, opening_mask((height, width), eye_outline(face.points, k)))
            lift = cv2.max(lift, seen)
            alpha = cv2.GaussianBlur(seen, (3, 3), 0)[y0:y1, x0:x1].astype(np.float32) / 255
            corner = np.array([x0, y0], np.float32) - face.irises[k]
            self._patches.append((canvas[y0:y1, x0:x1].copy(), alpha, corner, span))
        # The whites fill the irises' places, so a moved iris leaves no copy behind.
        self.bare = cv2.inpaint(canvas, lift, 3, cv2.INPAINT_TELEA) if lift.any() else canvas

    def draw(self, frame: np.ndarray, target: Face) -> np.ndarray:
        """Each iris, scaled as its eye is, centred on the target's iris and clipped to
        the target's eye opening (worked on a box around the eye only)."""
        out = frame.copy()
        height, width = frame.shape[:2]
        for k, patch in enumerate(self._patches):
            if patch is None:
                continue
            pixels, alpha, corner, rest_width = patch
            scale = eye_width(target.points, k) / max(rest_width, 1e-6)
            outline = eye_outline(target.points, k)
            x0, y0 = np.maximum(np.floor(outline.min(axis=0)).astype(int) - 2, 0)
            x1, y1 = np.minimum(np.ceil(outline.max(axis=0)).astype(int) + 3, [width, height])
            if not 0.3 < scale < 3 or x1 - x0 < 3 or y1 - y0 < 3:
                continue
            # patch -> box: scale about the iris centre, then onto the target's iris.
            shift = target.irises[k] + corner * scale - np.array([x0, y0], np.float32)
            place = np.array([[scale, 0, shift[0]], [0, scale, shift[1]]], np.float32)
            size = (int(x1 - x0), int(y1 - y0))
            moved = cv2.warpAffine(pixels, place, size, flags=cv2.INTER_LINEAR)
            cover = cv2.warpAffine(alpha, place, size, flags=cv2.INTER_LINEAR)
            opening = opening_mask((size[1], size[0]), outline - [x0, y0]) / 255.0
            cover = (cover * opening)[..., None]
            box = out[y0:y1, x0:x1]
            out[y0:y1, x0:x1] = (box * (1 - cover) + moved * cover).astype(np.uint8)
        return out

"""Face crops: for reviewers' eyes, for telling whether a face changed, for embedding.

Pixel work only (numpy and OpenCV), shared by the likeness check and enrolment.
"""

from __future__ import annotations

import numpy as np

from safety.likeness.tracking import Box


def cv2_resize(pixels: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    h, w = pixels.shape[:2]
    return cv2.resize(pixels, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def face_look(pixels: np.ndarray, box: Box) -> np.ndarray:
    """A face's signature for telling whether it changed: its 24×24 grey crop, zero mean,
    unit norm (the dot product of two is their correlation)."""
    import cv2

    x, y, w, h = box
    crop = pixels[max(y, 0) : y + max(h, 1), max(x, 0) : x + max(w, 1)]
    if crop.size == 0:
        return np.zeros(24 * 24, np.float32)
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    v = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    v -= v.mean()
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def embedding_crop(pixels: np.ndarray, box: Box, margin: float = 0.5) -> tuple[np.ndarray, Box]:
    """The face with room around it for alignment, and its box within that crop: what a
    worker process needs to embed it (not the whole frame)."""
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    x0, y0 = max(0, x - mx), max(0, y - my)
    crop = pixels[y0 : y + h + my, x0 : x + w + mx]
    return np.ascontiguousarray(crop), (x - x0, y - y0, w, h)


def face_crop_jpeg(
    pixels: np.ndarray, box: tuple[int, int, int, int], margin: float = 0.25
) -> bytes:
    """The face in `box` with some margin, as a JPEG (for reviewers, not for matching)."""
    x, y, w, h = box
    mx, my = int(w * margin), int(h * margin)
    height, width = pixels.shape[:2]
    crop = pixels[max(0, y - my) : min(height, y + h + my), max(0, x - mx) : min(width, x + w + mx)]
    return jpeg(crop)


def jpeg(pixels: np.ndarray) -> bytes:
    """RGB pixels as a JPEG, for people's eyes (reviewers, the depicted person)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels)).save(out, "JPEG", quality=85)
    return out.getvalue()


def face_sharpness(pixels: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Variance of the Laplacian of the face crop at 128×128 grey: low means blurry."""
    import cv2

    x, y, w, h = box
    crop = pixels[max(y, 0) : y + h, max(x, 0) : x + w]
    if crop.size == 0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (128, 128), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())

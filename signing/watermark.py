"""An invisible watermark that carries the manifest id, so a copy stripped of its C2PA
metadata still says which manifest it came from.

DWT-DCT with quantization index modulation: the LL band of a two-level Haar DWT of
the luma (computed directly as 4×4-pixel cell means), 4×4 DCT blocks of it, and in
each block two low-frequency coefficients quantized to an even or odd half-step for
one payload bit; the 64 bits repeat across the frame and
are read back by soft vote (and, for video, across frames). No model, no weights.
The dither that places the quantization grid is drawn from a secret key (32 bytes kept
in the data dir, never in a manifest): without it a mark can be neither read nor
forged, so nobody can stamp a known manifest id onto another video.
bench/watermark.py measures what it survives (H.264 re-encoding, resizing, JPEG);
it does not survive cropping or rotation — the perceptual fingerprint covers those.
A learned watermark can take its place behind `Watermarker` (`watermark_backend` in
the config): TrustMark with weights the operator provides (signing/trustmark_watermark.py).
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

ALG = "org.reelguard.dwt-dct-qim/1"
PAYLOAD_BYTES = 8  # the first 16 hex digits of the manifest (decision) id
BITS = PAYLOAD_BYTES * 8
SCALE = 80.0  # quantization step: ~41 dB PSNR; bench/watermark.py has the trade-off
LEVEL = 2
BLOCK = 4
COEFFICIENTS = ((0, 1), (1, 0))
# Below this the reading is noise: unmarked photos and frames read 0.06-0.11. Above it
# a reading is still only a candidate: it counts when the manifest repository holds a
# manifest with that 64-bit id prefix.
MIN_CONFIDENCE = 0.12
MIN_SIDE = BLOCK * 2**LEVEL * 4  # smaller frames can't hold the payload reliably


@dataclass(frozen=True)
class Reading:
    payload: bytes
    confidence: float  # 0 (noise) .. 1 (every vote agrees)

    @property
    def found(self) -> bool:
        return self.confidence >= MIN_CONFIDENCE

    @property
    def manifest_prefix(self) -> str:
        return self.payload.hex()


def payload_for(manifest_id: str) -> bytes:
    return bytes.fromhex(manifest_id[: PAYLOAD_BYTES * 2])


def check_payload(payload: bytes) -> None:
    """Every backend carries exactly `PAYLOAD_BYTES` (what `payload_for` gives)."""
    if len(payload) != PAYLOAD_BYTES:
        raise ValueError(f"the watermark payload is {PAYLOAD_BYTES} bytes, not {len(payload)}")


class Watermarker(Protocol):
    """Carries a `PAYLOAD_BYTES` payload invisibly in RGB frames."""

    alg: str  # recorded in the manifest and in verify reports

    def embed(self, rgb: np.ndarray, payload: bytes) -> np.ndarray: ...

    def read(self, frames: Iterable[np.ndarray]) -> Reading: ...


class DwtDctQim:
    """This module's watermark: no model, the default; keyed by `key` (secret)."""

    alg = ALG

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a watermark key is at least 16 random bytes")
        self._key = key

    def __repr__(self) -> str:  # never the key
        return "DwtDctQim(key=<secret>)"

    def embed(self, rgb: np.ndarray, payload: bytes) -> np.ndarray:
        return embed(rgb, payload, self._key)

    def read(self, frames: Iterable[np.ndarray]) -> Reading:
        return read(frames, self._key)


def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II (what cv2.dct computes), applied to all blocks at once."""
    k, i = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    m = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    m[0] /= np.sqrt(2.0)
    return m


DCT = _dct_matrix(BLOCK)


LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, as video codecs use
CELL = 2**LEVEL  # an LL coefficient of a LEVEL-deep Haar DWT covers CELL×CELL pixels


def _ll(luma: np.ndarray) -> np.ndarray:
    """The Haar DWT's LL band at LEVEL, directly: CELL × the mean of each CELL² cell."""
    rows, cols = luma.shape[0] // CELL, luma.shape[1] // CELL
    cells = luma[: rows * CELL, : cols * CELL].reshape(rows, CELL, cols, CELL)
    return cells.mean(axis=(1, 3)) * CELL


def _blocks(ll: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The LL band's whole 4×4 blocks, DCT'd: shape (n, 4, 4), in row-major order."""
    rows, cols = ll.shape[0] // BLOCK, ll.shape[1] // BLOCK
    tiles = ll[: rows * BLOCK, : cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
    return DCT @ tiles.reshape(-1, BLOCK, BLOCK) @ DCT.T, (rows, cols)


def _bit_index(n_blocks: int) -> np.ndarray:
    """Which payload bit each (block, coefficient) slot carries: the bits repeat."""
    return np.arange(n_blocks * len(COEFFICIENTS)).reshape(n_blocks, len(COEFFICIENTS)) % BITS


def _dither(n_blocks: int, key: bytes) -> np.ndarray:
    """A pseudo-random offset per slot (dithered QIM), drawn from the key: without it,
    flat unmarked regions, whose coefficients sit near 0, would all read as 0-bits, and
    anyone could read and write marks."""
    seed = int.from_bytes(hmac.digest(key, b"reelguard watermark dither/1", "sha256"), "big")
    rng = np.random.default_rng(seed)
    return rng.uniform(0, SCALE, n_blocks * len(COEFFICIENTS)).reshape(n_blocks, -1)


def embed(rgb: np.ndarray, payload: bytes, key: bytes) -> np.ndarray:
    """The frame with `payload` (8 bytes) embedded; frames too small are returned as is.

    Only luma changes: the same delta on R, G and B moves Y and leaves chroma alone."""
    check_payload(payload)
    if min(rgb.shape[:2]) < MIN_SIDE:
        return rgb
    bits = np.unpackbits(np.frombuffer(payload, np.uint8)).astype(np.float32)
    blocks, (rows, cols) = _blocks(_ll(rgb.astype(np.float32) @ LUMA))
    offsets = 0.5 * SCALE * bits[_bit_index(len(blocks))] + _dither(len(blocks), key)
    change = np.zeros_like(blocks)
    for j, (u, v) in enumerate(COEFFICIENTS):
        c = blocks[:, u, v]
        change[:, u, v] = np.round((c - offsets[:, j]) / SCALE) * SCALE + offsets[:, j] - c
    # Back to pixels: inverse DCT of the change, then each LL coefficient spreads evenly
    # over its CELL×CELL pixels (the inverse Haar DWT with zero detail bands).
    delta_ll = (DCT.T @ change @ DCT).reshape(rows, cols, BLOCK, BLOCK).swapaxes(1, 2)
    delta_ll = delta_ll.reshape(rows * BLOCK, cols * BLOCK) / CELL
    delta = np.zeros(rgb.shape[:2], np.float32)
    span = (rows * BLOCK * CELL, cols * BLOCK * CELL)
    delta[: span[0], : span[1]] = np.kron(delta_ll, np.ones((CELL, CELL), np.float32))
    return np.clip(rgb + delta[:, :, None], 0, 255).round().astype(np.uint8)


def votes(rgb: np.ndarray, key: bytes) -> np.ndarray:
    """Per-bit soft votes from one frame: positive means 0, negative means 1."""
    if min(rgb.shape[:2]) < MIN_SIDE:
        return np.zeros(BITS)
    blocks, _ = _blocks(_ll(rgb.astype(np.float32) @ LUMA))
    index, dither = _bit_index(len(blocks)), _dither(len(blocks), key)
    score = np.zeros(BITS)
    for j, (u, v) in enumerate(COEFFICIENTS):
        phase = ((blocks[:, u, v] - dither[:, j]) / SCALE) % 1.0  # 0: bit 0, 0.5: bit 1
        np.add.at(score, index[:, j], np.cos(2 * np.pi * phase))
    return score / max(1, index.size // BITS)


def read(frames: Iterable[np.ndarray], key: bytes) -> Reading:
    """The payload voted by all `frames` (one for an image)."""
    total, n = np.zeros(BITS), 0
    for frame in frames:
        total += votes(frame, key)
        n += 1
    total /= max(n, 1)
    bits = (total < 0).astype(np.uint8)
    return Reading(np.packbits(bits).tobytes(), float(np.mean(np.abs(total))))


def watermark_video(
    source: Path, dest: Path, payload: bytes, marker: Watermarker, crf: int = 18
) -> None:
    """Re-encode `source` with every frame watermarked (H.264, same frame rate)."""
    import av

    from media.mp4 import write_mp4

    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        fps = stream.average_rate or stream.base_rate or 24
        frames = (
            marker.embed(f.to_ndarray(format="rgb24"), payload) for f in container.decode(stream)
        )
        write_mp4(frames, dest, fps, crf=crf)

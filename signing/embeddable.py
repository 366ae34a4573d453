"""Single-pass signing of MP4/MOV: c2pa-rs's embeddable-manifest flow, bound thinly.

`Builder.sign` streams the asset through Python callbacks and writes a second copy of
it. c2pa-rs can instead compose a placeholder manifest, hash the asset in place, and
return a signed manifest of the placeholder's exact size to patch over it; c2pa-python
0.38 does not bind that flow, so this module binds its four calls against the
`libc2pa_c` that c2pa-python already loaded. A missing symbol or an untested c2pa
version is refused by name (`EmbeddingUnavailable`), and the caller falls back to
`Builder.sign`.

Where the manifest box goes, so that no byte of the asset moves (no chunk offset changes
and the file is not rewritten): into the `free` box our MP4 writer reserves right after
`ftyp` (media/mp4.py; the usual place, before `moov`), the rest of it staying a
smaller `free` box; in a file without that room (a client's upload, a manifest too big
for it), after the last top-level box. c2pa-rs and an independent validator (TrustNXT's
c2pa-ts) validate both placements (tests/signing/test_embeddable.py).
"""

from __future__ import annotations

import ctypes
import hashlib
import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import c2pa

from media.mp4 import top_level_boxes

TESTED_C2PA = ("0.38.",)  # c2pa-python versions whose library was checked to behave
BMFF_TYPES = ("video/mp4", "video/quicktime")
C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
_BUILDER_FORMAT_PTR = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_FUNCTIONS = {  # name: (restype, argtypes); the builder calls take (builder, format, out)
    "c2pa_builder_placeholder": (ctypes.c_int64, _BUILDER_FORMAT_PTR),
    "c2pa_builder_update_hash_from_stream": (ctypes.c_int, _BUILDER_FORMAT_PTR),
    "c2pa_builder_sign_embeddable": (ctypes.c_int64, _BUILDER_FORMAT_PTR),
    "c2pa_error": (ctypes.c_void_p, []),
    "c2pa_free": (ctypes.c_int, [ctypes.c_void_p]),
}


class EmbeddingUnavailable(RuntimeError):
    """This c2pa build cannot sign in place; sign the ordinary way."""


class EmbeddingError(RuntimeError):
    """The native library refused a step; the asset was left as it was."""


@dataclass(frozen=True)
class SignedFile:
    manifest: bytes  # the manifest store (application/c2pa), for the repository
    sha256: str  # of the signed file


class _Native:
    """The embeddable-manifest calls of the library c2pa-python loaded."""

    def __init__(self) -> None:
        version = getattr(c2pa, "__version__", "unknown")
        if not version.startswith(TESTED_C2PA):
            raise EmbeddingUnavailable(f"c2pa-python {version} is not one this flow was tested on")
        # A second handle on the same loaded library: our argtypes stay off c2pa's.
        self._lib = ctypes.CDLL(c2pa.c2pa._lib._name)
        for name, (restype, argtypes) in _FUNCTIONS.items():
            try:
                fn = getattr(self._lib, name)
            except AttributeError:
                raise EmbeddingUnavailable(f"libc2pa_c lacks {name}") from None
            fn.restype, fn.argtypes = restype, argtypes

    def _error(self, step: str) -> EmbeddingError:
        raw = self._lib.c2pa_error()
        text = ctypes.string_at(raw).decode("utf-8", "replace") if raw else "unknown error"
        if raw:
            self._lib.c2pa_free(raw)
        return EmbeddingError(f"{step}: {text}")

    def _bytes(self, fn, handle, fmt: bytes, step: str) -> bytes:
        out = ctypes.c_void_p()
        size = fn(handle, fmt, ctypes.byref(out))
        if size < 0 or not out.value:
            raise self._error(step)
        try:
            return ctypes.string_at(out.value, size)
        finally:
            self._lib.c2pa_free(out.value)

    def placeholder(self, builder: c2pa.Builder, fmt: bytes) -> bytes:
        return self._bytes(self._lib.c2pa_builder_placeholder, _handle(builder), fmt, "placeholder")

    def update_hash(self, builder: c2pa.Builder, fmt: bytes, asset: BinaryIO) -> None:
        with c2pa.Stream(asset) as stream:
            stream_ptr = ctypes.cast(stream._stream, ctypes.c_void_p)
            if self._lib.c2pa_builder_update_hash_from_stream(_handle(builder), fmt, stream_ptr):
                raise self._error("hashing the asset")

    def sign(self, builder: c2pa.Builder, fmt: bytes) -> bytes:
        return self._bytes(self._lib.c2pa_builder_sign_embeddable, _handle(builder), fmt, "signing")


def _handle(builder: c2pa.Builder) -> ctypes.c_void_p:
    return ctypes.cast(builder._handle, ctypes.c_void_p)


_native: _Native | None = None


def native() -> _Native:
    """The bound calls (loaded once); EmbeddingUnavailable where this c2pa lacks them."""
    global _native
    if _native is None:
        _native = _Native()
    return _native


def _hash_range(path: Path, length: int) -> hashlib._Hash:
    """SHA-256 of the first `length` bytes (on a thread beside c2pa's hash of the same
    bytes when they are all the digest needs: both release the GIL)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while length > 0:
            block = f.read(min(1 << 20, length))
            if not block:
                raise EmbeddingError(f"{path.name} shrank while it was hashed")
            h.update(block)
            length -= len(block)
    return h


def _placement(f: BinaryIO, size: int, length: int) -> tuple[int, bytes]:
    """Where a manifest box of `length` bytes goes, and what follows it there: into the
    `free` box right after `ftyp` when it has the room (a smaller `free` box after it),
    else after the last box. Refuses a file that already carries a C2PA manifest (it is
    signed the ordinary way) and one whose boxes lie about their sizes."""
    try:
        boxes = top_level_boxes(f, size)
    except ValueError as e:
        raise EmbeddingUnavailable(str(e)) from None
    for box in boxes:
        if box.kind == b"uuid":
            f.seek(box.at + 8)
            if f.read(16) == C2PA_UUID:
                raise EmbeddingUnavailable("the file already carries a C2PA manifest")
    if len(boxes) > 1 and boxes[0].kind == b"ftyp" and boxes[1].kind == b"free":
        room = boxes[1].size - length
        if room == 0:
            return boxes[1].at, b""
        if room >= 8:
            return boxes[1].at, struct.pack(">I4s", room, b"free")
    return size, b""


def _manifest_store(box: bytes) -> bytes:
    """The JUMBF manifest store inside a signed C2PA uuid box (zero padding dropped):
    header, uuid, version/flags, "manifest" purpose, merkle offset, then the store."""
    start = 8 + 16 + 4 + len(b"manifest\0") + 8
    (length,) = struct.unpack(">I", box[start : start + 4])
    return box[start : start + length]


def embed_in_place(builder: c2pa.Builder, path: Path, mime_type: str) -> SignedFile:
    """Sign `path` in place: write the placeholder (`_placement`), hash once, patch the
    signed manifest over it. `builder`'s context must carry the signer. On any failure
    the file gets its original bytes back."""
    if mime_type not in BMFF_TYPES:
        raise EmbeddingUnavailable(f"{mime_type} is not an MP4 or MOV")
    lib, fmt = native(), mime_type.encode()
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        placeholder = lib.placeholder(builder, fmt)
        at, rest = _placement(f, size, len(placeholder))
        f.seek(at)
        saved = f.read(len(placeholder) + len(rest))  # what a failure puts back
        try:
            f.seek(at)
            f.write(placeholder + rest)
            f.flush()
            f.seek(0)
            with ThreadPoolExecutor(1, thread_name_prefix="sign-digest") as pool:
                # A box at the end follows every byte the digest needs: hash those beside
                # c2pa's hash. One near the start precedes them: hash after the patch.
                head = pool.submit(_hash_range, path, at) if at == size else None
                lib.update_hash(builder, fmt, f)
                box = lib.sign(builder, fmt)
                sha256 = head.result() if head is not None else None
            if len(box) != len(placeholder):
                raise EmbeddingError(
                    f"signed box is {len(box)} bytes, the placeholder {len(placeholder)}"
                )
            f.seek(at)
            f.write(box)
        except BaseException:
            f.seek(at)
            f.write(saved)
            f.truncate(size)
            raise
    if sha256 is None:
        sha256 = _hash_range(path, path.stat().st_size)
    else:
        sha256.update(box)
    return SignedFile(_manifest_store(box), sha256.hexdigest())

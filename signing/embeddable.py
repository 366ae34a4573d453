"""Single-pass signing of MP4/MOV: c2pa-rs's embeddable-manifest flow, bound thinly.

`Builder.sign` streams the asset through Python callbacks and writes a second copy of
it. c2pa-rs can instead compose a placeholder manifest, hash the asset in place, and
return a signed manifest of the placeholder's exact size to patch over it; c2pa-python
0.38 does not bind that flow, so this module binds its four calls against the
`libc2pa_c` that c2pa-python already loaded. A missing symbol or an untested c2pa
version is refused by name (`EmbeddingUnavailable`), and the caller falls back to
`Builder.sign`.

Where the manifest box goes: C2PA's BMFF embedding (A.5.3) puts it after `ftyp` and
before `moov` and the first `mdat`. Our MP4 writer reserves a `free` box right there
(media/mp4.py), so no byte of the asset moves (no chunk offset changes and the file is
not rewritten): the manifest takes the box's place, the rest of it staying a smaller
`free` box. A file without that room (an MP4 a remote backend muxed itself, or a
manifest bigger than the room) is given it first (`media.mp4.finish_mp4`, by the
caller); one whose layout that pass does not take is signed the ordinary way
(`Builder.sign`, which also puts the box after `ftyp`). Appending the box after the last
one instead validated in c2pa-rs and c2pa-ts, which do not check where it lies, but is
not what the specification allows.
"""

from __future__ import annotations

import ctypes
import hashlib
import struct
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


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def has_room(path: Path, length: int) -> bool:
    """Whether `path` can take a manifest box of `length` bytes where `_placement` puts
    one (and would not refuse it for anything else)."""
    with open(path, "rb") as f:
        try:
            _placement(f, f.seek(0, 2), length)
        except EmbeddingUnavailable:
            return False
    return True


def placeholder(builder: c2pa.Builder, mime_type: str) -> bytes:
    """The manifest box c2pa composes before hashing, of the signed one's exact size."""
    if mime_type not in BMFF_TYPES:
        raise EmbeddingUnavailable(f"{mime_type} is not an MP4 or MOV")
    return native().placeholder(builder, mime_type.encode())


def _placement(f: BinaryIO, size: int, length: int) -> tuple[int, bytes]:
    """Where a manifest box of `length` bytes goes, and what follows it there: into the
    `free` box right after `ftyp` (a smaller `free` box after it). Refuses a file without
    that room, one that already carries a C2PA manifest (it is signed the ordinary way)
    and one whose boxes lie about their sizes."""
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
    raise EmbeddingUnavailable("no room for the manifest right after ftyp")


def _manifest_store(box: bytes) -> bytes:
    """The JUMBF manifest store inside a signed C2PA uuid box (zero padding dropped):
    header, uuid, version/flags, "manifest" purpose, merkle offset, then the store."""
    start = 8 + 16 + 4 + len(b"manifest\0") + 8
    (length,) = struct.unpack(">I", box[start : start + 4])
    return box[start : start + length]


def embed_in_place(
    builder: c2pa.Builder, path: Path, mime_type: str, reserved: bytes
) -> SignedFile:
    """Sign `path` in place: write the `reserved` box (`placeholder`'s, where
    `_placement` says), hash once, patch the signed manifest over it. `builder`'s context
    must carry the signer. On any failure the file gets its original bytes back."""
    lib, fmt = native(), mime_type.encode()
    with open(path, "r+b") as f:
        size = f.seek(0, 2)
        at, rest = _placement(f, size, len(reserved))
        f.seek(at)
        saved = f.read(len(reserved) + len(rest))  # what a failure puts back
        try:
            f.seek(at)
            f.write(reserved + rest)
            f.flush()
            f.seek(0)
            lib.update_hash(builder, fmt, f)
            box = lib.sign(builder, fmt)
            if len(box) != len(reserved):
                raise EmbeddingError(
                    f"signed box is {len(box)} bytes, the placeholder {len(reserved)}"
                )
            f.seek(at)
            f.write(box)
        except BaseException:
            f.seek(at)
            f.write(saved)
            raise
    # The digest follows the box near the start: a second pass, after the patch.
    return SignedFile(_manifest_store(box), _sha256(path))

"""Media every front door must reach — held outputs and their ingredients, released and
kept outputs — kept in the database (`MediaStore`), read through a local cache file.

A front door that did not make a file fetches it on first use, so a request held by one
front door is reviewed, released and fetched through any other: nothing needs a shared
disk. Keys name what a file is ("held/<ticket>.mp4"); items recorded before media lived
in the database name an absolute path on this machine's disk, read where it is.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from safety.store.interface import MediaStore


class MediaGone(FileNotFoundError):
    """The media were deleted (after the retention period) or never kept."""


class SharedMedia:
    def __init__(self, store: MediaStore, cache_dir: Path) -> None:
        self.store = store
        self.cache_dir = cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)

    def keep(self, key: str, path: Path, move: bool = False) -> str:
        """Keep `path`'s bytes under `key` (durable when this returns); this front door's
        cache gets the file (moved there, or copied); returns the key."""
        local = self._cached(key)
        self.store.put_media(key, path)
        local.parent.mkdir(parents=True, exist_ok=True)
        if move:
            shutil.move(path, local)
        elif Path(path).resolve() != local:
            shutil.copyfile(path, local)
        return key

    def keep_bytes(self, key: str, data: bytes) -> str:
        local = self._cached(key)
        local.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(local, [data])
        self.store.put_media(key, local)
        return key

    def exists(self, key: str) -> bool:
        if _legacy(key):
            return Path(key).is_file()
        return self.store.media_size(key) is not None

    def size(self, key: str) -> int:
        if _legacy(key):
            return self.path(key).stat().st_size
        size = self.store.media_size(key)
        if size is None:
            raise MediaGone(f"media {key} are gone")
        return size

    def path(self, key: str) -> Path:
        """A local file with the bytes of `key`, fetched from the database if this front
        door has none; raises MediaGone when nothing is kept under it."""
        if _legacy(key):
            if not Path(key).is_file():
                raise MediaGone(f"media {key} are gone")
            return Path(key)
        local = self._cached(key)
        if local.is_file():
            return local
        if self.store.media_size(key) is None:
            raise MediaGone(f"media {key} are gone")
        local.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(local, self.store.read_media(key))
        return local

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def forget(self, key: str) -> None:
        """Delete what `key` holds, everywhere this front door can (other front doors'
        cache files go with their own purge)."""
        if not key:
            return
        if _legacy(key):
            Path(key).unlink(missing_ok=True)
            return
        self.store.delete_media(key)
        self._cached(key).unlink(missing_ok=True)

    def _cached(self, key: str) -> Path:
        local = (self.cache_dir / key).resolve()
        if not key or not local.is_relative_to(self.cache_dir.resolve()):
            raise ValueError(f"media key {key!r} leaves the media directory")
        return local


def _legacy(key: str) -> bool:
    return os.path.isabs(key)


def _write_atomically(path: Path, chunks) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

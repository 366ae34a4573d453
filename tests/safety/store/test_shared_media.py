"""Media kept in the database: any front door reads what another kept, in chunks, and a
key cannot name a file outside the media directory."""

from __future__ import annotations

import os

import pytest

from safety.store.shared_media import MediaGone, SharedMedia
from safety.store.sql import SqlStore
from safety.store.sql_media import MEDIA_CHUNK


def test_what_one_front_door_kept_another_reads(database_url, tmp_path):
    store_a, store_b = SqlStore(database_url), SqlStore(database_url)
    a, b = SharedMedia(store_a, tmp_path / "a"), SharedMedia(store_b, tmp_path / "b")
    data = os.urandom(2 * MEDIA_CHUNK + 123)  # three chunks
    src = tmp_path / "out.mp4"
    src.write_bytes(data)
    key = a.keep("held/t1.mp4", src, move=True)
    assert not src.exists() and (tmp_path / "a" / "held" / "t1.mp4").read_bytes() == data
    assert b.exists(key) and b.size(key) == len(data)
    assert b.path(key).read_bytes() == data  # fetched into b's cache
    assert b.path(key).is_relative_to(tmp_path / "b")
    b.forget(key)
    assert not a.exists(key)
    (tmp_path / "a" / "held" / "t1.mp4").unlink()  # a's cache file goes with its purge
    with pytest.raises(MediaGone):
        a.path(key)
    store_a.close()
    store_b.close()


@pytest.mark.parametrize("key", ["../../etc/passwd", "held/../../x", ""])
def test_a_key_cannot_leave_the_media_directory(tmp_path, key):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    media = SharedMedia(store, tmp_path / "media")
    with pytest.raises(ValueError, match="media key"):
        media.keep_bytes(key, b"x")
    assert store.media_size(key) is None
    store.close()


def test_an_item_from_before_media_lived_in_the_database_is_read_where_it_is(tmp_path):
    store = SqlStore(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    media = SharedMedia(store, tmp_path / "media")
    old = tmp_path / "held" / "abc.mp4"
    old.parent.mkdir()
    old.write_bytes(b"old held output")
    assert media.path(str(old)) == old and media.size(str(old)) == 15
    media.forget(str(old))
    assert not old.exists() and not media.exists(str(old))
    store.close()

"""Opening the one database for a front door, and folding an embedded install's older
two files into it on the way (legacy.py)."""

from __future__ import annotations

from pathlib import Path

from safety.store.interface import Store
from safety.store.legacy import adopt_review_database, import_legacy_store
from safety.store.sql import SqlStore

EMBEDDED_FILE = "reelguard.sqlite3"  # the embedded default's database, under the data dir


def open_store(
    url: str, *, data_dir: Path | None = None, origin: str = "", read_only: bool = False
) -> Store:
    """The store on the SQLAlchemy `url`, migrated (unless read-only); `origin` names this
    front door in the change feed. With `data_dir`, an embedded install whose `url` is its
    SQLite file, an older layout found there is folded in first."""
    embedded = data_dir / EMBEDDED_FILE if data_dir is not None else None
    fold = embedded is not None and url == f"sqlite:///{embedded}" and not read_only
    if fold:
        data_dir.mkdir(parents=True, exist_ok=True)
        adopt_review_database(data_dir, embedded)
    store = SqlStore(url, read_only=read_only, origin=origin)
    if fold:
        import_legacy_store(data_dir, embedded)
    return store

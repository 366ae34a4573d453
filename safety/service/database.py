"""Opening the one database for a front door, and folding an embedded install's older
two files into it on the way (safety/store/legacy.py)."""

from __future__ import annotations

from safety.service.config import Config
from safety.store.legacy import adopt_review_database, import_legacy_store
from safety.store.sql import SqlStore


def open_store(config: Config, origin: str = "", read_only: bool = False) -> SqlStore:
    """The service's store on `config.database`, migrated (unless read-only); `origin`
    names this front door in the change feed."""
    fold = config.uses_embedded_database and not read_only
    if fold:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        adopt_review_database(config.data_dir, config.embedded_database_path)
    store = SqlStore(config.database, read_only=read_only, origin=origin)
    if fold:
        import_legacy_store(config.data_dir, config.embedded_database_path)
    return store

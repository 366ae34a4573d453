"""Folding an embedded install's two SQLite files into the one database, once.

Before everything lived in one database, a data dir held `reelguard.db` (the store,
schema by PRAGMA user_version) and `review.db` (review queue, audit log, allowlist).
On the first start of this version the review database becomes the one database (its
migrations continue where they were) and the store's rows are copied into it in one
transaction; the old store is then renamed `reelguard.db.imported`, never deleted.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

LEGACY_STORE, LEGACY_REVIEW = "reelguard.db", "review.db"
LEGACY_STORE_VERSION = 9  # the last user_version the separate store had
# In this order (foreign keys point up the list); rowid order within each table.
LEGACY_TABLES = (
    "identities",
    "identity_references",
    "grants",
    "decisions",
    "manifest_repository",
    "hash_banks",
    "bank_entries",
    "idempotency",
    "clients",
)


def adopt_review_database(data_dir: Path, target: Path) -> None:
    """Before the one database is opened: a legacy review database becomes it."""
    review = data_dir / LEGACY_REVIEW
    if target.exists() or not review.exists():
        return
    with sqlite3.connect(review) as db:  # its WAL into the main file, so one file moves
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    review.rename(target)
    for suffix in ("-wal", "-shm"):
        Path(f"{review}{suffix}").unlink(missing_ok=True)
    log.warning("%s is now the service's one database, %s", review, target)


def import_legacy_store(data_dir: Path, target: Path) -> int:
    """After it is migrated: copy a legacy store's rows in; returns how many."""
    legacy = data_dir / LEGACY_STORE
    if not legacy.exists():
        return 0
    with sqlite3.connect(legacy) as old:
        (version,) = old.execute("PRAGMA user_version").fetchone()
        old.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file that moves
    if version != LEGACY_STORE_VERSION:
        raise RuntimeError(
            f"{legacy} has store schema {version}; this reelguard imports version "
            f"{LEGACY_STORE_VERSION}: start the reelguard release before this one on it once"
        )
    copied = 0
    db = sqlite3.connect(target, isolation_level=None)
    try:
        db.execute("ATTACH DATABASE ? AS legacy", (str(legacy),))
        db.execute("BEGIN IMMEDIATE")
        for table in LEGACY_TABLES:
            ours = {r[1] for r in db.execute(f"PRAGMA main.table_info({table})")}
            theirs = [r[1] for r in db.execute(f"PRAGMA legacy.table_info({table})")]
            columns = ", ".join(c for c in theirs if c in ours)
            copied += db.execute(
                f"INSERT INTO main.{table} ({columns}) "
                f"SELECT {columns} FROM legacy.{table} ORDER BY rowid"
            ).rowcount
        db.execute("COMMIT")
        db.execute("DETACH DATABASE legacy")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.close()
    legacy.rename(legacy.with_name(LEGACY_STORE + ".imported"))
    for suffix in ("-wal", "-shm"):
        Path(f"{legacy}{suffix}").unlink(missing_ok=True)
    log.warning("imported %d row(s) of %s into %s", copied, legacy, target)
    return copied

"""An embedded install from before everything lived in one database: its review
database becomes the one database, the store's rows are copied in, nothing is lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from safety.service.config import Config
from safety.store.audit import AuditLog
from safety.store.database import MIGRATIONS, schema_version, write_transaction
from safety.store.opening import open_store

LEGACY_STORE_SQL = Path(__file__).parent / "data" / "legacy_v9.sql"


def legacy_data_dir(data_dir: Path) -> None:
    """reelguard.db at store schema 9 and review.db at review schema 3, with rows."""
    with sqlite3.connect(data_dir / "reelguard.db") as db:
        db.executescript(LEGACY_STORE_SQL.read_text())
        db.execute("INSERT INTO identities VALUES ('id1', 'Ada', '[]', 1.0, 'Q7259')")
        db.execute(
            "INSERT INTO identity_references (vector_id, identity_id, image_sha256, created_at,"
            " embedding) VALUES (7, 'id1', 'h1', 1.0, ?)",
            (b"\0" * 16,),
        )
        db.execute(
            "INSERT INTO clients (id, name, tenant, role, token_sha256, created_at)"
            " VALUES ('c1', 'admin', '*', 'admin', 'abc', 1.0)"
        )
        db.execute(
            "INSERT INTO manifest_repository VALUES"
            " ('m1', 'com.meta.pdq', '[]', x'00', 'video/mp4', 1)"
        )
    engine = sa.create_engine(f"sqlite:///{data_dir / 'review.db'}")
    with write_transaction(engine) as conn:
        schema_version.create(conn)
        for number, step in enumerate(MIGRATIONS[:3], start=1):
            step(conn)
            conn.execute(schema_version.insert().values(version=number))
    AuditLog(engine).record("reviewer", "review.approve", "t", "ticket-1", {"i": 1})
    engine.dispose()


def test_a_legacy_install_folds_into_one_database(tmp_path):
    legacy_data_dir(tmp_path)
    store = open_store(Config(data_dir=tmp_path).database, data_dir=tmp_path)
    try:
        assert [i.name for i in store.identities()] == ["Ada"]
        assert store.identity_for_vector(7) == ("id1", "Ada")
        assert store.client_by_token("abc").role == "admin"
        assert store.manifest_record("m1").mime_type == "video/mp4"
        verified = store.audit.verify()
        assert verified.ok and verified.entries == 1  # the review database's chain, intact
        # New vector ids never reuse an imported one.
        _, ids = store.add_identity("Bo", [], "", [("h2", [0.0] * 4)])
        assert ids[0] > 7
    finally:
        store.close()
    assert not (tmp_path / "review.db").exists() and not (tmp_path / "reelguard.db").exists()
    assert (tmp_path / "reelguard.db.imported").exists()
    again = open_store(
        Config(data_dir=tmp_path).database, data_dir=tmp_path
    )  # a second start imports nothing again
    assert len(again.identities()) == 2
    again.close()


def test_a_legacy_store_of_an_older_schema_is_refused_untouched(tmp_path):
    with sqlite3.connect(tmp_path / "reelguard.db") as db:
        db.execute("CREATE TABLE identities (id TEXT)")
        db.execute("PRAGMA user_version=4")
    with pytest.raises(RuntimeError, match="store schema 4.*release before this one"):
        open_store(Config(data_dir=tmp_path).database, data_dir=tmp_path)
    assert (tmp_path / "reelguard.db").exists()

"""What only the SQL store has to prove, on a SQLite file and on a fresh PostgreSQL
database (the `database_url` fixture): migrations, durability across reopening,
read-only readers, transactions. What every store promises is test_conformance.py."""

import sqlite3

import pytest
import sqlalchemy as sa

from safety.store.database import MIGRATIONS
from safety.store.records import AuditEntry
from safety.store.sql import SqlStore
from safety.verdict import Action, Finding, Stage, Verdict


def test_decisions_are_durable_with_evidence(database_url):
    store = SqlStore(database_url)
    verdict = Verdict(
        Action.BLOCK,
        Stage.PRE_CHECK,
        "p@1",
        reasons=[Finding("likeness", "public_figure", "input_image", 0.97, identity_name="X")],
    )
    store.record_decision("d1", "r1", "tenant-a", verdict)
    store.close()

    reopened = SqlStore(database_url)  # migrations are not re-applied
    record = reopened.decision("d1")
    assert record["tenant"] == "tenant-a" and record["action"] == "block"
    assert record["evidence"]["reasons"][0]["identity_name"] == "X"
    assert reopened.decision("nope") is None
    with reopened.engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        if reopened.dialect == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    reopened.close()


def test_a_decision_and_its_audit_entry_commit_together_or_not_at_all(database_url):
    store = SqlStore(database_url)
    allow = Verdict(Action.ALLOW, Stage.PRE_CHECK, "p@1")
    store.record_decision("d1", "r1", "t", allow, "", AuditEntry("rg", "decision", "t", "d1", {}))
    with store.engine.begin() as conn:  # the audit append will fail (no chain head)
        conn.execute(sa.text("DELETE FROM audit_head"))
    with pytest.raises(sa.exc.NoResultFound):
        store.record_decision(
            "d2", "r2", "t", allow, "", AuditEntry("rg", "decision", "t", "d2", {})
        )
    assert store.decision("d2") is None  # the decision went with its entry
    assert store.decision_ids() == ["d1"]


def test_read_only_store_reads_and_refuses_writes(database_url):
    writer = SqlStore(database_url)
    writer.record_decision("d1", "r1", "tenant-a", Verdict(Action.ALLOW, Stage.PRE_CHECK, "p@1"))
    reader = SqlStore(database_url, read_only=True)  # beside the running service
    assert reader.decision("d1")["tenant"] == "tenant-a"
    with pytest.raises(sa.exc.DBAPIError, match="(?i)read-?only"):
        reader.record_decision("d2", "r2", "tenant-a", Verdict(Action.ALLOW, Stage.PRE_CHECK, "p"))
    reader.close()
    writer.close()
    reader = SqlStore(database_url, read_only=True)  # the service stopped: still unchanged
    assert reader.decision("d1") is not None and reader.decision("d2") is None
    reader.close()


def test_read_only_store_never_creates_or_migrates(tmp_path):
    with pytest.raises(sa.exc.OperationalError):
        SqlStore(f"sqlite:///{tmp_path / 'missing.sqlite'}", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (1)")
    with pytest.raises(RuntimeError, match="schema version 1.*start `reelguard serve`"):
        SqlStore(f"sqlite:///{old}", read_only=True)
    with sqlite3.connect(old) as db:
        assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == 1


def test_front_doors_starting_together_migrate_once(postgres):
    """Several front doors start on an empty database at once: one applies the
    migrations (an advisory lock), the others wait and find them applied."""
    import threading

    url = postgres.fresh_database("migrate_together")
    opened, failed = [], []

    def start():
        try:
            opened.append(SqlStore(url))
        except Exception as e:  # noqa: BLE001  (what a racing start would raise)
            failed.append(e)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failed and len(opened) == 4
    with opened[0].engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version FROM schema_version")).scalars().all()
    assert sorted(versions) == list(range(1, len(MIGRATIONS) + 1))
    for store in opened:
        store.close()


def test_restarts_of_a_front_door_add_no_heartbeat_rows(database_url):
    for run in ("run-1", "run-2", "run-3"):
        SqlStore(database_url, origin=f"host:/data#{run}").heartbeat()
    SqlStore(database_url, origin="other:/data#run-1").heartbeat()
    store = SqlStore(database_url)
    with store.engine.connect() as conn:
        doors = conn.execute(sa.text("SELECT id FROM heartbeat ORDER BY id")).scalars().all()
    assert doors == ["host:/data", "other:/data"]


def test_clients_that_shared_a_certificate_subject_keep_only_the_oldest(tmp_path):
    """Before migration 5 the newest client bound to a subject won; the migration
    leaves the subject to the oldest and revokes the others."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    store = SqlStore(url)
    first = store.add_client("ops", "*", "admin", None, "CN=ops")
    with store.engine.begin() as conn:  # as a database before the unique index held it
        conn.execute(sa.text("DROP INDEX ux_clients_cert_subject"))
        conn.execute(
            sa.text(
                "INSERT INTO clients (id, name, tenant, role, cert_subject, created_at) "
                "VALUES ('copy', 'copy', 'studio-a', 'generator-client', 'CN=ops', :t)"
            ),
            {"t": first.created_at + 1},
        )
        conn.execute(sa.text("DELETE FROM schema_version WHERE version >= 5"))
    store.close()
    store = SqlStore(url)
    assert store.client_by_subject("CN=ops").id == first.id
    assert store.client("copy").revoked_at is not None
    assert MIGRATIONS[4].__name__ == "_v5"


def test_the_signers_database_role_uses_an_authorization_and_can_do_nothing_else(postgres):
    """A signer replica's credential (the `reelguard_signer` role of deploy/kuberay):
    it uses up an authorization; it can neither write one, nor change what one names,
    nor read the decisions."""
    import time

    from safety.store.records import SigningAuthorization
    from safety.store.sql_signing import SIGNER_ROLE, SignerAuthorizations

    admin = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sa.text(f"SELECT 1 FROM pg_roles WHERE rolname = '{SIGNER_ROLE}'"))
        if not exists.first():
            conn.execute(sa.text(f"CREATE ROLE {SIGNER_ROLE} LOGIN"))
    admin.dispose()
    url = postgres.fresh_database(f"signer_{time.time_ns()}")
    store = SqlStore(url)  # a front door starts: the role gets its grants
    store.authorize_signing(SigningAuthorization("d1", "t", "bytes", "spec", time.time()))
    signer = SignerAuthorizations(url.replace("://postgres@", f"://{SIGNER_ROLE}@"))
    try:
        assert signer.use_signing_authorization("d1", "bytes", "spec")
        assert not signer.use_signing_authorization("d1", "bytes", "spec")
        for forbidden in (
            "INSERT INTO signing_authorizations VALUES ('d2', 't', 'mine', 'mine', 0, NULL)",
            "UPDATE signing_authorizations SET content_sha256 = 'mine', used_at = NULL",
            "SELECT evidence FROM decisions",
        ):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                with signer.engine.begin() as conn:
                    conn.execute(sa.text(forbidden))
    finally:
        signer.close()
        store.close()

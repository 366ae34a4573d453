"""The store on both backends: every test runs on a SQLite file and on a fresh
PostgreSQL database (the `database_url` fixture)."""

import sqlite3
import time

import numpy as np
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


def test_identities_references_and_removal(database_url):
    store = SqlStore(database_url)
    e1, e2 = np.ones(4, np.float32), np.arange(4, dtype=np.float32)
    record, vector_ids = store.add_identity("Ada", ["Countess"], "Q7259", [("h1", e1), ("h2", e2)])
    assert record.reference_count == 2 and len(set(vector_ids)) == 2
    assert store.identity_for_vector(vector_ids[1]) == (record.id, "Ada")
    assert store.identity_for_vector(999) is None
    assert store.reference_owner("h2") == record.id and store.reference_owner("h3") is None
    shown = store.identity(record.id)
    assert shown.external_id == "Q7259" and [r.image_sha256 for r in shown.references] == [
        "h1",
        "h2",
    ]
    ids, vectors = store.reference_vectors()
    assert list(ids) == vector_ids and np.array_equal(vectors[1], e2)

    grant = store.add_grant("t", record.id, ["video"], "agent", None)
    assert sorted(store.remove_identity(record.id)) == sorted(vector_ids)
    assert store.identity(record.id) is None and store.identities() == []
    assert len(store.reference_vectors()[0]) == 0
    revoked = store.grants(identity_id=record.id)[0]
    assert revoked.id == grant.id and revoked.revoked_by == "identity removed"


def test_a_reference_image_belongs_to_one_identity(database_url):
    store = SqlStore(database_url)
    store.add_identity("A", [], "", [("same", np.ones(4))])
    with pytest.raises(sa.exc.IntegrityError):
        store.add_identity("B", [], "", [("same", np.ones(4))])
    assert [i.name for i in store.identities()] == ["A"]  # the failed insert left nothing


def test_grants_revoke_and_expiry(database_url):
    store = SqlStore(database_url)
    g = store.add_grant("tenant-a", "id1", ["video", "image"], "legal@studio", time.time() + 60)
    assert g.active(time.time()) and not g.active(time.time() + 120)
    assert store.grants(tenant="tenant-b") == []
    revoked = store.revoke_grant(g.id, "ops")
    assert revoked.revoked_by == "ops" and not revoked.active(time.time())
    assert store.revoke_grant(g.id, "again").revoked_by == "ops"  # idempotent
    assert store.revoke_grant("nope", "x") is None


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


def test_an_idempotency_claim_whose_owner_died_is_taken_over_after_its_lease(database_url):
    store = SqlStore(database_url)
    assert store.claim_idempotency("t", "k", "body", "req-a", "door-1#run-a", 0.2) is None
    running = store.claim_idempotency("t", "k", "body", "req-b", "door-2#run-b", 0.2)
    assert running is not None and running.terminal is None  # still held: Busy for the caller
    time.sleep(0.3)  # door-1 was killed: its lease ran out
    other = store.claim_idempotency("t", "k", "another body", "req-c", "door-2#run-b", 0.2)
    assert other is not None and other.request_sha256 == "body"  # a key stays bound to its body
    assert store.claim_idempotency("t", "k", "body", "req-b", "door-2#run-b", 60) is None
    store.finish_idempotency("t", "k", b"late", "", "door-1#run-a")  # the dead owner's write
    store.finish_idempotency("t", "k", b"done", "/out.mp4", "door-2#run-b")
    replay = store.claim_idempotency("t", "k", "body", "req-d", "door-3#run-c", 60)
    assert (replay.request_id, replay.terminal) == ("req-b", b"done")


def test_a_restarted_front_door_frees_only_its_own_last_runs_claims(database_url):
    store = SqlStore(database_url)
    store.claim_idempotency("t", "mine", "b", "r1", "host:/data#old-run", 3600)
    store.claim_idempotency("t", "theirs", "b", "r2", "other:/data#run", 3600)
    store.claim_idempotency("t", "now", "b", "r3", "host:/data#new-run", 3600)
    assert store.release_claims_of("host:/data#", "host:/data#new-run") == 1
    assert store.claim_idempotency("t", "mine", "b", "r4", "host:/data#new-run", 60) is None
    assert store.claim_idempotency("t", "theirs", "b", "r5", "host:/data#new-run", 60) is not None
    assert store.claim_idempotency("t", "now", "b", "r6", "host:/data#new-run", 60) is not None


def test_finished_keys_expire_with_their_outputs_unfinished_ones_do_not(database_url):
    store = SqlStore(database_url)
    store.claim_idempotency("t", "done", "b", "r1", "door#run", 60)
    store.finish_idempotency("t", "done", b"ev", "/kept/r1.mp4", "door#run")
    store.claim_idempotency("t", "running", "b", "r2", "door#run", 60)
    assert store.expire_idempotency(time.time() - 60) == []  # not old enough yet
    assert store.expire_idempotency(time.time() + 1) == ["/kept/r1.mp4"]
    assert store.claim_idempotency("t", "done", "b", "r3", "door#run", 60) is None  # anew
    assert store.claim_idempotency("t", "running", "b", "r4", "door#run", 60) is not None


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

"""The hash-chained audit log on SQLite and PostgreSQL: intact chains verify; an edited,
deleted or cut-off entry is found and named."""

from __future__ import annotations

import json
import threading

import sqlalchemy as sa

from safety.store.audit import AuditLog
from safety.store.database import open_engine
from safety.store.schema import audit_log
from tests.support import cli


def filled(url: str, n: int = 10) -> AuditLog:
    log = AuditLog(open_engine(url))
    for i in range(n):
        log.record("reviewer-1", "review.approve", "studio-a", f"ticket-{i}", {"i": i, "note": "é"})
    return log


def test_an_intact_chain_verifies(database_url):
    log = filled(database_url)
    result = log.verify()
    assert result.ok and result.entries == 10 and len(result.head_hash) == 64


def test_an_edited_entry_is_named(database_url):
    log = filled(database_url)
    with log.engine.begin() as conn:
        conn.execute(
            audit_log.update().where(audit_log.c.seq == 4).values(body=json.dumps({"i": 99}))
        )
    result = log.verify()
    assert not result.ok and result.broken_seq == 4 and "changed" in result.why
    assert result.entries == 3


def test_a_deleted_entry_is_named(database_url):
    log = filled(database_url)
    with log.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq == 7))
    result = log.verify()
    assert not result.ok and result.broken_seq == 7 and "missing" in result.why


def test_a_cut_off_tail_is_found(database_url):
    log = filled(database_url)
    with log.engine.begin() as conn:
        conn.execute(audit_log.delete().where(audit_log.c.seq >= 9))
    result = log.verify()
    assert not result.ok and result.broken_seq == 9 and "after 8" in result.why


def test_a_rehashed_forgery_still_breaks_the_next_link(database_url):
    """Recomputing an edited entry's own hash doesn't help: the next entry links to the old one."""
    from safety.store.audit_chain import entry_hash

    log = filled(database_url)
    with log.engine.begin() as conn:
        row = conn.execute(sa.select(audit_log).where(audit_log.c.seq == 5)).one()
        body = json.dumps({"i": 5, "note": "forged"})
        forged = entry_hash(
            row.prev_hash, 5, row.at_us, row.actor, row.kind, row.tenant, row.subject, body
        )
        conn.execute(audit_log.update().where(audit_log.c.seq == 5).values(body=body, hash=forged))
    result = log.verify()
    assert not result.ok and result.broken_seq == 6 and "link" in result.why


def test_concurrent_writers_never_fork_the_chain(database_url):
    log = AuditLog(open_engine(database_url))
    # Two logs over the same database: separate process-locks, as two processes would have.
    other = AuditLog(open_engine(database_url))

    def write(target, who):
        for i in range(25):
            target.record(who, "decision", "t", f"{who}-{i}", {"i": i})

    threads = [threading.Thread(target=write, args=(t, w)) for t, w in ((log, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = log.verify()
    assert result.ok and result.entries == 50


def test_cli_verify_and_export(tmp_path):
    url = f"sqlite:///{tmp_path / 'reelguard.sqlite3'}"
    filled(url, 5)
    ok = cli("audit", "--database", url, "verify")
    assert ok.returncode == 0 and "5 entries" in ok.stdout
    out = tmp_path / "audit.jsonl"
    exported = cli("audit", "--database", url, "export", "--out", out)
    assert exported.returncode == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5] and lines[0]["body"]["note"] == "é"
    assert all(len(e["hash"]) == 64 and e["prev_hash"] for e in lines)
    engine = open_engine(url)
    with engine.begin() as conn:
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(actor="someone-else"))
    broken = cli("audit", "--database", url, "verify")
    assert broken.returncode == 1 and "entry 2" in broken.stderr
    missing = cli("audit", "--database", f"sqlite:///{tmp_path / 'nope.db'}", "verify")
    assert missing.returncode != 0 and "no database at" in missing.stderr


def test_verify_names_a_decision_that_has_no_audit_entry(tmp_path):
    """A decision whose audit write failed (the recorder logs it and goes on) left no
    trace in the chain, which still verified: now the decisions are checked against it."""
    from reelguard.v1 import reelguard_pb2 as pb
    from safety.verdict import Action, Stage, Verdict
    from tests.support import Running, make_config

    r = Running(make_config(tmp_path))
    try:
        r.moderation.Check(pb.CheckRequest(prompt="a lighthouse at dusk"))
        args = ["audit", "--database", r.config.database, "verify"]
        ok = cli(*args)
        assert ok.returncode == 0 and "every decision (1) has its audit entry" in ok.stdout
        unrecorded = Verdict(Action.ALLOW, Stage.PRE_CHECK, "p")
        r.service.store.record_decision("d-without-entry", "req", "t", unrecorded)
        broken = cli(*args)
        assert broken.returncode == 1
        assert "1 of 2 decision(s) have no audit entry: d-without-entry" in broken.stderr
    finally:
        r.close()

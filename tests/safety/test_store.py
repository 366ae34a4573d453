import sqlite3

from safety.store import MIGRATIONS, SQLiteStore
from safety.verdict import Action, Finding, Stage, Verdict


def test_decisions_are_durable_with_evidence_in_wal_mode(tmp_path):
    path = tmp_path / "db.sqlite"
    store = SQLiteStore(path)
    verdict = Verdict(
        Action.BLOCK,
        Stage.PRE_CHECK,
        "p@1",
        reasons=[Finding("likeness", "public_figure", "input_image", 0.97, identity_name="X")],
    )
    store.record_decision("d1", "r1", "tenant-a", verdict)
    store.close()

    reopened = SQLiteStore(path)  # migrations are not re-applied
    record = reopened.decision("d1")
    assert record["tenant"] == "tenant-a" and record["action"] == "block"
    assert record["evidence"]["reasons"][0]["identity_name"] == "X"
    assert reopened.decision("nope") is None
    reopened.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_identities_and_their_vectors(tmp_path):
    store = SQLiteStore(tmp_path / "db.sqlite")
    record, vector_ids = store.add_identity("Ada", ["Countess"], ["h1", "h2"])
    assert record.reference_count == 2 and len(set(vector_ids)) == 2
    assert store.identity_for_vector(vector_ids[1]) == (record.id, "Ada")
    assert store.identity_for_vector(999) is None
    assert [i.name for i in store.identities()] == ["Ada"]

"""What every store promises (safety/store/interface.py), on every backend: in memory,
a SQLite file and a fresh PostgreSQL database. A backend that differs fails here."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest
import sqlalchemy as sa

from indexes.hashbank import Bank
from indexes.manifests import ManifestRecord
from safety.store.records import AuditEntry, Clearance, DuplicateCredential
from safety.verdict import Action, Finding, Stage, Verdict

# What a write that breaks a uniqueness rule raises (and changes nothing).
REFUSED = (ValueError, sa.exc.IntegrityError)


def entry(subject: str, **body) -> AuditEntry:
    return AuditEntry("tester", "test", "t", subject, body)


def verdict(action=Action.ALLOW, specialist=False) -> Verdict:
    finding = Finding("likeness", "public_figure", "input_image", 0.97, identity_name="X")
    if specialist:
        finding.specialist = True
    return Verdict(action, Stage.PRE_CHECK, "p@1", reasons=[finding], findings=[finding])


def test_decisions_keep_their_evidence_newest_first(store):
    store.record_decision("d1", "r1", "tenant-a", verdict(Action.BLOCK))
    time.sleep(0.01)
    store.record_decision("d2", "r2", "tenant-b", verdict(specialist=True), "sha", entry("d2"))
    record = store.decision("d1")
    assert record["tenant"] == "tenant-a" and record["action"] == "block"
    assert record["evidence"]["reasons"][0]["identity_name"] == "X"
    assert store.decision("nope") is None
    assert [d["id"] for d in store.decisions()] == ["d2", "d1"]
    assert [d["id"] for d in store.decisions(tenant="tenant-a")] == ["d1"]
    assert [d["id"] for d in store.decisions(specialist=True)] == ["d2"]
    assert "evidence" not in store.decisions()[0] and store.decisions(limit=1)[0]["id"] == "d2"
    assert sorted(store.decision_ids()) == ["d1", "d2"]
    with pytest.raises(REFUSED):  # append-only: an id is recorded once
        store.record_decision("d1", "r9", "tenant-a", verdict())
    assert store.decision("d1")["request_id"] == "r1"
    store.heartbeat()


def test_the_audit_chain_verifies_and_exports(store):
    store.record_decision("d1", "r1", "t", verdict(), "", entry("d1"))
    store.append_audit(entry("bank", added=3))
    seq = store.audit.record("tester", "note", "other", "x", {"why": "because"})
    assert seq == 3
    result = store.audit.verify()
    assert result.ok and result.entries == 3
    assert [e["subject"] for e in store.audit.entries()] == ["d1", "bank", "x"]
    assert [e["subject"] for e in store.audit.entries("other")] == ["x"]
    out = io.StringIO()
    assert store.audit.export(out, "t") == 2
    assert json.loads(out.getvalue().splitlines()[1])["body"] == {"added": 3}


def test_identities_references_and_removal(store):
    e1, e2 = np.ones(4, np.float32), np.arange(4, dtype=np.float32)
    record, vector_ids = store.add_identity("Ada", ["Countess"], "Q7259", [("h1", e1), ("h2", e2)])
    assert record.reference_count == 2 and len(set(vector_ids)) == 2
    assert store.identity_for_vector(vector_ids[1]) == (record.id, "Ada")
    assert store.identity_for_vector(999_999) is None
    assert store.reference_owner("h2") == record.id and store.reference_owner("h3") is None
    shown = store.identity(record.id)
    assert shown.external_id == "Q7259" and shown.aliases == ["Countess"]
    assert [r.image_sha256 for r in shown.references] == ["h1", "h2"]
    assert [i.name for i in store.identities()] == ["Ada"]
    ids, vectors = store.reference_vectors()
    assert list(ids) == vector_ids and np.array_equal(vectors[1], e2)
    assert list(store.reference_vector_ids()) == vector_ids
    assert list(store.reference_vectors([vector_ids[0]])[0]) == vector_ids[:1]
    store.set_reference_face(vector_ids[0], b"jpeg")
    assert store.reference_face(record.id) == b"jpeg"

    grant = store.add_grant("t", record.id, ["video"], "agent", None)
    assert sorted(store.remove_identity(record.id)) == sorted(vector_ids)
    assert store.identity(record.id) is None and store.identities() == []
    assert len(store.reference_vectors()[0]) == 0 and len(store.reference_vector_ids()) == 0
    revoked = store.grants(identity_id=record.id)[0]
    assert revoked.id == grant.id and revoked.revoked_by == "identity removed"


def test_a_reference_image_belongs_to_one_identity(store):
    store.add_identity("A", [], "", [("same", np.ones(4))])
    with pytest.raises(REFUSED):
        store.add_identity("B", [], "", [("same", np.ones(4))])
    assert [i.name for i in store.identities()] == ["A"]  # the failed insert left nothing


def test_grants_revoke_and_expiry(store):
    g = store.add_grant("tenant-a", "id1", ["video", "image"], "legal@studio", time.time() + 60)
    assert g.active(time.time()) and not g.active(time.time() + 120)
    assert store.grants(tenant="tenant-b") == []
    assert [x.id for x in store.grants(tenant="tenant-a")] == [g.id]
    revoked = store.revoke_grant(g.id, "ops")
    assert revoked.revoked_by == "ops" and not revoked.active(time.time())
    assert store.revoke_grant(g.id, "again").revoked_by == "ops"  # idempotent
    assert store.revoke_grant("nope", "x") is None


def test_an_idempotency_claim_whose_owner_died_is_taken_over_after_its_lease(store):
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


def test_a_restarted_front_door_frees_only_its_own_last_runs_claims(store):
    store.claim_idempotency("t", "mine", "b", "r1", "host:/data#old-run", 3600)
    store.claim_idempotency("t", "theirs", "b", "r2", "other:/data#run", 3600)
    store.claim_idempotency("t", "now", "b", "r3", "host:/data#new-run", 3600)
    assert store.release_claims_of("host:/data#", "host:/data#new-run") == 1
    assert store.claim_idempotency("t", "mine", "b", "r4", "host:/data#new-run", 60) is None
    assert store.claim_idempotency("t", "theirs", "b", "r5", "host:/data#new-run", 60) is not None
    assert store.claim_idempotency("t", "now", "b", "r6", "host:/data#new-run", 60) is not None
    store.release_idempotency("t", "now", "host:/data#new-run")  # the stream died
    assert store.claim_idempotency("t", "now", "b", "r7", "host:/data#new-run", 60) is None


def test_finished_keys_expire_with_their_outputs_unfinished_ones_do_not(store):
    store.claim_idempotency("t", "done", "b", "r1", "door#run", 60)
    store.finish_idempotency("t", "done", b"ev", "/kept/r1.mp4", "door#run")
    store.claim_idempotency("t", "running", "b", "r2", "door#run", 60)
    assert store.expire_idempotency(time.time() - 60) == []  # not old enough yet
    assert store.expire_idempotency(time.time() + 1) == ["/kept/r1.mp4"]
    assert store.claim_idempotency("t", "done", "b", "r3", "door#run", 60) is None  # anew
    assert store.claim_idempotency("t", "running", "b", "r4", "door#run", 60) is not None


def test_changes_are_numbered_in_order_with_their_origin(store):
    start = store.last_change()
    _, ids = store.add_identity("A", [], "", [("h", np.ones(4))])
    store.add_bank(Bank("known", 31, "test"))
    changes = store.changes_after(start)
    assert [c.kind for c in changes] == ["identity_added", "banks"]
    assert changes[0].body["vectors"] == ids and {c.origin for c in changes} == {"door#run"}
    assert [c.seq for c in changes] == sorted(c.seq for c in changes)
    assert store.last_change() == changes[-1].seq
    assert store.changes_after(changes[-1].seq) == []
    store.wait_for_change(0.01)  # returns: by a notification or the timeout


def test_hash_banks_keep_each_hash_once(store):
    store.add_bank(Bank("known", 31, "test", csam=False))
    store.add_bank(Bank("ncmec", 31, "hashes only", csam=True))
    assert [(b.name, b.csam) for b in store.banks()] == [("known", False), ("ncmec", True)]
    ids = store.add_bank_entries("known", ["a" * 64, "b" * 64], "m1", "note")
    assert len(ids) == 2 and store.add_bank_entries("known", ["a" * 64], "m2", "") == []
    assert [(e.bank, e.hash, e.media_id) for e in store.bank_entries()][0] == (
        "known",
        "a" * 64,
        "m1",
    )
    assert store.remove_bank_entry(ids[0]) and not store.remove_bank_entry(ids[0])
    assert [e.id for e in store.bank_entries()] == ids[1:]


def test_bank_entries_are_read_as_arrays_counted_and_looked_up_one_at_a_time(store):
    store.add_bank(Bank("known", 31, "", csam=False))
    store.add_bank(Bank("other", 20, "", csam=False))
    known = store.add_bank_entries("known", ["0" * 64, "f" * 64], "m1", "n")
    other = store.add_bank_entries("other", ["1" * 64], "m2", "")
    hashes = store.bank_hashes()
    assert sorted(hashes) == ["known", "other"]
    ids, rows = hashes["known"]
    assert list(ids) == known and rows.shape == (2, 32) and rows.dtype == np.uint8
    assert rows[0].sum() == 0 and (rows[1] == 255).all()
    assert list(store.bank_hashes("other")) == ["other"] and store.bank_hashes("none") == {}
    # Only the entries named (what a change takes on), of the bank asked, oldest first.
    named = store.bank_hashes("known", [known[1], other[0], known[0], 10**9])
    assert list(named) == ["known"] and list(named["known"][0]) == known
    assert store.bank_hashes(None, [other[0]])["other"][0].tolist() == other
    assert store.bank_hashes("known", []) == {}
    assert store.bank_counts() == {"known": 2, "other": 1}
    assert store.bank_entry(other[0]).media_id == "m2" and store.bank_entry(10**9) is None
    assert [e.id for e in store.bank_entries(media_id="m1")] == known


def test_manifests_are_found_by_id_prefix_and_followed_by_sequence(store):
    first = ManifestRecord("ab12" + "0" * 28, "com.meta.pdq", ["f" * 64], b"m1", "video/mp4")
    second = ManifestRecord("cd34" + "0" * 28, "com.meta.pdq", ["e" * 64], b"m2", "image/png")
    store.add_manifest_record(first)
    store.add_manifest_record(second)
    rows = store.manifest_fingerprints(0)
    assert [r.manifest_id for r in rows] == [first.manifest_id, second.manifest_id]
    assert store.manifest_fingerprints(rows[0].seq)[0].manifest_id == second.manifest_id
    assert store.manifest_record(second.manifest_id).manifest == b"m2"
    assert store.manifest_record_by_prefix("ab12").manifest_id == first.manifest_id
    assert store.manifest_record_by_prefix("zz") is None and store.manifest_record("x") is None
    store.add_manifest_record(first)  # a resumed release re-signs under the same id
    assert store.manifest_fingerprints(rows[-1].seq)[0].manifest_id == first.manifest_id


def test_media_bytes_are_kept_read_in_chunks_and_deleted(store, tmp_path):
    data = bytes(range(256)) * 9000  # over one chunk
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    digest = store.put_media("held/x.mp4", path)
    assert store.media_size("held/x.mp4") == len(data)
    assert b"".join(store.read_media("held/x.mp4")) == data
    import hashlib

    assert digest == hashlib.sha256(data).hexdigest()
    assert store.delete_media("held/x.mp4") and not store.delete_media("held/x.mp4")
    assert store.media_size("held/x.mp4") is None and list(store.read_media("held/x.mp4")) == []


def test_clients_sessions_and_shared_secrets(store):
    a = store.add_client("studio", "tenant-a", "generator_client", "t" * 64, "")
    b = store.add_client("door", "*", "admin", None, "CN=door")
    assert store.client_by_token("t" * 64).id == a.id and store.client_by_token("x") is None
    assert store.client_by_subject("CN=door").id == b.id and store.client_by_subject("") is None
    assert [c.id for c in store.clients()] == [a.id, b.id]
    assert store.revoke_client(b.id).revoked_at is not None
    assert store.client_by_subject("CN=door") is None and store.client(b.id).revoked_at
    assert store.revoke_client("nope") is None
    # A token hash or a certificate subject names one client, ever (revoked ones too).
    for token, subject in (("t" * 64, ""), (None, "CN=door")):
        with pytest.raises(DuplicateCredential):
            store.add_client("copy", "tenant-b", "admin", token, subject)
    assert [c.id for c in store.clients()] == [a.id, b.id]
    store.add_web_session("s" * 64, a.id, time.time() + 60)
    assert store.web_session("s" * 64, time.time()) == a.id
    assert store.web_session("s" * 64, time.time() + 120) is None  # expired by then
    store.end_web_session("s" * 64)
    assert store.web_session("s" * 64, time.time()) is None
    key = store.shared_secret("cookies")
    assert len(key) == 32 and store.shared_secret("cookies") == key
    assert store.shared_secret("other") != key


def held(ticket: str, priority: int, tenant="t") -> dict:
    return dict(
        ticket=ticket,
        request_id="r-" + ticket,
        tenant=tenant,
        decision_id="d-" + ticket,
        prompt="a portrait",
        category="public_figure",
        priority=priority,
        status="pending",
        verdict={"action": "review"},
        held_path=f"held/{ticket}.mp4",
        mime_type="video/mp4",
        spec={"title": "x"},
        content_sha256="c" * 64,
        created_at=time.time(),
    )


def test_review_items_are_claimed_decided_and_audited_together(store):
    store.add_review_item(held("low", 100), entry("low"))
    store.add_review_item(held("high", 900), entry("high"))
    store.add_review_item(held("other", 500, tenant="u"), entry("other"))
    assert [i.ticket for i in store.review_items(("pending",))] == ["high", "other", "low"]
    assert [i.ticket for i in store.review_items(("pending",), tenant="t")] == ["high", "low"]
    assert [i.ticket for i in store.review_items(("pending",), min_priority=500)] == [
        "high",
        "other",
    ]
    assert store.count_review_items(("pending",)) == 3
    # The queues at a glance, counted by the store: per category and tenant, oldest.
    counts = sorted(store.review_item_counts(("pending",)))
    assert [(c, t, n) for c, t, n, _ in counts] == [
        ("public_figure", "t", 2),
        ("public_figure", "u", 1),
    ]
    oldest_t = min(store.review_item("low").created_at, store.review_item("high").created_at)
    assert counts[0][3] == pytest.approx(oldest_t)
    assert [r[1] for r in store.review_item_counts(("pending",), tenant="u")] == ["u"]
    assert store.review_item_counts(("approved",)) == []
    now = time.time()
    assert store.claim_review_item("high", "pending", "rev-1", now + 60, now, entry("claim"))
    assert not store.claim_review_item("high", "pending", "rev-2", now + 60, now, entry("no"))
    assert store.claim_review_item("high", "pending", "rev-2", now + 60, now + 61, entry("late"))
    clearance = Clearance("content", "high", "rev-2", "c" * 64, "sexual", "t", subject="x")
    values = {"status": "approved", "decided_by": "rev-2", "decided_at": now}
    assert not store.update_review_item("high", "pending", values, entry("x"), claimed_by="rev-1")
    assert store.update_review_item(
        "high", "pending", values, entry("approve"), claimed_by="rev-2", clearances=(clearance,)
    )
    assert store.review_item("high").status == "approved" and store.review_item("nope") is None
    assert [i.ticket for i in store.decided_items_with_media(("approved",), now + 1)] == ["high"]
    (kept,) = store.clearances("t", "c" * 64, time.time())
    assert kept.id is not None and kept.created_at > 0 and kept.category == "sexual"
    assert store.clearances("u", "c" * 64, time.time()) == []
    assert store.list_clearances(None, 10)[0].id == kept.id
    assert store.remove_clearances(entry("undo"), ticket="high")[0].id == kept.id
    assert store.list_clearances("t", 10) == []
    subjects = [e["subject"] for e in store.audit.entries()]
    assert subjects == ["low", "high", "other", "claim", "late", "approve", "undo"]
    assert store.audit.verify().ok


def test_a_signing_authorization_is_used_once_for_exactly_what_it_names(store):
    from concurrent.futures import ThreadPoolExecutor

    from safety.store.records import SigningAuthorization

    store.authorize_signing(SigningAuthorization("d1", "t", "bytes", "spec", time.time()))
    assert not store.use_signing_authorization("d1", "other bytes", "spec")
    assert not store.use_signing_authorization("d1", "bytes", "another manifest")
    assert not store.use_signing_authorization("d2", "bytes", "spec")
    with ThreadPoolExecutor(max_workers=4) as pool:  # racing signers: one signature
        used = list(
            pool.map(lambda _: store.use_signing_authorization("d1", "bytes", "spec"), [0] * 4)
        )
    assert used.count(True) == 1
    # A resumed release authorizes its decision again, for the bytes it signs now.
    store.authorize_signing(SigningAuthorization("d1", "t", "bytes 2", "spec", time.time()))
    assert store.use_signing_authorization("d1", "bytes 2", "spec")
    assert not store.use_signing_authorization("d1", "bytes 2", "spec")

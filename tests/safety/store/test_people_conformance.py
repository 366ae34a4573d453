"""The people-in-the-loop tables (people_interface.py) on every backend: reviewers'
settings, likeness owners, matches written with their decisions, takedown notices."""

from __future__ import annotations

import time

from safety.store.records import AuditEntry, TakedownNotice
from safety.verdict import Action, Finding, Stage, Verdict, crop_key


def entry(subject: str) -> AuditEntry:
    return AuditEntry("tester", "test", "t", subject, {})


def likeness_verdict(identity_id: str, crop: bytes | None) -> Verdict:
    face = Finding(
        "likeness",
        "public_figure",
        "driving_video",
        0.91,
        identity_id=identity_id,
        frame_time_s=1.25,
        box=(1, 2, 3, 4),
        consent={"grant_id": "g1"},
    )
    face.threshold = 0.9
    other = Finding("nudity", "sexual", "driving_video", 0.1)
    # A near miss: someone who resembles the person, never listed as them.
    lookalike = Finding(
        "likeness", "public_figure", "input_image", 0.85, threshold=0.9, identity_id=identity_id
    )
    v = Verdict(
        Action.BLOCK, Stage.PRE_CHECK, "p@1", reasons=[face], findings=[face, other, lookalike]
    )
    if crop is not None:
        v.face_crops[crop_key(face)] = crop
    return v


def test_reviewer_settings_are_kept_per_reviewer(store):
    assert store.reviewer_settings("r1") == {}
    store.set_reviewer_settings("r1", {"blur": False, "mute": True})
    store.set_reviewer_settings("r1", {"blur": True, "mute": True})
    store.set_reviewer_settings("r2", {"greyscale": False})
    assert store.reviewer_settings("r1") == {"blur": True, "mute": True}
    assert store.reviewer_settings("r2") == {"greyscale": False}


def test_an_owner_speaks_for_the_people_bound_to_them(store):
    before = sum(1 for _ in store.audit.entries())
    store.bind_likeness_owner("agent", ["id-b", "id-a"], entry("agent"))
    store.bind_likeness_owner("agent", ["id-a", "id-c"], entry("agent"))
    assert store.owned_identities("agent") == ["id-a", "id-b", "id-c"]
    assert store.owned_identities("someone-else") == []
    assert sum(1 for _ in store.audit.entries()) == before + 2


def test_a_decision_writes_its_likeness_matches_with_the_face_crop(store):
    store.record_decision("d1", "r1", "studio-a", likeness_verdict("id-a", b"\xff\xd8jpeg"))
    time.sleep(0.01)
    store.record_decision("d2", "r2", "studio-b", likeness_verdict("id-a", None))
    store.record_decision("d3", "r3", "studio-b", likeness_verdict("id-z", None))
    found = store.likeness_matches(["id-a"])
    assert [m.decision_id for m in found] == ["d2", "d1"]  # newest first, only id-a's
    assert {m.subject for m in found} == {"driving_video"}  # not the lookalike's near miss
    first = found[1]
    assert (first.tenant, first.action, first.stage, first.subject) == (
        "studio-a",
        "block",
        "pre_check",
        "driving_video",
    )
    assert first.grant_id == "g1" and first.frame_time_s == 1.25 and first.has_evidence
    assert not found[0].has_evidence and store.match_evidence(found[0].id) is None
    assert store.match_evidence(first.id) == ("id-a", b"\xff\xd8jpeg")
    assert store.likeness_matches([]) == []
    # The crop is for the owner's door: never in the decision's evidence JSON.
    assert "face_crops" not in store.decision("d1")["evidence"]


def test_takedown_notices_are_kept_and_acknowledged_once(store):
    notice = TakedownNotice(
        id="n1",
        identity_id="id-a",
        filed_by="owner",
        tenant="studio-a",
        manifest_id="m1",
        output_sha256="ab" * 32,
        fingerprints={"pdq": ["00" * 32], "manifest_id": "m1"},
        reason="not me",
        status="removed",
        filed_at=time.time(),
        removed_at=time.time(),
    )
    store.add_takedown(notice, entry("n1"))
    assert store.takedowns(tenant="studio-a") == [notice]
    assert store.takedowns(identity_ids=["id-b"]) == []
    assert store.takedowns(tenant="studio-b") == []
    seen = store.acknowledge_takedown("n1", "studio-admin", 123.0, entry("n1"))
    assert seen.status == "acknowledged" and seen.acknowledged_by == "studio-admin"
    again = store.acknowledge_takedown("n1", "other", 456.0, entry("n1"))
    assert again.acknowledged_at == 123.0 and again.acknowledged_by == "studio-admin"
    assert store.acknowledge_takedown("nope", "x", 1.0, entry("x")) is None

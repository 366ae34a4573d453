"""A recheck honours only what a decision cited that held at its time
(safety/provenance/replay.py): an adversary's record that names a grant made afterwards,
another tenant's grant, or a grant for another scope authorizes nothing."""

from __future__ import annotations

import time

import pytest

from safety.provenance.replay import replay
from safety.store.memory import MemoryStore
from safety.verdict import Action, Finding, Stage, Verdict


@pytest.fixture
def store():
    return MemoryStore()


def citing(grant_id: str, scope: str = "video") -> Verdict:
    finding = Finding(
        "image.likeness",
        "public_figure",
        "output_frame",
        0.97,
        identity_id="id-1",
        identity_name="Eileen Collins",
        consent={"grant_id": grant_id, "scope": scope, "grantor": "agency"},
    )
    return Verdict(Action.ALLOW, Stage.POST_CHECK, "p1", findings=[finding])


def test_a_grant_valid_then_is_honoured_even_if_revoked_since(store):
    grant = store.add_grant("studio-a", "id-1", ["video"], "agency", None)
    time.sleep(0.02)
    decided = time.time()
    time.sleep(0.02)
    store.revoke_grant(grant.id, "the agency")
    cited = replay(citing(grant.id), "studio-a", decided, store, store)
    assert cited.consents == {"id-1": citing(grant.id).findings[0].consent}
    assert "valid when decided (revoked since by the agency)" in cited.notes[0]
    finding = Finding("image.likeness", "public_figure", "output_frame", 0.9, identity_id="id-1")
    cited.apply([finding])
    assert finding.consent["grant_id"] == grant.id


@pytest.mark.parametrize(
    ("tenant", "scope", "decided", "why"),
    [
        ("studio-a", "video", -60.0, "made after the decision"),
        ("studio-b", "video", 1.0, "tenant 'studio-a'"),
        ("studio-a", "performance", 1.0, "not 'performance'"),
    ],
)
def test_a_grant_that_did_not_hold_then_authorizes_nothing(store, tenant, scope, decided, why):
    grant = store.add_grant("studio-a", "id-1", ["video"], "agency", None)
    cited = replay(citing(grant.id, scope), tenant, grant.created_at + decided, store, store)
    assert cited.consents == {}
    assert "NOT honoured" in cited.notes[0] and why in cited.notes[0]


def test_a_grant_revoked_or_expired_before_the_decision_authorizes_nothing(store):
    expired = store.add_grant("studio-a", "id-1", ["video"], "agency", time.time() + 5)
    cited = replay(citing(expired.id), "studio-a", time.time() + 10, store, store)
    assert cited.consents == {} and "expired before the decision" in cited.notes[0]
    revoked = store.add_grant("studio-a", "id-1", ["video"], "agency", None)
    store.revoke_grant(revoked.id, "x")
    cited = replay(citing(revoked.id), "studio-a", time.time() + 1, store, store)
    assert cited.consents == {} and "revoked before the decision" in cited.notes[0]


def test_a_clearance_by_a_review_nobody_approved_is_not_honoured(store):
    verdict = Verdict(
        Action.ALLOW,
        Stage.POST_CHECK,
        "p1",
        findings=[Finding("image.nudity", "sexual", "output_frame", 0.9, allowlisted="rv-404")],
    )
    cited = replay(verdict, "studio-a", time.time(), store, store)
    assert cited.cleared == {} and "NOT honoured" in cited.notes[0]

"""The likeness owner's powers end at their own people (the domain on the in-memory
store): another person's matches, grants and outputs read as missing or refused."""

from __future__ import annotations

import pytest

from safety.auth import ADMIN, ALL_TENANTS, LIKENESS_OWNER, Principal
from safety.errors import Forbidden, InvalidInput, NotFound
from safety.likeness.owners import LikenessOwners, Signed
from safety.verdict import Action, Finding, Stage, Verdict
from tests.safety.domain import REVIEWER

ADMIN_ = Principal("admin", "platform admin", ALL_TENANTS, ADMIN)
TENANT_ADMIN = Principal("t-admin", "studio admin", "studio-a", ADMIN)


@pytest.fixture
def owners(review_domain):
    d = review_domain
    collins = d.store.identities()[0].id
    other, _ = d.store.add_identity("Someone Else", [], "", [])
    o = LikenessOwners(d.store, d.consent, d.banks, lambda data, mime: Signed("", False), 10**8)
    owner_record = _client(d, "Collins herself", LIKENESS_OWNER)
    o.bind(ADMIN_, owner_record.id, [collins])
    who = Principal(owner_record.id, owner_record.name, owner_record.tenant, LIKENESS_OWNER)
    return o, who, collins, other.id, d


def who_identity(o, who) -> str:
    return o.identities(who)[0]


def _client(d, name, role):
    from safety.auth import Authenticator

    return Authenticator(d.store).create_client(name, "owners", role)[0]


def test_only_a_platform_admin_binds_and_only_to_a_likeness_owner(owners):
    o, _, collins, _, d = owners
    target = _client(d, "someone", LIKENESS_OWNER)
    with pytest.raises(Forbidden):
        o.bind(TENANT_ADMIN, target.id, [collins])
    with pytest.raises(InvalidInput, match="likeness_owner"):
        o.bind(ADMIN_, _client(d, "a reviewer", "reviewer").id, [collins])
    with pytest.raises(Forbidden):
        o.identities(REVIEWER)


def test_an_owner_cannot_act_for_someone_else(owners):
    o, who, _, other, d = owners
    with pytest.raises(NotFound):
        o.grant(who, other, "studio-a", ["video"], 30)
    foreign = Finding("likeness", "public_figure", "input_image", 0.99, identity_id=other)
    d.store.record_decision(
        "d-other",
        "r-other",
        "studio-a",
        Verdict(Action.ALLOW, Stage.POST_CHECK, "p", findings=[foreign]),
    )
    with pytest.raises(Forbidden, match="no match of a person you speak for"):
        o.takedown(who, manifest_id="d-other")
    # A lookalike: the owner's own person, but under the threshold, is not them.
    near = Finding(
        "likeness",
        "public_figure",
        "input_image",
        0.8,
        threshold=0.9,
        identity_id=who_identity(o, who),
    )
    d.store.record_decision(
        "d-near",
        "r-near",
        "studio-a",
        Verdict(Action.ALLOW, Stage.POST_CHECK, "p", findings=[near]),
    )
    with pytest.raises(Forbidden):
        o.takedown(who, manifest_id="d-near")
    # A file signed under one manifest cannot be filed under another (its frames would
    # be banked in that output's name).
    signed_as = LikenessOwners(
        d.store, d.consent, d.banks, lambda data, mime: Signed("d-x", True), 10**8
    )
    with pytest.raises(InvalidInput, match="signed under manifest d-x"):
        signed_as.takedown(who, manifest_id="d-near", data=b"\x00" * 64, mime_type="video/mp4")
    with pytest.raises(NotFound):
        o.takedown(who, manifest_id="no-such-output")
    # A match of the other person is not in this owner's list, nor its evidence.
    assert all(m.identity_id != other for m in o.matches(who))
    other_match = d.store.likeness_matches([other])[0]
    with pytest.raises(NotFound):
        o.evidence(who, other_match.id)


def test_an_owners_consent_changes_are_in_the_audit_chain(owners):
    o, who, collins, _, d = owners
    grant = o.grant(who, collins, "studio-z", ["image"], 2)
    o.revoke(who, grant.id)
    kinds = [e["kind"] for e in d.store.audit.entries() if e["subject"] == grant.id]
    assert kinds == ["consent.granted_by_owner", "consent.revoked_by_owner"]
    assert d.store.audit.verify().ok

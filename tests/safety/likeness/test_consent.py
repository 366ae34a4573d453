"""Consent decides whether a tenant may depict an enrolled person: read on every request
(a revocation or an expiry blocks the very next one), recorded with the decision and in
the manifest, and written by review only as a senior reviewer's grant. In the domain,
on the in-memory store."""

from __future__ import annotations

import time

import pytest

from safety.errors import Forbidden
from safety.job import Completed, Held
from safety.provenance.outputs import consent_bases
from tests.safety.domain import REVIEWER, SENIOR
from tests.support import encode, scene


def test_a_grant_lets_its_tenant_depict_the_person_until_it_is_revoked(review_domain, astronaut):
    d = review_domain
    collins = d.store.identities()[0]
    grant = d.consent.grant("studio-g", collins.id, ["video"], "Agency LLP", time.time() + 3600)
    look = encode(scene(astronaut, "camera", (0, 0)))
    done = d.generate(look, tenant="studio-g")
    assert isinstance(done, Completed), done
    # The grant used is the decision's evidence and the manifest's consent basis.
    (basis,) = consent_bases(done.verdict)
    assert basis["grant_id"] == grant.id and basis["identity_id"] == collins.id
    recorded = d.store.decision(done.verdict.decision_id)["evidence"]["findings"]
    assert any((f.get("consent") or {}).get("grant_id") == grant.id for f in recorded)
    assert isinstance(d.generate(look, tenant="studio-h"), Held)  # not another tenant's
    d.consent.revoke(grant.id, "legal")
    again = d.generate(look, tenant="studio-g")  # the very next request
    assert isinstance(again, Held)
    d.review.claim_and_decide(again.ticket, REVIEWER, "reject", "likeness_no_consent")


def test_an_expired_grant_authorizes_nothing(review_domain, astronaut):
    d = review_domain
    collins = d.store.identities()[0]
    d.store.add_grant("studio-e", collins.id, ["video"], "agent", time.time() - 1)
    last = d.generate(encode(scene(astronaut, "coins", (0, 0))), tenant="studio-e")
    assert isinstance(last, Held)
    d.review.claim_and_decide(last.ticket, REVIEWER, "reject", "likeness_no_consent")


def test_only_a_senior_reviewers_approval_writes_a_grant(review_domain, astronaut):
    """Review's "let this tenant depict the matched person" is a consent grant: a plain
    reviewer may not write one; a senior reviewer's has scope, expiry, grantor and the
    ticket as basis."""
    d = review_domain
    looks = iter(encode(scene(astronaut, b, (100, 300))) for b in ("camera", "coins", "page"))
    ticket = d.generate(next(looks), tenant="studio-c").ticket
    with pytest.raises(Forbidden):
        d.review.claim_and_decide(ticket, REVIEWER, "approve", "consent_on_file", "", False, True)
    assert d.review.get(ticket).claimed_by is None  # refused before any claim
    d.review.claim_and_decide(ticket, SENIOR, "approve", "consent_on_file", "", False, True)
    (grant,) = d.store.grants(tenant="studio-c")
    assert grant.basis == f"review {ticket}" and grant.scopes == ["video"]
    assert grant.grantor == SENIOR.client_id
    assert 29 * 86400 < grant.expires_at - time.time() <= 30 * 86400
    assert isinstance(d.generate(next(looks), tenant="studio-c"), Completed)
    d.consent.revoke(grant.id, "test")
    last = d.generate(next(looks), tenant="studio-c")
    assert isinstance(last, Held)  # the grant is gone, and nothing else lets studio-c
    d.review.claim_and_decide(last.ticket, REVIEWER, "reject", "likeness_no_consent")

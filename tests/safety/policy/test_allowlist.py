"""A reviewer's content clearance clears what the reviewer judged and nothing else: the
item's tenant, the input, each category on its own subject, up to the score seen, for
90 days; an appeal that reverses the decision undoes it. In the domain, on the
in-memory store (the RPCs over it: tests/safety/service/test_allowlist_rpc.py)."""

from __future__ import annotations

import time

import pytest

from safety.errors import NotFound
from safety.job import Blocked, Completed, Held
from tests.safety.domain import OTHER_SENIOR, REVIEWER, SENIOR
from tests.support import OFFENSIVE, encode, performance, scene


def held(domain, image: bytes, tenant="studio-a", driving=None, prompt=OFFENSIVE) -> Held:
    last = domain.generate(image, tenant, driving, prompt)
    assert isinstance(last, Held), last
    return last


def test_a_clearance_covers_what_the_reviewer_judged_and_nothing_else(
    review_domain, hopper, astronaut
):
    """An offensive prompt with a portrait of someone not enrolled, held and cleared: the
    same request passes; not beside the enrolled person in a driving video, not for
    another tenant."""
    d = review_domain
    portrait = encode(hopper)
    first = held(d, portrait)
    d.review.claim_and_decide(first.ticket, REVIEWER, "approve", "false_positive", "", True)
    assert isinstance(d.generate(portrait, prompt=OFFENSIVE), Completed)  # what was judged
    # Not for the enrolled person in a driving video sent beside the same input ...
    driven = held(d, portrait, driving=performance(astronaut))  # Eileen Collins, enrolled
    assert any(r.subject == "driving_video" for r in driven.verdict.reasons)
    # ... and not for another tenant, even though a platform reviewer made it.
    other = held(d, portrait, tenant="studio-b")
    for ticket in (driven.ticket, other.ticket):
        d.review.claim_and_decide(ticket, REVIEWER, "reject", "likeness_no_consent")
    (entry,) = [c for c in d.allowlist.entries(SENIOR) if c.ticket == first.ticket]
    assert (entry.tenant, entry.subject, entry.category) == ("studio-a", "prompt", "profanity")
    seen = max(r.score for r in first.verdict.reasons if r.subject == entry.subject)
    assert entry.max_score == pytest.approx(min(1.0, seen + 0.02), abs=1e-4)
    assert 89 * 86400 < entry.expires_at - time.time() <= 90 * 86400
    assert d.store.clearances("studio-a", entry.content_sha256, time.time())
    assert not d.store.clearances("studio-a", entry.content_sha256, entry.expires_at + 1)


def test_a_content_clearance_never_clears_a_likeness(review_domain, astronaut):
    """A tenant's own reviewer approved a held likeness "with allowlist_content": the
    same image then passed for 90 days for whoever it matched within the cleared score.
    Likeness is cleared by consent grants only (scope, expiry, revocation)."""
    d = review_domain
    look_alike = encode(scene(astronaut, "camera", (120, 40)))
    first = held(d, look_alike, prompt="a portrait, slowly zooming")
    d.review.claim_and_decide(first.ticket, REVIEWER, "approve", "false_positive", "", True)
    assert not [c for c in d.allowlist.entries(SENIOR) if c.ticket == first.ticket]
    again = held(d, look_alike, prompt="a portrait, slowly zooming")  # judged again
    d.review.claim_and_decide(again.ticket, REVIEWER, "reject", "likeness_no_consent")


def test_an_appeal_that_reverses_a_decision_undoes_what_it_created(review_domain, astronaut):
    d = review_domain
    look_alike = encode(scene(astronaut, "page", (120, 40)))
    ticket = held(d, look_alike, prompt="a portrait, slowly zooming").ticket
    d.review.claim_and_decide(ticket, REVIEWER, "approve", "false_positive", "", True)
    d.review.appeal(ticket, REVIEWER, "that is her")
    d.review.claim_and_decide(ticket, SENIOR, "reject", "likeness_no_consent")
    assert not [c for c in d.allowlist.entries(SENIOR) if c.ticket == ticket]  # cleared no more
    assert isinstance(d.generate(look_alike), Blocked)  # banked by the rejection
    d.review.appeal(ticket, REVIEWER, "it is a look-alike after all")
    d.review.claim_and_decide(ticket, OTHER_SENIOR, "approve", "false_positive")
    assert not [e for e in d.banks.storage.bank_entries() if e.media_id == ticket]
    again = held(d, look_alike, prompt="a portrait, slowly zooming")  # a reviewer looks again
    d.review.claim_and_decide(again.ticket, REVIEWER, "reject", "likeness_no_consent")


def test_a_clearance_is_removed_only_by_those_who_see_its_tenant(review_domain):
    import skimage.data

    from safety.auth import ADMIN, Principal

    d = review_domain
    cat = encode(skimage.data.chelsea())  # and an offensive prompt
    ticket = held(d, cat).ticket
    d.review.claim_and_decide(ticket, REVIEWER, "approve", "false_positive", "", True)
    mine = [c for c in d.allowlist.entries(SENIOR) if c.ticket == ticket]
    other_admin = Principal("adm-b", "studio-b admin", "studio-b", ADMIN)
    assert not [c for c in d.allowlist.entries(other_admin) if c.ticket == ticket]
    with pytest.raises(NotFound):
        d.allowlist.remove(mine[0].id, other_admin)
    studio_admin = Principal("adm-a", "studio-a admin", "studio-a", ADMIN)
    for entry in mine:
        d.allowlist.remove(entry.id, studio_admin)
    again = held(d, cat)  # judged again
    d.review.claim_and_decide(again.ticket, REVIEWER, "reject", "likeness_no_consent")

"""Domain records as protobuf: what was stored reads back (safety/service/api/convert.py)."""

from __future__ import annotations

from safety.provenance.outputs import consent_bases
from safety.service.api.convert import verdict_pb
from safety.verdict import Action, Finding, Stage, Verdict


def test_a_consent_grant_without_expiry_round_trips_through_a_stored_verdict():
    """A grant without expiry is valid data, but a stored verdict drops its None: a held
    item citing one broke Review.List, Decide and GetResult (UNKNOWN: 'expires_at'), and
    the release's manifest, after the output bytes had been sent."""
    grant = {"grant_id": "g-1", "scope": "video", "expires_at": None, "grantor": "admin"}
    finding = Finding(
        "likeness", "public_figure", "input_image", 0.97, identity_id="i-1", consent=grant
    )
    held = Verdict(Action.REVIEW, Stage.PRE_CHECK, "p@1", [], [finding])
    stored = Verdict.from_dict(held.to_dict())  # as the review queue keeps it
    message = verdict_pb(stored)
    assert message.findings[0].consent.grant_id == "g-1"
    assert message.findings[0].consent.expires_at == 0.0  # none
    assert consent_bases(stored) == [
        {"identity_id": "i-1", "grant_id": "g-1", "scope": "video", "grantor": "admin"}
    ]

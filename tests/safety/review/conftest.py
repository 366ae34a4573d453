"""What the review tests share: distinct pictures of the enrolled person, held."""

from __future__ import annotations

import pytest

from safety.job import Held
from tests.review_support import distinct_scenes
from tests.support import encode


@pytest.fixture(scope="module")
def pictures(astronaut):
    """A distinct picture of the enrolled person per call (a rejection banks what it shows)."""
    next_scene = distinct_scenes(astronaut)
    return lambda: encode(next_scene())


def held_ticket(domain, image: bytes) -> str:
    held = domain.generate(image)
    assert isinstance(held, Held), held
    assert domain.review.get(held.ticket).status == "pending"
    return held.ticket

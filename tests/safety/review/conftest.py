"""What the review tests share: distinct pictures of the enrolled person, held."""

from __future__ import annotations

import itertools

import pytest

from safety.job import Held
from tests.support import encode, scene

BACKGROUNDS = ["camera", "coins", "cat", "coffee", "chelsea", "rocket", "logo", "page", "text"]


@pytest.fixture(scope="module")
def pictures(astronaut):
    """A distinct picture of the enrolled person per call (a rejection banks what it shows)."""
    corners = [(0, 0), (0, 400), (400, 0), (400, 400)]
    looks = itertools.cycle(zip(BACKGROUNDS, corners * 3, strict=False))
    return lambda: encode(scene(astronaut, *next(looks)))


def held_ticket(domain, image: bytes) -> str:
    held = domain.generate(image)
    assert isinstance(held, Held), held
    assert domain.review.get(held.ticket).status == "pending"
    return held.ticket

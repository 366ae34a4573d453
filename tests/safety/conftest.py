"""Fixtures of the domain tests: the domain on the in-memory store, no server."""

from __future__ import annotations

import pytest

from media.decode import decode_image
from tests.safety.domain import Domain, build_domain
from tests.support import REVIEW_LIKENESS, encode


@pytest.fixture(scope="module")
def domain(tmp_path_factory) -> Domain:
    """A fresh domain per test module: nobody enrolled, "forbidden fruit" blocklisted."""
    return build_domain(tmp_path_factory.mktemp("domain"), prompt_blocklist=["forbidden fruit"])


@pytest.fixture(scope="module")
def review_domain(tmp_path_factory, astronaut) -> Domain:
    """A domain that holds likeness for review, with Eileen Collins enrolled."""
    d = build_domain(tmp_path_factory.mktemp("review"), policy=REVIEW_LIKENESS)
    d.enroller.enroll("Eileen Collins", [], [decode_image(encode(astronaut), max_pixels=10**8)])
    return d

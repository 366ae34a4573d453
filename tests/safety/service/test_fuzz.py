"""Short fuzz runs of every media entry point (long runs: python -m safety.service.fuzz)."""

import pytest

from safety.service.fuzz import TARGETS, run


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_no_crash_no_hang(target):
    result = run(target, inputs=120, hang_s=5.0, seed=1)
    assert result["crashes"] == [] and result["hangs"] == 0, result

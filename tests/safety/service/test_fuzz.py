"""Short fuzz runs of every media entry point (long runs: python -m safety.service.fuzz)."""

import pytest

from safety.service.fuzz import TARGETS, run

# A bomb's input decodes up to 50 s of 1080p through two paths (0.4-3.3 s of CPU each,
# session 14): ten mutations of each of its four seeds here, 120 of every other target.
# The long runs are the runner's (thousands of inputs a target).
INPUTS = {"compressible bombs": 40}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_no_crash_no_hang(target):
    # A hang is an input whose cost has no bound: 15 s of CPU. The slowest input here
    # (a compressible bomb) cost 1.56 s of CPU in session 11 and 3.06 s alone on a slower
    # day (session 12), when beside the rest of the suite it once passed the 5 s this was.
    result = run(target, inputs=INPUTS.get(target, 120), hang_s=15.0, seed=1)
    assert result["crashes"] == [] and result["hangs"] == 0, result

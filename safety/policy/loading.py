"""Per-tenant policies as data: one TOML file per tenant, validated, reloadable live.

`policy_dir/<tenant>.toml` holds that tenant's rules; `default.toml` (or the config's
`[policy]` table) serves every other tenant. A file looks like:

    name = "studio-a"
    [categories.sexual]
    threshold = 0.6
    action = "review"          # allow / review / block
    required = ["visual"]      # optional: fail closed if no model covers it

Loading validates everything and names the file and line of the first problem; a
reload that fails keeps the policies in force.
"""

from __future__ import annotations

import re
import threading
import tomllib
from pathlib import Path

from safety.policy.rules import (
    ALWAYS_BLOCKED_RULE,
    TRAINING_MINING_USES,
    Policy,
    Rule,
    always_blocked,
    softens_always_blocked,
)
from safety.verdict import Action

ALLOWED_TOP = {"name", "categories", "training_mining", "disclose_scores"}
ALLOWED_RULE = {"threshold", "action", "required", "review_threshold"}


class PolicyError(ValueError):
    """A policy file is invalid; the message names the file and the line."""


def _line_of(text: str, *needles: str) -> int:
    """The line of the first needle found, searching each after the previous one."""
    position = 0
    for needle in needles:
        found = re.search(needle, text[position:], re.MULTILINE)
        if found is None:
            break
        position += found.start()
    return text.count("\n", 0, position) + 1


def _key_line(key: str) -> str:
    return r"^\s*" + re.escape(key) + r"\s*="


def load_policy_file(path: Path) -> Policy:
    text = path.read_text()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"{path}: {e}") from None
    for key in data:
        if key not in ALLOWED_TOP:
            line = _line_of(text, _key_line(key) + "|" + r"\[" + re.escape(key))
            raise PolicyError(
                f"{path}:{line}: unknown key {key!r} (expected name, categories, "
                "training_mining, disclose_scores)"
            )
    use = data.get("training_mining", "notAllowed")
    if use not in TRAINING_MINING_USES:
        line = _line_of(text, _key_line("training_mining"))
        raise PolicyError(
            f"{path}:{line}: training_mining must be one of {', '.join(TRAINING_MINING_USES)}, "
            f"got {use!r}"
        )
    if not isinstance(data.get("disclose_scores", False), bool):
        line = _line_of(text, _key_line("disclose_scores"))
        raise PolicyError(f"{path}:{line}: disclose_scores must be true or false")
    return policy_from_table(path, text, {"name": path.stem, **data}, "categories")


def policy_from_table(path: Path, text: str, data: dict, table: str) -> Policy:
    """The policy of `data` (a policy file's content, or the config's `[policy]` table,
    read from `text` at `path`), each problem named with its file and line."""
    for category, spec in data.get("categories", {}).items():
        header = r"^\s*\[" + re.escape(table) + r"\.['\"]?" + re.escape(category) + r"['\"]?\]"
        where = f"{path}:{_line_of(text, header)}"
        if not isinstance(spec, dict):
            raise PolicyError(f"{where}: categories.{category} must be a table")
        for key in spec:
            if key not in ALLOWED_RULE:
                line = _line_of(text, header, _key_line(key))
                raise PolicyError(
                    f"{path}:{line}: unknown key {key!r} in categories.{category} "
                    "(expected threshold, action, required, review_threshold)"
                )
        threshold = spec.get("threshold")
        if not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
            line = _line_of(text, header, _key_line("threshold"))
            raise PolicyError(
                f"{path}:{line}: categories.{category}.threshold must be a number within 0..1, "
                f"got {threshold!r}"
            )
        if str(spec.get("action", "")).lower() not in ("allow", "review", "block"):
            line = _line_of(text, header, _key_line("action"))
            raise PolicyError(
                f"{path}:{line}: categories.{category}.action must be allow, review or block, "
                f"got {spec.get('action')!r}"
            )
        if always_blocked(category):
            softened = softens_always_blocked(
                Rule(
                    float(threshold),
                    Action[str(spec["action"]).upper()],
                    review_threshold=spec.get("review_threshold"),
                )
            )
            if softened:
                line = _line_of(text, header, _key_line(softened))
                raise PolicyError(f"{path}:{line}: categories.{category} {ALWAYS_BLOCKED_RULE}")
    try:
        return Policy.from_dict(data)
    except ValueError as e:
        raise PolicyError(f"{path}: {e}") from None


class PolicySet:
    """The policy for each tenant, swapped whole on a successful reload."""

    def __init__(self, default: Policy, directory: Path | None = None) -> None:
        self._base_default = default
        self.directory = directory
        self._lock = threading.Lock()
        self._default, self._tenants = default, {}
        self.reload()

    @classmethod
    def single(cls, policy: Policy) -> PolicySet:
        return cls(policy)

    def for_tenant(self, tenant: str) -> Policy:
        with self._lock:
            return self._tenants.get(tenant, self._default)

    def reload(self) -> dict[str, str]:
        """Re-read the directory; returns {tenant: version}. Invalid files raise
        PolicyError and leave the current policies in force."""
        default, tenants = self._base_default, {}
        if self.directory is not None:
            if not self.directory.is_dir():
                raise PolicyError(f"{self.directory}: policy directory not found")
            for path in sorted(self.directory.glob("*.toml")):
                policy = load_policy_file(path)
                if path.stem == "default":
                    default = policy
                else:
                    tenants[path.stem] = policy
        with self._lock:
            self._default, self._tenants = default, tenants
        return self.versions()

    def versions(self) -> dict[str, str]:
        with self._lock:
            return {"*": self._default.version} | {
                t: p.version for t, p in sorted(self._tenants.items())
            }

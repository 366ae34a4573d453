"""Which backend a `generator = ...` setting names: the one place that knows them all.

Kept apart from `base.py` so that the seam imports no backend and no backend imports
the list of backends (no import cycle)."""

from __future__ import annotations

from pathlib import Path

from generator.base import Generator


def load_generator(spec: str, **diffusers_options) -> Generator:
    """`kenburns` (built in); `remote:HOST:PORT` (a GeneratorBackend service elsewhere);
    `diffusers:/local/pipeline/dir`; or `package.module:ClassName` for one of your own."""
    if spec == "kenburns":
        from generator.kenburns import KenBurnsGenerator

        return KenBurnsGenerator()
    if spec.startswith("remote:"):
        import os

        from generator.remote import RemoteGenerator

        def path(name: str) -> Path | None:
            return Path(os.environ[name]) if os.environ.get(name) else None

        # The backend's credentials and TLS material, from the environment (never config).
        return RemoteGenerator(
            spec.removeprefix("remote:"),
            os.environ.get("REELGUARD_BACKEND_TOKEN") or None,
            ca=path("REELGUARD_BACKEND_CA"),
            cert=path("REELGUARD_BACKEND_CERT"),
            key=path("REELGUARD_BACKEND_KEY"),
            insecure=os.environ.get("REELGUARD_BACKEND_INSECURE") == "1",
        )
    if spec.startswith("diffusers:"):
        from generator.diffusion import DiffusersGenerator

        return DiffusersGenerator(Path(spec.removeprefix("diffusers:")), **diffusers_options)
    module_name, sep, class_name = spec.partition(":")
    if not sep:
        raise ValueError(f"generator {spec!r}: use 'kenburns' or 'package.module:ClassName'")
    import importlib

    return getattr(importlib.import_module(module_name), class_name)()

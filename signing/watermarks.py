"""Which watermark a `watermark_backend = ...` setting names.

Kept apart from `watermark.py` (the seam and the default backend) so that TrustMark's
module can use the seam without the seam importing it back (no import cycle)."""

from __future__ import annotations

from pathlib import Path

from signing.watermark import DwtDctQim, Watermarker


def load_watermarker(spec: str, key: bytes) -> Watermarker:
    """`""` or `"dwt-dct-qim"`: this module, keyed by `key`; `"trustmark:DIR"` (or
    `trustmark-B:DIR`...): TrustMark with its published weights copied into DIR (nothing
    is downloaded; its marks are not keyed, so a recovery by them needs the fingerprint
    to agree, like any other)."""
    if spec in ("", "dwt-dct-qim"):
        return DwtDctQim(key)
    kind, _, where = spec.partition(":")
    if kind.startswith("trustmark") and where:
        from signing.trustmark_watermark import TrustMarkWatermarker

        variant = kind.removeprefix("trustmark").removeprefix("-") or "Q"
        return TrustMarkWatermarker(Path(where).expanduser(), variant)
    raise ValueError(
        f'watermark_backend {spec!r}: use "dwt-dct-qim" or "trustmark:/dir/with/weights"'
    )

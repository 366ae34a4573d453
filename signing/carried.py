"""The pictures a C2PA manifest store carries: what our manifest would carry too.

A file with C2PA in it (an input image, a file sent to Sign, or one of its ingredients)
brings its manifest store along when it becomes an ingredient of ours: every claim
thumbnail and ingredient thumbnail in it ends up inside the output we sign. Those
pictures are media like any other, so the gate moderates them before our signature
covers them (safety/intake.py); this module only finds them.
"""

from __future__ import annotations

import io
import json

import c2pa

# A store with more pictures than this is refused rather than half-checked.
MAX_CARRIED = 32
_SETTINGS = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}


class CarriedError(ValueError):
    """The file's manifest store cannot be read, or carries too much to check."""


def carried_pictures(data: bytes, mime_type: str) -> list[tuple[str, bytes]]:
    """(where, bytes) of every picture the file's manifest store holds: each manifest's
    claim thumbnail and each ingredient's thumbnail, each once. [] for a file with no
    store; CarriedError for one that cannot be read (its bytes would be copied anyway)."""
    try:
        with c2pa.Context.from_dict(_SETTINGS) as context:
            reader = c2pa.Reader.try_create(mime_type, io.BytesIO(data), None, context)
            if reader is None:
                return []
            with reader:
                return _pictures(reader)
    except c2pa.C2paError.ManifestNotFound:
        return []
    except (c2pa.C2paError, ValueError) as e:
        raise CarriedError(
            f"carries a C2PA manifest store that cannot be read ({type(e).__name__}); "
            "strip it and retry"
        ) from None


def _pictures(reader: c2pa.Reader) -> list[tuple[str, bytes]]:
    store = json.loads(reader.json())
    uris: dict[str, str] = {}
    for label, manifest in store.get("manifests", {}).items():
        refs = [("claim thumbnail", manifest.get("thumbnail"))]
        refs += [
            (f"thumbnail of ingredient {ing.get('title', '?')!r}", ing.get("thumbnail"))
            for ing in manifest.get("ingredients", [])
        ]
        for what, ref in refs:
            if isinstance(ref, dict) and ref.get("identifier"):
                uris.setdefault(ref["identifier"], f"{what} in manifest {label}")
    if len(uris) > MAX_CARRIED:
        raise CarriedError(
            f"carries {len(uris)} pictures in its C2PA manifests; at most {MAX_CARRIED} are "
            "checked, so it is refused"
        )
    pictures = []
    for uri, where in uris.items():
        out = io.BytesIO()
        reader.resource_to_stream(uri, out)
        pictures.append((where, out.getvalue()))
    return pictures

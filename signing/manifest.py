"""C2PA manifests for generated media, built and signed with c2pa-python.

What an output carries: a `c2pa.created` action with IPTC source type
`trainedAlgorithmicMedia` and the generator as software agent, each input as an
`inputTo` ingredient, and our moderation assertion (`org.reelguard.moderation`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import c2pa

from signing.signer import Signer

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
MODERATION_LABEL = "org.reelguard.moderation"
CLAIM_GENERATOR = {"name": "reelguard", "version": "0.1.0"}


@dataclass(frozen=True)
class Ingredient:
    title: str
    mime_type: str
    data: bytes


@dataclass(frozen=True)
class ManifestSpec:
    title: str
    generator_name: str
    generator_version: str
    model_id: str
    moderation: dict  # the verdict summary: checks, models, scores, policy, decision id
    ingredients: list[Ingredient] = field(default_factory=list)

    def definition(self) -> dict:
        return {
            "claim_generator_info": [CLAIM_GENERATOR],
            "title": self.title,
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "data": {
                        "actions": [
                            {
                                "action": "c2pa.created",
                                "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                                "softwareAgent": {
                                    "name": self.generator_name,
                                    "version": self.generator_version,
                                },
                                "parameters": {"model_id": self.model_id},
                            }
                        ]
                    },
                },
                {"label": MODERATION_LABEL, "data": self.moderation},
            ],
        }


class ManifestSigner:
    """Signs files in place of copying: source path in, signed file out."""

    def __init__(self, signer: Signer, *, thumbnails: bool = False) -> None:
        self._signer = signer
        self._context = c2pa.Context.from_dict(
            {
                "builder": {"thumbnail": {"enabled": thumbnails}},
                # No network at sign time: never fetch remote manifests or OCSP.
                "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
            }
        )

    def sign_file(self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str) -> bytes:
        """Write `source` with an embedded, signed manifest to `dest`; return the manifest."""
        signer = c2pa.Signer.from_callback(
            self._signer.sign, self._signer.alg, self._signer.certificate_chain_pem
        )
        with signer, c2pa.Builder(json.dumps(spec.definition()), context=self._context) as b:
            for ing in spec.ingredients:
                b.add_ingredient(
                    {"title": ing.title, "relationship": "inputTo"},
                    ing.mime_type,
                    io.BytesIO(ing.data),
                )
            with open(source, "rb") as src, open(dest, "w+b") as dst:
                return b.sign(signer, mime_type, src, dst)

"""C2PA manifests for generated media, built and signed with c2pa-python.

What an output carries: a `c2pa.created` action with IPTC source type
`trainedAlgorithmicMedia` and the generator as software agent, each input as an
`inputTo` ingredient, and our moderation assertion (`org.reelguard.moderation`).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

import c2pa

from media.mp4 import MANIFEST_RESERVE, finish_mp4
from signing.embeddable import (
    EmbeddingUnavailable,
    SignedFile,
    embed_in_place,
    has_room,
    placeholder,
)
from signing.signer import Signer
from signing.source_types import TRAINED_ALGORITHMIC_MEDIA

log = logging.getLogger(__name__)

MODERATION_LABEL = "org.reelguard.moderation"
PROBE_MESSAGE = b"reelguard health probe"
CLAIM_GENERATOR = {"name": "reelguard", "version": "0.1.0"}
# The C2PA specification the claims follow, as the conformance program (0.2) asks every
# claim generator to declare; its asset rubric for spec 2.4 passes on our outputs (the
# closing note of issue 18 has the run).
SPEC_VERSION = "2.4"
TRAINING_MINING_LABEL = "cawg.training-mining"
TRAINING_MINING_USES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.ai_inference",
    "cawg.data_mining",
)


def training_mining(use: str) -> dict:
    """The CAWG training-and-mining assertion: one `use` for each kind of use."""
    if use not in ("allowed", "notAllowed", "constrained"):
        raise ValueError(
            f"training and mining use must be allowed, notAllowed or constrained: {use!r}"
        )
    return {"entries": {kind: {"use": use} for kind in TRAINING_MINING_USES}}


@dataclass(frozen=True)
class Ingredient:
    title: str
    mime_type: str
    data: bytes
    label: str = ""  # what an action's ingredientIds name it by (not written as such)


@dataclass(frozen=True)
class ManifestSpec:
    title: str
    generator_name: str
    generator_version: str
    model_id: str
    moderation: dict  # the verdict summary: checks, models, scores, policy, decision id
    ingredients: list[Ingredient] = field(default_factory=list)
    digital_source_type: str = TRAINED_ALGORITHMIC_MEDIA
    soft_binding: dict | None = None  # a `c2pa.soft-binding` body: perceptual fingerprint
    training_mining: str = "notAllowed"  # CAWG: allowed, notAllowed or constrained
    # Performance transfer: (character image, driving video) ingredient labels. The
    # manifest then says what the driving video did: an edit of the character image,
    # with both as the action's ingredients.
    animated: tuple[str, str] | None = None

    def actions(self) -> list[dict]:
        agent = {"name": self.generator_name, "version": self.generator_version}
        created = {
            "action": "c2pa.created",
            "digitalSourceType": self.digital_source_type,
            "softwareAgent": agent,
            "parameters": {"org.reelguard.model_id": self.model_id},
        }
        if self.animated is None:
            return [created]
        animated = {
            "action": "c2pa.edited",
            "description": "The character image's face animated to follow the actor's "
            "performance in the driving video: head pose, eyes, brows and mouth.",
            "softwareAgent": agent,
            "parameters": {"ingredientIds": list(self.animated)},
        }
        return [created, animated]

    def definition(self) -> dict:
        """The manifest definition c2pa-rs builds the claim from. The actions assertion
        comes first and is a *created* assertion (the claim generator states it; claim
        v2 `created_assertions`), and says it lists every action; custom parameters are
        namespaced; every output says it may not be used for AI training or mining."""
        return {
            "claim_generator_info": [{**CLAIM_GENERATOR, "specVersion": SPEC_VERSION}],
            "title": self.title,
            "assertions": [
                {
                    "label": "c2pa.actions.v2",
                    "created": True,
                    "data": {
                        "allActionsIncluded": True,
                        "actions": self.actions(),
                    },
                },
                {"label": MODERATION_LABEL, "data": self.moderation},
                {"label": TRAINING_MINING_LABEL, "data": training_mining(self.training_mining)},
                *(
                    [{"label": "c2pa.soft-binding", "data": self.soft_binding}]
                    if self.soft_binding
                    else []
                ),
            ],
        }


@dataclass(frozen=True)
class Signed:
    data: bytes  # the asset with the manifest embedded
    manifest: bytes  # the manifest store alone (application/c2pa)


class ManifestSigner(Protocol):
    """Signs manifests into assets; in this process (`C2paManifestSigner`) or in a pool of
    replicas that hold the key (the Ray proxy). The gate sees only this."""

    def sign(self, spec: ManifestSpec, data: bytes, mime_type: str) -> Signed:
        """The signed asset, and the manifest store on its own (for the repository)."""
        ...

    def sign_bytes(self, spec: ManifestSpec, data: bytes, mime_type: str) -> bytes:
        """`data` with an embedded, signed manifest."""
        ...

    def sign_file(
        self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str, *, move: bool = False
    ) -> SignedFile:
        """Write `source` with an embedded, signed manifest to `dest`; `move`: the caller
        gives `source` up (it may become `dest`, saving a copy)."""
        ...

    def probe(self) -> None:
        """Sign PROBE_MESSAGE with the key (the health probe); raises when it cannot sign.
        It takes no bytes: a probe must not be a way to get signatures of one's choosing."""
        ...


class C2paManifestSigner:
    """Embeds a signed manifest into images (JPEG, PNG, WebP) and video (MP4, MOV).

    Files of MP4 and MOV are signed in place with one hash pass (signing/embeddable.py);
    anything else, or a c2pa build without that flow, goes through `Builder.sign`, which
    reads and writes through Python stream callbacks: the signed asset is written to
    memory (cheaper per call than a file), the source read from wherever it already is
    (bench/sign_verify.py).
    """

    def __init__(
        self,
        signer: Signer,
        *,
        thumbnails: bool = False,
        tsa_url: str | None = None,
        trust_anchors_pem: str | None = None,
    ) -> None:
        self.signer = signer
        self._tsa_url = tsa_url or None
        # Anchors matter at sign time too: an ingredient's validation (trusted or not)
        # is recorded in our manifest when it is added.
        trust = {"trust": {"trust_anchors": trust_anchors_pem}} if trust_anchors_pem else {}
        self._settings = {
            **trust,
            "builder": {"thumbnail": {"enabled": thumbnails}},
            # No network at sign time (but the TSA): never fetch remote manifests or
            # OCSP. The SDK's verify-after-sign would read the whole asset again.
            "verify": {
                "remote_manifest_fetch": False,
                "ocsp_fetch": False,
                "verify_after_sign": False,
            },
        }
        self._context = c2pa.Context.from_dict(self._settings)

    def sign_bytes(self, spec: ManifestSpec, data: bytes, mime_type: str) -> bytes:
        """`data` with an embedded, signed manifest."""
        return self.sign(spec, data, mime_type).data

    def probe(self) -> None:
        self.signer.sign(PROBE_MESSAGE)

    def sign(self, spec: ManifestSpec, data: bytes, mime_type: str) -> Signed:
        """The signed asset, and the manifest store on its own (for the repository)."""
        return self._sign(spec, io.BytesIO(data), mime_type)

    def sign_file(
        self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str, *, move: bool = False
    ) -> SignedFile:
        """Write `source` with an embedded, signed manifest to `dest`. An MP4 or MOV is
        moved (`move`) or copied to `dest` and signed there in place; other files are
        read by c2pa itself (no copy of them in memory)."""
        try:
            return self._sign_in_place(spec, source, dest, mime_type, move)
        except EmbeddingUnavailable as e:
            log.debug("signing %s the ordinary way: %s", mime_type, e)
        with open(source, "rb") as asset:
            signed = self._sign(spec, asset, mime_type)
        dest.write_bytes(signed.data)
        return SignedFile(signed.manifest, hashlib.sha256(signed.data).hexdigest())

    def _sign_in_place(
        self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str, move: bool
    ) -> SignedFile:
        signer = self._c2pa_signer()
        # The embeddable flow takes its signer from the builder's context.
        context = c2pa.Context.from_dict(self._settings, signer=signer)
        with context, self._builder(spec, context) as builder:
            box = placeholder(builder, mime_type)
            made_room = not has_room(source, len(box))
            if made_room:  # another muxer's MP4, or a manifest bigger than the room
                try:
                    finish_mp4(source, dest, reserve=max(MANIFEST_RESERVE, len(box)))
                except ValueError as e:  # a layout that pass does not take
                    dest.unlink(missing_ok=True)
                    raise EmbeddingUnavailable(f"no room for the manifest: {e}") from None
            elif move:
                shutil.move(source, dest)
            else:
                shutil.copyfile(source, dest)
            try:
                signed = embed_in_place(builder, dest, mime_type, box)
            except BaseException:
                if move and not made_room:  # embed_in_place left the bytes as they were
                    shutil.move(dest, source)
                else:
                    dest.unlink(missing_ok=True)
                raise
            if move and made_room:
                source.unlink()
            return signed

    def _c2pa_signer(self) -> c2pa.Signer:
        return c2pa.Signer.from_callback(
            self.signer.sign,
            self.signer.alg,
            self.signer.certificate_chain_pem,
            self._tsa_url,
        )

    def _builder(self, spec: ManifestSpec, context: c2pa.Context) -> c2pa.Builder:
        builder = c2pa.Builder(json.dumps(spec.definition()), context=context)
        for ing in spec.ingredients:
            # An ingredient that carries C2PA keeps its manifest and validation
            # results inside ours: the SDK reads them from the stream.
            builder.add_ingredient(
                {"title": ing.title, "relationship": "inputTo"}
                | ({"label": ing.label} if ing.label else {}),
                ing.mime_type,
                io.BytesIO(ing.data),
            )
        return builder

    def _sign(self, spec: ManifestSpec, asset: BinaryIO, mime_type: str) -> Signed:
        out = io.BytesIO()
        with self._c2pa_signer() as signer, self._builder(spec, self._context) as b:
            manifest = b.sign(signer, mime_type, asset, out)
        return Signed(out.getvalue(), manifest)

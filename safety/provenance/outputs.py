"""Signing an allowed output: what its C2PA manifest says, and the steps around it.

`OutputSigner` is the one path by which anything leaves signed — a generated output, a
held output a reviewer approved, media a client had signed: the decision to sign these
bytes under this manifest recorded first (the signer refuses anything else:
signing/authorization.py), its fingerprint declared in the manifest and the manifest
kept findable by it, then the decision recorded with the signed bytes' hash — or nothing
leaves. Generated videos also carry their manifest id as a watermark (when on).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from pathlib import Path

from generator.base import Generator, source_type
from indexes.manifests import (
    Fingerprint,
    ManifestRecord,
    ManifestRepository,
    fingerprint_frames,
    fingerprint_image,
)
from media.decode import Frame
from safety.decisions import DecisionRecorder
from safety.job import GenerateJob, SignableMedia
from safety.observability import Metrics
from safety.store.interface import SigningAuthorizationStore
from safety.store.records import SigningAuthorization
from safety.verdict import Action, Finding, Verdict
from signing import watermark
from signing.authorization import file_sha256, spec_digest
from signing.manifest import Ingredient, ManifestSigner, ManifestSpec
from signing.source_types import generated_source_type


class OutputSigner:
    def __init__(
        self,
        manifest_signer: ManifestSigner,
        manifests: ManifestRepository,
        recorder: DecisionRecorder,
        metrics: Metrics,
        watermarker: watermark.Watermarker | None = None,
        authorizations: SigningAuthorizationStore | None = None,
    ) -> None:
        self.manifest_signer = manifest_signer
        # Where the decision to sign is recorded for the signer to check (None: a
        # signer that checks nothing, as in a library use without a store).
        self.authorizations = authorizations
        self.manifests = manifests
        self.recorder = recorder
        self.metrics = metrics
        self.watermarker = watermarker  # the manifest id, invisibly in every output frame

    def sign(
        self,
        spec: ManifestSpec,
        frames: list[Frame],
        source: Path,
        dest: Path,
        mime_type: str,
        verdict: Verdict,
        request_id: str,
        tenant: str,
        parent=None,
    ) -> str:
        """An allowed video (a generated output, or a held one a reviewer approved),
        signed into `dest`; returns the signed file's SHA-256. `frames` are the ones the
        post-check saw (they fingerprint the output)."""
        if self.watermarker is not None:
            with self.metrics.stage("watermark", parent):
                source = self._watermark(source, verdict.decision_id)
        with self.metrics.stage("sign", parent):
            fingerprint = fingerprint_frames([(f.time_s, f.pixels) for f in frames])
            moderation = self._with_watermark(spec.moderation, verdict.decision_id)
            spec = replace(spec, moderation=moderation, soft_binding=fingerprint.assertion())
            self._authorize(verdict, tenant, file_sha256(source), spec)
            # The watermarked copy is this call's own: signing may turn it into `dest`.
            signed = self.manifest_signer.sign_file(
                spec, source, dest, mime_type, move=self.watermarker is not None
            )
            self._keep(
                verdict, fingerprint, signed.manifest, signed.sha256, mime_type, request_id, tenant
            )
        return signed.sha256

    def sign_media(
        self, media: SignableMedia, spec: ManifestSpec, verdict: Verdict, tenant: str
    ) -> bytes:
        """Media made elsewhere (Provenance.Sign), allowed: signed as it came (its pixels
        are the client's: no watermark), fingerprinted and recorded like an output."""
        frames = media.clip.frames
        fingerprint = (
            fingerprint_frames([(f.time_s, f.pixels) for f in frames])
            if media.scope == "video"
            else fingerprint_image(frames[0].pixels)
        )
        spec = replace(spec, soft_binding=fingerprint.assertion())
        self._authorize(verdict, tenant, hashlib.sha256(media.data).hexdigest(), spec)
        signed = self.manifest_signer.sign(spec, media.data, media.mime_type)
        sha256 = hashlib.sha256(signed.data).hexdigest()
        self._keep(
            verdict,
            fingerprint,
            signed.manifest,
            sha256,
            media.mime_type,
            verdict.decision_id,
            tenant,
        )
        return signed.data

    def _authorize(
        self, verdict: Verdict, tenant: str, content_sha256: str, spec: ManifestSpec
    ) -> None:
        """Record the decision to sign exactly this (the signer checks it and uses it up)."""
        if verdict.action != Action.ALLOW or spec.moderation.get("action") != "allow":
            raise ValueError(f"decision {verdict.decision_id} is not an allow: nothing to sign")
        if self.authorizations is not None:
            self.authorizations.authorize_signing(
                SigningAuthorization(
                    verdict.decision_id, tenant, content_sha256, spec_digest(spec), time.time()
                )
            )

    def _keep(
        self,
        verdict: Verdict,
        fingerprint: Fingerprint,
        manifest: bytes,
        sha256: str,
        mime_type: str,
        request_id: str,
        tenant: str,
    ) -> None:
        """What every signature is followed by: the manifest kept findable by the
        fingerprint its soft binding declares, and the decision recorded with the signed
        bytes' hash (strictly: nothing signed leaves without its record)."""
        self.remember(verdict.decision_id, fingerprint, manifest, mime_type)
        self.recorder.record(verdict, request_id, tenant, output_sha256=sha256, strict=True)

    def remember(
        self, manifest_id: str, fingerprint: Fingerprint, manifest: bytes, mime_type: str
    ) -> None:
        """Keep the manifest findable by content, for copies whose metadata is stripped."""
        self.manifests.remember(
            ManifestRecord(manifest_id, fingerprint.alg, fingerprint.hashes, manifest, mime_type)
        )

    def _watermark(self, video: Path, manifest_id: str) -> Path:
        """A copy of `video` carrying the manifest id invisibly (signed in its place)."""
        marked = video.with_name(f"{video.stem}.wm.mp4")
        payload = watermark.payload_for(manifest_id)
        watermark.watermark_video(video, marked, payload, marker=self.watermarker)
        return marked

    def _with_watermark(self, moderation: dict, manifest_id: str) -> dict:
        if self.watermarker is None:
            return moderation
        payload = watermark.payload_for(manifest_id).hex()
        return {**moderation, "watermark": {"alg": self.watermarker.alg, "payload": payload}}


CHARACTER, PERFORMANCE = "character", "performance"  # ingredient labels


def output_manifest(
    job: GenerateJob, generator: Generator, verdict: Verdict, training_mining: str = "notAllowed"
) -> ManifestSpec:
    """The manifest of a generated output: the generator, the verdict, the inputs as
    ingredients."""
    ingredients = []
    if job.image is not None:
        ext = job.image.mime_type.split("/")[1]
        ingredients.append(
            Ingredient(f"input.{ext}", job.image.mime_type, job.image.data, CHARACTER)
        )
    if job.driving is not None:
        ext = job.driving.mime_type.split("/")[1].removeprefix("x-")
        ingredients.append(
            Ingredient(f"driving.{ext}", job.driving.mime_type, job.driving.data, PERFORMANCE)
        )
    # The backend animated the image with the driving video (it accepts both, and was
    # chosen because it uses every input): the manifest says so in an action of its own.
    animated = (CHARACTER, PERFORMANCE) if job.driving is not None and job.image else None
    return ManifestSpec(
        title=f"{job.request_id}.mp4",
        generator_name=f"reelguard/{generator.name}",
        generator_version=generator.version,
        model_id=generator.model_id,
        moderation=moderation_assertion(verdict),
        ingredients=ingredients,
        # The backend's own declaration; one that declares nothing is labelled the
        # cautious way, as a trained model's output.
        digital_source_type=generated_source_type(source_type(generator)),
        training_mining=training_mining,
        animated=animated,
    )


def moderation_assertion(verdict: Verdict) -> dict:
    """The C2PA summary of a verdict: checks and models, highest score per category."""
    top: dict[tuple[str, str, str], Finding] = {}
    for f in verdict.findings:
        key = (f.check, f.category, f.subject)
        if key not in top or f.score > top[key].score:
            top[key] = f
    return {
        "schema": "reelguard.moderation/1",
        "decision_id": verdict.decision_id,
        "action": verdict.action.name.lower(),
        "policy_version": verdict.policy_version,
        "unevaluated": verdict.unevaluated,
        # Counts only: the times stay in the decision record (c2pa's CBOR would turn a
        # list of whole-number times into bytes).
        "frames_checked": {
            subject: {"checked": n["checked"], "total": n["total"]}
            for subject, n in verdict.frames_checked.items()
        },
        "checks": [
            {
                "name": c.name,
                "stage": c.stage.name.lower(),
                "model": c.model,
                "model_version": c.model_version,
                "ok": c.ok,
                "ran": c.ran,
            }
            for c in verdict.checks
        ],
        "scores": [
            {
                "check": f.check,
                "category": f.category,
                "subject": f.subject,
                "max_score": round(f.score, 4),
                "threshold": f.threshold,
            }
            for f in top.values()
        ],
        "consent": consent_bases(verdict),
    }


def consent_bases(verdict: Verdict) -> list[dict]:
    """Each (identity, grant) that authorized a likeness in this verdict, once."""
    bases: dict[tuple[str, str], dict] = {}
    for f in verdict.findings:
        if f.consent:
            basis = {"identity_id": f.identity_id, **f.consent}
            if basis.get("expires_at") is None:  # none, or dropped by a stored verdict
                basis.pop("expires_at", None)
            bases.setdefault((f.identity_id, f.consent["grant_id"]), basis)
    return list(bases.values())

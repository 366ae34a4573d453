"""Held outputs: keeping one for human review, and what a reviewer's decision does to it.

A held output waits unsigned with everything signing it needs (the manifest it would
have had, its ingredients on disk). Approval signs it through the same `OutputSigner` as
any allowed output, its manifest recording the human review; rejection puts its content
in a hash bank so the same content is blocked next time.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from indexes.hashbank import HashBanks, media_hashes
from media.decode import decode_image
from media.sampling import Sampling, sample_video_frames
from safety.decisions import DecisionRecorder
from safety.job import Held
from safety.provenance.outputs import OutputSigner
from safety.review.queue import Released, ReviewQueue
from safety.store.records import ReviewItem
from safety.store.shared_media import SharedMedia
from safety.verdict import Action, Stage, Verdict
from signing.manifest import Ingredient, ManifestSpec
from signing.source_types import TRAINED_ALGORITHMIC_MEDIA

# Banking a rejected input decodes it again; it was within the request's ceiling already.
MAX_BANKED_PIXELS = 100_000_000


class Holding:
    def __init__(
        self, signer: OutputSigner, recorder: DecisionRecorder, sampling: Sampling
    ) -> None:
        self.signer = signer
        self.recorder = recorder
        self.sampling = sampling

    def hold(
        self,
        review: ReviewQueue,
        request_id: str,
        tenant: str,
        prompt: str,
        content_sha256: str,
        verdict: Verdict,
        spec: ManifestSpec,
        raw: Path,
        mime_type: str,
    ) -> Held:
        """Keep the unsigned output and what signing it needs; record the decision."""
        self.recorder.record(verdict, request_id, tenant, strict=True)
        ingredients = []
        for i, ing in enumerate(spec.ingredients):
            key = review.media.keep_bytes(f"held/{request_id}-ingredient-{i}", ing.data)
            ingredients.append(
                {"title": ing.title, "mime_type": ing.mime_type, "path": key, "label": ing.label}
            )
        held_spec = {
            "title": spec.title,
            "generator_name": spec.generator_name,
            "generator_version": spec.generator_version,
            "model_id": spec.model_id,
            "moderation": spec.moderation,
            "ingredients": ingredients,
            "digital_source_type": spec.digital_source_type,
            "training_mining": spec.training_mining,
            "animated": spec.animated,
        }
        ticket = review.hold(
            request_id=request_id,
            tenant=tenant,
            prompt=prompt,
            verdict=verdict,
            output=raw,
            mime_type=mime_type,
            spec=held_spec,
            content_sha256=content_sha256,
        )
        return Held(ticket, verdict)

    def release(self, item: ReviewItem, review: dict, media: SharedMedia) -> Released:
        """Sign an approved item; its manifest records the human review. Idempotent on
        the review's release decision id: once that decision is recorded, the signed file
        is the release, and a resumed release signs nothing again."""
        held_path = media.path(item.held_path)
        signed_key = f"signed/{item.ticket}.mp4"
        decision_id = review.get("release_decision_id") or uuid.uuid4().hex
        recorded = self.recorder.store.decision(decision_id)
        if recorded is not None and media.exists(signed_key):
            return Released(signed_key, recorded["output_sha256"], decision_id)
        signed = held_path.with_name(f"{item.ticket}.signed.mp4")
        frames = sample_video_frames(held_path, self.sampling).frames
        verdict = Verdict(
            action=Action.ALLOW,
            stage=Stage.POST_CHECK,
            policy_version=item.verdict.get("policy_version", ""),
            decision_id=decision_id,
        )
        held = item.spec
        spec = ManifestSpec(
            title=held["title"],
            generator_name=held["generator_name"],
            generator_version=held["generator_version"],
            model_id=held["model_id"],
            moderation={
                **held["moderation"],
                "action": "allow",
                "decision_id": verdict.decision_id,
                "held_decision_id": item.decision_id,
                "human_review": review,
            },
            ingredients=[
                Ingredient(
                    i["title"], i["mime_type"], media.read_bytes(i["path"]), i.get("label", "")
                )
                for i in held["ingredients"]
            ],
            # Held before these were kept: the cautious label, no training or mining.
            digital_source_type=held.get("digital_source_type", TRAINED_ALGORITHMIC_MEDIA),
            training_mining=held.get("training_mining", "notAllowed"),
            animated=tuple(held["animated"]) if held.get("animated") else None,
        )
        digest = self.signer.sign(
            spec, frames, held_path, signed, item.mime_type, verdict, item.request_id, item.tenant
        )
        media.keep(signed_key, signed, move=True)
        return Released(signed_key, digest, verdict.decision_id)

    def bank_rejected(
        self, item: ReviewItem, banks: HashBanks, bank: str, media: SharedMedia
    ) -> int:
        """Put a rejected item's content (output frames and input image) in `bank`, so
        the same content is blocked next time; returns how many hashes were added."""
        held = media.path(item.held_path)
        frames = [f.pixels for f in sample_video_frames(held, self.sampling).frames]
        for ing in item.spec["ingredients"]:
            if ing["mime_type"].startswith("image/"):
                data = media.read_bytes(ing["path"])
                frames.append(decode_image(data, max_pixels=MAX_BANKED_PIXELS).pixels)
        banks.ensure(bank, "content rejected in human review", filled_by="review")
        hashes = media_hashes(frames)  # none if every frame is featureless: nothing to bank
        if not hashes:
            return 0
        return len(banks.add(bank, hashes, item.ticket, f"review {item.ticket}"))

    @staticmethod
    def unbank(ticket: str, banks: HashBanks) -> int:
        """Remove the bank entries a rejection of `ticket` added (an appeal reversed it)."""
        entries = banks.storage.bank_entries(media_id=ticket)
        for entry in entries:
            banks.remove(entry.id)
        return len(entries)

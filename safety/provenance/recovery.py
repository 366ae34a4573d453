"""Durable credentials: the manifest of a copy that lost it, by watermark or fingerprint.

The verifier (signing/verify.py) asks; this answers from the deployment's manifest
repository (indexes/manifests.py) and the watermark its outputs carry."""

from __future__ import annotations

from indexes.manifests import ManifestRepository, fingerprint_copy
from media.lookup import MAX_DECODE_PIXELS, decode_for_lookup
from signing.verify import Recovered
from signing.watermark import Watermarker


class DurableCredentials:
    """A `ManifestRecovery`: the invisible watermark's manifest id when the copy's
    fingerprint confirms it, else the nearest fingerprint in the repository."""

    def __init__(
        self,
        repository: ManifestRepository,
        watermarker: Watermarker | None = None,
        max_image_pixels: int = MAX_DECODE_PIXELS,
    ) -> None:
        self.repository = repository
        self.watermarker = watermarker  # None: no watermark is read
        self.max_image_pixels = max_image_pixels  # the uploads' ceiling

    def recover(self, data: bytes, mime_type: str) -> Recovered | None:
        frames = decode_for_lookup(data, mime_type, max_image_pixels=self.max_image_pixels)
        if not frames:
            return None
        # Only generated videos are watermarked (signed images are the client's pixels).
        marker = self.watermarker if mime_type.startswith("video/") else None
        reading = marker.read(pixels for _, pixels in frames) if marker else None
        record = (
            self.repository.by_watermark(reading.manifest_prefix)
            if reading is not None and reading.found
            else None
        )
        fingerprint = fingerprint_copy(frames, mime_type)
        if record is not None:
            how = {"by": "watermark", "alg": marker.alg, "confidence": round(reading.confidence, 3)}
            if self.repository.lookup(fingerprint, record.manifest_id):
                words = f"its invisible watermark (confidence {reading.confidence:.2f})"
                return Recovered(record.manifest_id, how, words, record.manifest)
            # A mark that names a manifest whose content this is not: stamped onto another
            # video, or a collision.
            words = (
                f"the watermark names manifest {record.manifest_id}, but this content does "
                "not match its fingerprint"
            )
            return Recovered(record.manifest_id, how, words)
        found = self.repository.lookup(fingerprint)
        if found is None:
            return None
        record = found.record
        how = {
            "by": "fingerprint",
            "alg": record.alg,
            "distance": round(found.distance, 1),
            "matched_frames": round(found.matched_frames, 3),
        }
        words = f"its {record.alg} fingerprint (distance {found.distance:.0f} of 256 bits)"
        return Recovered(record.manifest_id, how, words, record.manifest)

"""The auditor's view of a file: is its C2PA manifest valid, and is its signer trusted?

Only `Trusted` (valid, and the signer chains to a configured anchor) counts as
verified. c2pa-python does the cryptography; this module turns its results into a
report people can read, and never raises on hostile or odd input.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import c2pa

from indexes.manifests import ManifestRepository, decode_for_lookup, fingerprint_copy
from signing import watermark
from signing.manifest import MODERATION_LABEL

REPORT_SCHEMA = "reelguard.verify/1"

TRUSTED, VALID_UNTRUSTED, INVALID, NO_MANIFEST = (
    "trusted",
    "valid_untrusted",
    "invalid",
    "no_manifest",
)

# Plain words for the validation codes people meet most; others keep c2pa's own text.
EXPLANATIONS = {
    "signingCredential.untrusted": "the signing certificate does not chain to a trusted "
    "anchor: the content may be intact, but nobody you trust vouches for the signer",
    "signingCredential.invalid": "the signing certificate is malformed or not allowed to sign",
    "signingCredential.revoked": "the signing certificate has been revoked",
    "signingCredential.expired": "the signing certificate had expired when it signed",
    "claimSignature.mismatch": "the manifest's signature does not match its claim: the "
    "manifest was altered after signing",
    "claimSignature.missing": "the manifest has no signature",
    "claimSignature.outsideValidity": "the signature was made outside the certificate's "
    "validity period",
    "assertion.dataHash.mismatch": "the media bytes changed after signing (content hash "
    "mismatch): the pixels or data were tampered with",
    "assertion.bmffHash.mismatch": "the video bytes changed after signing (MP4/BMFF hash "
    "mismatch): the media was tampered with",
    "assertion.boxesHash.mismatch": "the file's boxes changed after signing (box hash "
    "mismatch): the media was tampered with",
    "assertion.hashedURI.mismatch": "an assertion changed after signing: its hash in the "
    "claim no longer matches",
    "assertion.missing": "an assertion the claim refers to is missing",
    "assertion.cbor.invalid": "an assertion cannot be decoded",
    "assertion.action.ingredientMismatch": "an action refers to an ingredient that is missing",
    "ingredient.hashedURI.mismatch": "an ingredient's data changed after signing",
    "ingredient.manifest.mismatch": "an ingredient's manifest changed after signing",
    "manifest.inaccessible": "the manifest could not be read",
    "claim.missing": "the manifest store has no claim",
    "timeStamp.mismatch": "the timestamp does not match the signature",
    "timeStamp.untrusted": "the timestamp authority is not trusted",
    "timeStamp.outsideValidity": "the timestamp lies outside the TSA certificate's validity",
    "algorithm.unsupported": "the file uses a signing or hash algorithm that is not supported",
    "general.error": "the file could not be validated",
}

# Failures that say "not trusted" rather than "not intact".
TRUST_CODES = {
    "signingCredential.untrusted": "signer",
    "timeStamp.untrusted": "timestamp authority",
}

# Which part of the file a failure points at, for "what was tampered with".
_TAMPER_AREAS = [
    ("thumbnail", "thumbnail"),
    ("dataHash", "media data"),
    ("bmffHash", "media data"),
    ("boxesHash", "media data"),
    ("claimSignature", "manifest"),
    ("hashedURI", "manifest"),
    ("ingredient", "ingredient"),
]


@dataclass
class VerifyReport:
    status: str
    summary: str
    path: str = ""
    active_manifest: str = ""
    signer: str = ""
    issuer: str = ""
    signed_at: str = ""
    actions: list[str] = field(default_factory=list)
    digital_source_types: list[str] = field(default_factory=list)
    ingredients: list[dict] = field(default_factory=list)
    moderation: dict | None = None
    statuses: list[dict] = field(default_factory=list)  # {code, explanation, url, kind}
    tampered: list[str] = field(default_factory=list)
    timestamp: dict | None = None  # {"time": ..., "trusted": bool} when an RFC 3161 stamp exists
    recovered: dict | None = None  # soft binding: the stored manifest a stripped copy matched
    manifest: dict | None = None  # the active manifest as a tree (see `manifest_tree`)
    error: str = ""
    schema: str = REPORT_SCHEMA

    @property
    def failures(self) -> list[dict]:
        return [s for s in self.statuses if s["kind"] == "failure"]

    @property
    def trusted(self) -> bool:
        return self.status == TRUSTED

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


class Verifier:
    """Holds the trust settings; `verify` may be called from many threads.

    Claim signers and timestamp authorities have separate trust lists. c2pa-rs checks
    both against one anchor set, so a TSA root among the signer anchors could vouch for
    signers too; instead the timestamp's trust is read in a second pass whose anchors
    are the TSA list alone (only for files that carry a timestamp)."""

    def __init__(
        self,
        trust_anchors_pem: str | None,
        tsa_anchors_pem: str | None = None,
        repository: ManifestRepository | None = None,
        watermarker: watermark.Watermarker | None = None,
    ) -> None:
        self._settings = _settings(trust_anchors_pem)
        self._tsa_settings = _settings(tsa_anchors_pem) if tsa_anchors_pem else None
        self._repository = repository
        self._watermarker = watermarker or watermark.DwtDctQim()  # what outputs were marked with

    def verify_file(self, path: Path) -> VerifyReport:
        """Like `verify_bytes`, but c2pa reads the open file itself: no copy of the
        asset in memory unless a stripped copy needs its frames decoded."""
        try:
            with open(path, "rb") as f:
                report = self._verify(f, sniff_mime(f.read(32)), f.read)
        except OSError as e:
            return VerifyReport(
                INVALID, f"cannot read {path}: {e.strerror}", path=str(path), error=str(e)
            )
        report.path = str(path)
        return report

    def verify_bytes(self, data: bytes, mime_type: str = "") -> VerifyReport:
        return self._verify(io.BytesIO(data), mime_type or sniff_mime(data), lambda: data)

    def _verify(
        self, asset: BinaryIO, mime_type: str, read_all: Callable[[], bytes]
    ) -> VerifyReport:
        if not mime_type:
            return VerifyReport(NO_MANIFEST, "not a media format C2PA can carry (unrecognised)")
        report = self._read(asset, mime_type, self._settings)
        if report.status == NO_MANIFEST and self._repository is not None:
            asset.seek(0)
            self._recover(report, read_all(), mime_type)
        if report.timestamp is not None and self._tsa_settings is not None:
            tsa_pass = self._read(asset, mime_type, self._tsa_settings)
            codes = {s["code"] for s in tsa_pass.statuses}
            report.timestamp["trusted"] = "timeStamp.trusted" in codes
        return report

    def _recover(self, report: VerifyReport, data: bytes, mime_type: str) -> None:
        """Durable credentials for a stripped copy: the manifest id its invisible watermark
        carries, else the nearest perceptual fingerprint in the manifest repository."""
        frames = decode_for_lookup(data, mime_type)
        if not frames:
            return
        # Only generated videos are watermarked (signed images are the client's pixels).
        video = mime_type.startswith("video/")
        reading = self._watermarker.read(pixels for _, pixels in frames) if video else None
        record = (
            self._repository.by_watermark(reading.manifest_prefix)
            if reading is not None and reading.found
            else None
        )
        if record is not None:
            how = {"by": "watermark", "alg": self._watermarker.alg}
            how["confidence"] = round(reading.confidence, 3)
            words = f"its invisible watermark (confidence {reading.confidence:.2f})"
        else:
            found = self._repository.lookup(fingerprint_copy(frames, mime_type))
            if found is None:
                return
            record = found.record
            how = {"by": "fingerprint", "alg": record.alg, "distance": round(found.distance, 1)}
            how["matched_frames"] = round(found.matched_frames, 3)
            words = f"its {record.alg} fingerprint (distance {found.distance:.0f} of 256 bits)"
        # Read the stored manifest against this copy: its provenance, not its integrity
        # (the hard binding cannot match re-encoded bytes, and is not claimed to).
        recovered = self._read(io.BytesIO(data), mime_type, self._settings, record.manifest)
        report.recovered = {
            "manifest": recovered.active_manifest,
            "manifest_id": record.manifest_id,
            **how,
            "signer": recovered.signer,
            "moderation": recovered.moderation,
        }
        report.manifest = recovered.manifest
        report.summary = (
            f"no embedded manifest; recovered manifest {recovered.active_manifest} by {words}"
        )

    def _read(
        self, asset: BinaryIO, mime_type: str, settings: str, manifest_data: bytes | None = None
    ) -> VerifyReport:
        try:
            asset.seek(0)
            with c2pa.Context.from_json(settings) as ctx:
                reader = c2pa.Reader.try_create(mime_type, asset, manifest_data, ctx)
                if reader is None:
                    return VerifyReport(NO_MANIFEST, "no C2PA manifest in this file")
                with reader:
                    state = reader.get_validation_state() or ""
                    store = json.loads(reader.json())
        except c2pa.C2paError.ManifestNotFound:
            return VerifyReport(NO_MANIFEST, "no C2PA manifest in this file")
        except c2pa.C2paError as e:
            msg = str(e)
            if isinstance(e, c2pa.C2paError.RemoteManifest) or msg.startswith("Remote:"):
                # The file points at a manifest elsewhere; we never fetch at verify time.
                return VerifyReport(
                    NO_MANIFEST,
                    f"no embedded manifest; the file refers to a remote one, not fetched ({msg})",
                    error=msg,
                )
            return VerifyReport(INVALID, f"the C2PA data cannot be read: {msg}", error=msg)
        except Exception as e:  # hostile input must produce a report, not a crash
            return VerifyReport(INVALID, f"verification failed: {e}", error=repr(e))
        return _report(state, store)


def _settings(anchors_pem: str | None) -> str:
    settings: dict = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True}
    }
    if anchors_pem:
        # Replace the SDK's built-in anchors: trust exactly what this deployment configures.
        settings["trust"] = {"trust_anchors": anchors_pem}
    return json.dumps(settings)


def _report(state: str, store: dict) -> VerifyReport:
    statuses = _statuses(store.get("validation_results") or {})
    failures = [s for s in statuses if s["kind"] == "failure"]
    if state == "Trusted" and not failures:
        status, summary = TRUSTED, "Trusted: valid manifest from a trusted signer"
    elif state == "Valid" or (failures and all(f["code"] in TRUST_CODES for f in failures)):
        # Cryptographically intact; only trust is missing (signer, or timestamp authority).
        status = VALID_UNTRUSTED
        who = sorted({TRUST_CODES[f["code"]] for f in failures}) or ["signer"]
        verb = "is" if len(who) == 1 else "are"
        summary = (
            f"Valid, but the {' and the '.join(who)} {verb} not trusted "
            "(no configured anchor vouches for it)"
        )
    else:
        status, summary = (
            INVALID,
            "Invalid: "
            + "; ".join(sorted({f["explanation"] for f in failures}) or {"validation failed"}),
        )
    label = store.get("active_manifest") or ""
    manifest = (store.get("manifests") or {}).get(label) or {}
    sig = manifest.get("signature_info") or {}
    report = VerifyReport(
        status=status,
        summary=summary,
        active_manifest=label,
        signer=str(sig.get("common_name") or ""),
        issuer=str(sig.get("issuer") or ""),
        signed_at=str(sig.get("time") or ""),
        statuses=statuses,
        tampered=sorted(
            {
                area
                for f in failures
                for key, area in _TAMPER_AREAS
                if key in f["code"] or key in f["url"]
            }
        ),
    )
    for assertion in manifest.get("assertions") or []:
        lbl, body = assertion.get("label", ""), assertion.get("data") or {}
        if lbl.startswith("c2pa.actions"):
            for action in body.get("actions") or []:
                report.actions.append(str(action.get("action", "")))
                if action.get("digitalSourceType"):
                    report.digital_source_types.append(str(action["digitalSourceType"]))
        elif lbl == MODERATION_LABEL:
            report.moderation = body
    for ing in manifest.get("ingredients") or []:
        report.ingredients.append(
            {
                "title": ing.get("title", ""),
                "format": ing.get("format", ""),
                "relationship": ing.get("relationship", ""),
                "has_manifest": bool(ing.get("active_manifest")),
            }
        )
    codes = {s["code"] for s in statuses}
    if sig.get("time") or codes & {
        "timeStamp.trusted",
        "timeStamp.untrusted",
        "timeStamp.validated",
    }:
        report.timestamp = {
            "time": str(sig.get("time") or ""),
            "trusted": "timeStamp.trusted" in codes and "timeStamp.untrusted" not in codes,
        }
    report.manifest = manifest_tree(store, label)
    return report


def manifest_tree(store: dict, label: str, depth: int = 0) -> dict | None:
    """A manifest and, recursively, the manifests of its ingredients.

    Each node: label, title, signer, issuer, signed_at, claim_generator, assertions
    (labels; ours and the actions decoded), ingredients (title, format, relationship,
    the validation status recorded when it was ingested, and its own manifest node)."""
    manifests = store.get("manifests") or {}
    manifest = manifests.get(label)
    if manifest is None or depth > 16:  # a cycle or absurd depth in a hostile file
        return None
    sig = manifest.get("signature_info") or {}
    assertions = []
    for a in manifest.get("assertions") or []:
        lbl = str(a.get("label", ""))
        entry: dict = {"label": lbl}
        if lbl.startswith("c2pa.actions") or lbl == MODERATION_LABEL:
            entry["data"] = a.get("data")
        assertions.append(entry)
    ingredients = []
    for ing in manifest.get("ingredients") or []:
        results = ing.get("validation_results") or {}
        failures = [
            f.get("code") for f in (results.get("activeManifest") or {}).get("failure") or []
        ]
        child = ing.get("active_manifest") or ""
        ingredients.append(
            {
                "title": ing.get("title", ""),
                "format": ing.get("format", ""),
                "relationship": ing.get("relationship", ""),
                "manifest_label": child,
                "failures_at_ingest": failures,
                "manifest": manifest_tree(store, child, depth + 1) if child else None,
            }
        )
    generators = manifest.get("claim_generator_info") or []
    return {
        "label": label,
        "title": manifest.get("title", ""),
        "signer": str(sig.get("common_name") or ""),
        "issuer": str(sig.get("issuer") or ""),
        "signed_at": str(sig.get("time") or ""),
        "claim_generator": ", ".join(
            f"{g.get('name', '')} {g.get('version', '')}".strip() for g in generators
        ),
        "assertions": assertions,
        "ingredients": ingredients,
    }


def _statuses(results: dict) -> list[dict]:
    out = []
    sections = [results.get("activeManifest") or {}]
    sections += [d.get("validationDeltas") or {} for d in results.get("ingredientDeltas") or []]
    for section in sections:
        for kind in ("failure", "informational", "success"):
            for item in section.get(kind) or []:
                code = str(item.get("code", ""))
                out.append(
                    {
                        "code": code,
                        "explanation": EXPLANATIONS.get(code)
                        or str(item.get("explanation") or code),
                        "url": str(item.get("url") or ""),
                        "kind": kind,
                    }
                )
    return out


def sniff_mime(data: bytes) -> str:
    """The media type from magic bytes; C2PA readers need it and clients often omit it."""
    head = data[:32]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video/x-msvideo"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime"
        if brand in (b"heic", b"heix", b"mif1"):
            return "image/heic"
        return "video/mp4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "video/quicktime"
    return ""

"""The auditor's view of a file: is its C2PA manifest valid, and is its signer trusted?

Only `Trusted` (valid, and the signer chains to a configured anchor) counts as
verified. c2pa-python does the cryptography; this module turns its results into a
report people can read, and never raises on hostile or odd input.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import c2pa
from cryptography import x509

from media.sniff import sniff_mime
from signing.report import INVALID, NO_MANIFEST, VerifyReport, build_report


@dataclass(frozen=True)
class Recovered:
    """Where a stripped copy's manifest was found."""

    manifest_id: str
    how: dict  # "by" (watermark, fingerprint), "alg" and its measure, for the report
    words: str  # the same in words, for the summary
    manifest: bytes | None = None  # None: an unconfirmed candidate, not read


class ManifestRecovery(Protocol):
    """The durable credentials of a deployment (its manifest repository and watermark)."""

    def recover(self, data: bytes, mime_type: str) -> Recovered | None: ...


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
        recovery: ManifestRecovery | None = None,
    ) -> None:
        # Kept to be handed out: an auditor's own verifier trusts what this one does.
        self.trust_anchors_pem = trust_anchors_pem or ""
        self.tsa_anchors_pem = tsa_anchors_pem or ""
        self._settings = _settings(trust_anchors_pem)
        self._tsa_settings = _settings(tsa_anchors_pem) if tsa_anchors_pem else None
        # Finds the manifest of a copy that lost it; None: a stripped copy stays unknown.
        self._recovery = recovery

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

    def crjson(self, path: Path) -> str:
        """The file's manifest store as c2pa-rs's crJSON (what C2PA conformance tools
        read), validated against the same trust settings as the report."""
        with open(path, "rb") as f:
            mime_type = sniff_mime(f.read(32))
            if not mime_type:
                raise ValueError(f"{path} is not a media format C2PA can carry")
            f.seek(0)
            with c2pa.Context.from_json(self._settings) as ctx:
                reader = c2pa.Reader.try_create(mime_type, f, None, ctx)
                if reader is None:
                    raise ValueError(f"{path} has no C2PA manifest")
                with reader:
                    return reader.crjson()

    def verify_bytes(self, data: bytes, mime_type: str = "") -> VerifyReport:
        return self._verify(io.BytesIO(data), mime_type or sniff_mime(data), lambda: data)

    def _verify(
        self, asset: BinaryIO, mime_type: str, read_all: Callable[[], bytes]
    ) -> VerifyReport:
        if not mime_type:
            return VerifyReport(NO_MANIFEST, "not a media format C2PA can carry (unrecognised)")
        report = self._read(asset, mime_type, self._settings)
        if report.status == NO_MANIFEST and self._recovery is not None:
            asset.seek(0)
            self._recover(report, read_all(), mime_type)
        if report.timestamp is not None and self._tsa_settings is not None:
            tsa_pass = self._read(asset, mime_type, self._tsa_settings)
            codes = {s["code"] for s in tsa_pass.statuses}
            report.timestamp["trusted"] = "timeStamp.trusted" in codes
        return report

    def _recover(self, report: VerifyReport, data: bytes, mime_type: str) -> None:
        """Durable credentials for a stripped copy: the recovery finds the manifest (by
        watermark or fingerprint); it is read here against this copy."""
        found = self._recovery.recover(data, mime_type)
        if found is None:
            return
        if found.manifest is None:
            # A candidate only (a mark on content that is not its manifest's): nothing of
            # that manifest is claimed.
            report.recovered = {**found.how, "manifest_id": found.manifest_id, "confirmed": False}
            report.summary = f"no embedded manifest; an unconfirmed candidate: {found.words}"
            return
        # Read the stored manifest against this copy: its provenance, not its integrity
        # (the hard binding cannot match re-encoded bytes, and is not claimed to).
        recovered = self._read(io.BytesIO(data), mime_type, self._settings, found.manifest)
        report.recovered = {
            "manifest": recovered.active_manifest,
            "manifest_id": found.manifest_id,
            **found.how,
            "confirmed": True,
            "signer": recovered.signer,
            "moderation": recovered.moderation,
        }
        report.manifest = recovered.manifest
        report.summary = (
            f"no embedded manifest; recovered manifest {recovered.active_manifest} by {found.words}"
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
        return build_report(state, store)


def _settings(anchors_pem: str | None) -> str:
    settings: dict = {
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True}
    }
    if anchors_pem:
        # Replace the SDK's built-in anchors: trust exactly what this deployment configures.
        settings["trust"] = {"trust_anchors": anchors_pem}
    return json.dumps(settings)


def anchor_subjects(pem: str) -> list[str]:
    """Each certificate's subject in a PEM bundle, for a person comparing trust lists."""
    if not pem.strip():
        return []
    return [c.subject.rfc4514_string() for c in x509.load_pem_x509_certificates(pem.encode())]

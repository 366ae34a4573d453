"""A signature only for a recorded decision, checked where the key is.

Whoever can reach a signer could otherwise have anything signed "allow": in a Ray
cluster every pod holds the cluster token, the face and nudity workers that parse hostile
media included. So the signer itself asks the store, before it signs, for the decision
that authorizes exactly this: the decision named in the manifest's moderation assertion,
recorded as "allow" for these bytes (SHA-256) and this manifest (`spec_digest`), and not
used before. The front door records it after its checks allowed the output (or a reviewer
approved it) and just before asking for the signature; each is good for one signature.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Protocol

from signing.embeddable import SignedFile
from signing.manifest import ManifestSigner, ManifestSpec, Signed

SIGNABLE_ACTION = "allow"  # a release after human review is recorded as an allow too


class NotAuthorized(PermissionError):
    """No recorded decision authorizes this signature."""


class SigningAuthorizations(Protocol):
    """Where the decisions to sign are recorded (the service's store implements it)."""

    def use_signing_authorization(
        self, decision_id: str, content_sha256: str, spec_sha256: str
    ) -> bool:
        """True once: when an unused authorization of `decision_id` names exactly these
        bytes and this manifest (then it is used up); False otherwise."""
        ...


def spec_digest(spec: ManifestSpec) -> str:
    """A SHA-256 over everything the manifest will say (ingredients by their bytes' hash):
    what an authorization binds, so neither the verdict nor a label can be swapped."""

    def plain(value):
        if isinstance(value, bytes):
            return {"sha256": hashlib.sha256(value).hexdigest()}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    fields["ingredients"] = [dataclasses.asdict(i) for i in spec.ingredients]
    canonical = json.dumps(plain(fields), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class AuthorizedSigner:
    """A `ManifestSigner` that signs only what a recorded decision authorizes."""

    def __init__(self, inner: ManifestSigner, authorizations: SigningAuthorizations) -> None:
        self.inner = inner
        self.authorizations = authorizations

    def sign(self, spec: ManifestSpec, data: bytes, mime_type: str) -> Signed:
        self._authorized(spec, hashlib.sha256(data).hexdigest())
        return self.inner.sign(spec, data, mime_type)

    def sign_bytes(self, spec: ManifestSpec, data: bytes, mime_type: str) -> bytes:
        return self.sign(spec, data, mime_type).data

    def sign_file(
        self, spec: ManifestSpec, source: Path, dest: Path, mime_type: str, *, move: bool = False
    ) -> SignedFile:
        self._authorized(spec, file_sha256(source))
        return self.inner.sign_file(spec, source, dest, mime_type, move=move)

    def probe(self) -> None:
        self.inner.probe()

    def _authorized(self, spec: ManifestSpec, content_sha256: str) -> None:
        decision_id = str(spec.moderation.get("decision_id") or "")
        action = spec.moderation.get("action")
        if (
            action != SIGNABLE_ACTION
            or not decision_id
            or not self.authorizations.use_signing_authorization(
                decision_id, content_sha256, spec_digest(spec)
            )
        ):
            raise NotAuthorized(
                f"no recorded decision authorizes this signature (decision {decision_id!r}, "
                f"action {action!r}): only an allowed or released output is signed, once, "
                "as it was recorded"
            )

"""The verification report: c2pa's validation results in words people can act on.

`verify.py` runs c2pa-python's Reader; this module only reads what it returned (the
manifest store as JSON and its validation state) and never touches the file."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields

from signing.manifest import MODERATION_LABEL

REPORT_SCHEMA = "reelguard.verify/1"


TRUSTED = "trusted"


VALID_UNTRUSTED = "valid_untrusted"


INVALID = "invalid"


NO_MANIFEST = "no_manifest"


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

    @classmethod
    def from_json(cls, text: str) -> VerifyReport:
        """The inverse of `to_json` (a service's report, read by the CLI); keys this
        version does not know are left out, so a newer server's report still reads."""
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def build_report(state: str, store: dict) -> VerifyReport:
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
    try:
        report.manifest = manifest_tree(store, label)
    except ProvenanceTooLarge as e:
        return VerifyReport(
            INVALID,
            f"Invalid: the provenance graph is too large to verify ({e}); not reported",
            active_manifest=label,
            error=str(e),
        )
    return report


# A hostile file can name one manifest as an ingredient many times over many levels (a
# graph that, expanded as a tree, grows exponentially): each manifest is expanded once,
# and the report refuses graphs past these bounds rather than grow without them.
MAX_DEPTH = 16
MAX_MANIFESTS = 256
MAX_INGREDIENTS = 4096


class ProvenanceTooLarge(ValueError):
    """The manifest graph is past what a report shows (depth, manifests, ingredients)."""


def manifest_tree(store: dict, label: str) -> dict | None:
    """A manifest and, recursively, the manifests of its ingredients.

    Each node: label, title, signer, issuer, signed_at, claim_generator, assertions
    (labels; ours, the actions and CAWG training-mining decoded), ingredients (title,
    format, relationship, the validation status recorded when it was ingested, and its
    own manifest node). A manifest met again (named by several ingredients, or in a
    cycle) is expanded the first time only; later it is its summary with `repeated`
    set and no assertions or ingredients. ProvenanceTooLarge past MAX_DEPTH levels,
    MAX_MANIFESTS manifests or MAX_INGREDIENTS ingredient entries."""
    manifests = store.get("manifests") or {}
    shown: set[str] = set()
    ingredients_seen = 0

    def node(label: str, depth: int) -> dict | None:
        nonlocal ingredients_seen
        manifest = manifests.get(label)
        if manifest is None:
            return None
        summary = _summary(label, manifest)
        if label in shown:
            return {**summary, "assertions": [], "ingredients": [], "repeated": True}
        if depth > MAX_DEPTH:
            raise ProvenanceTooLarge(f"ingredients nested more than {MAX_DEPTH} levels deep")
        shown.add(label)
        if len(shown) > MAX_MANIFESTS:
            raise ProvenanceTooLarge(f"more than {MAX_MANIFESTS} manifests")
        listed = manifest.get("ingredients") or []
        ingredients_seen += len(listed)
        if ingredients_seen > MAX_INGREDIENTS:
            raise ProvenanceTooLarge(f"more than {MAX_INGREDIENTS} ingredient entries")
        ingredients = []
        for ing in listed:
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
                    "manifest": node(child, depth + 1) if child else None,
                }
            )
        return {**summary, "assertions": _assertions(manifest), "ingredients": ingredients}

    return node(label, 0)


def _summary(label: str, manifest: dict) -> dict:
    sig = manifest.get("signature_info") or {}
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
    }


def _assertions(manifest: dict) -> list[dict]:
    assertions = []
    for a in manifest.get("assertions") or []:
        lbl = str(a.get("label", ""))
        entry: dict = {"label": lbl}
        if lbl.startswith("c2pa.actions") or lbl in (MODERATION_LABEL, "cawg.training-mining"):
            entry["data"] = a.get("data")
        assertions.append(entry)
    return assertions


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

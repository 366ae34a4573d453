"""What the stores hand back: plain, frozen records, free of any database type (and the
one error of theirs a caller handles, DuplicateCredential)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


class DuplicateCredential(ValueError):
    """A token hash or certificate subject that another client holds (or held)."""


@dataclass(frozen=True)
class Reference:
    vector_id: int
    image_sha256: str
    created_at: float


@dataclass(frozen=True)
class IdentityRecord:
    id: str
    name: str
    aliases: list[str]
    reference_count: int
    external_id: str = ""
    created_at: float = 0.0
    references: list[Reference] = field(default_factory=list)


@dataclass(frozen=True)
class IdempotencyRecord:
    request_sha256: str
    request_id: str
    terminal: bytes | None  # serialized final GenerateEvent; None while running
    output_path: str  # the kept signed output, for a completed request


@dataclass(frozen=True)
class ClientRecord:
    """A caller of the service: who it is, which tenant it acts for, what it may do."""

    id: str
    name: str
    tenant: str
    role: str
    cert_subject: str
    created_at: float
    revoked_at: float | None = None


@dataclass(frozen=True)
class Grant:
    """Tenant `tenant` may depict identity `identity_id` in `scopes` until `expires_at`."""

    id: str
    tenant: str
    identity_id: str
    scopes: list[str]
    grantor: str
    created_at: float
    expires_at: float | None = None  # None: no expiry
    revoked_at: float | None = None
    revoked_by: str = ""
    basis: str = ""  # what the consent rests on ("review <ticket>"), if not the grantor's word

    @classmethod
    def new(cls, tenant, identity_id, scopes, grantor, expires_at, basis="") -> Grant:
        """A grant made now, under a fresh id (what every store's `add_grant` records)."""
        return cls(
            "grant_" + uuid.uuid4().hex[:12],
            tenant,
            identity_id,
            list(scopes),
            grantor,
            time.time(),
            expires_at,
            basis=basis,
        )

    def active(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class ReviewItem:
    """A held output waiting for (or past) a human decision."""

    ticket: str
    request_id: str
    tenant: str
    decision_id: str
    prompt: str
    category: str
    priority: int
    status: str
    claimed_by: str | None
    claim_expires: float | None
    verdict: dict
    held_path: str
    mime_type: str
    spec: dict
    content_sha256: str
    decision: str | None
    reason_code: str | None
    notes: str | None
    decided_by: str | None
    decided_at: float | None
    previous_decider: str | None
    appeal_reason: str | None
    signed_path: str | None
    signed_sha256: str | None
    created_at: float
    release_json: str | None = None  # while releasing: the review and its decision id
    # Picked for double review: the first reviewer's decision, kept from the second (JSON).
    first_review: str | None = None


@dataclass(frozen=True)
class AuditEntry:
    """One audit-log entry, written in the same transaction as the change it records."""

    actor: str
    kind: str
    tenant: str
    subject: str
    body: dict


@dataclass(frozen=True)
class Clearance:
    """What an approving reviewer cleared: for one tenant, requests whose input has this
    SHA-256, one category on one subject (input_image, output_frame, ...), scores up to
    `max_score`, until `expires_at`."""

    kind: str  # "content" ("identity" rows are retired: consent grants say who may appear)
    ticket: str
    created_by: str
    content_sha256: str = ""
    category: str = ""
    tenant: str = ""
    identity_id: str = ""
    subject: str = ""
    max_score: float = 1.0
    expires_at: float | None = None
    id: int | None = None  # set by the store
    created_at: float = 0.0  # set by the store


@dataclass(frozen=True)
class Change:
    """One entry of the change feed: what a front door's caches must apply, in order."""

    seq: int
    kind: str  # identity_added, identity_removed, banks
    origin: str  # the front door that made it (which applied it already)
    body: dict
    at: float


@dataclass(frozen=True)
class SigningAuthorization:
    """The decision to sign: these bytes (SHA-256) under this manifest (its digest), once
    (signing/authorization.py; the signer checks it where the key is)."""

    decision_id: str
    tenant: str
    content_sha256: str
    spec_sha256: str
    created_at: float
    used_at: float | None = None


@dataclass(frozen=True)
class LikenessMatch:
    """One finding of an enrolled person in a request's media, as its decision recorded
    it: what the person's own door lists (never the media itself)."""

    id: int
    decision_id: str
    request_id: str
    identity_id: str
    tenant: str
    action: str  # the request's: allow, review or block
    stage: str
    subject: str  # input_image, driving_video, output_frame
    score: float
    grant_id: str  # the consent grant that authorized it, if any
    frame_time_s: float
    created_at: float
    has_evidence: bool  # a face crop was kept (the evidence frame)


@dataclass(frozen=True)
class TakedownNotice:
    """A depicted person's notice against a signed output, and what was done about it:
    the record a designated agent keeps (notice, removal, repeat offences per tenant)."""

    id: str
    identity_id: str
    filed_by: str  # the likeness owner's (or agent's) client id
    tenant: str  # who made the output
    manifest_id: str
    output_sha256: str
    fingerprints: dict  # {"manifest_id", "watermark", "pdq": [...], "bank"}
    reason: str
    status: str  # removed (fingerprints banked), acknowledged (the tenant saw it)
    filed_at: float
    removed_at: float | None = None
    acknowledged_at: float | None = None
    acknowledged_by: str = ""

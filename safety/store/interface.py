"""What the service keeps, one interface per concern, each method with its guarantee.

Consumers take the narrowest interface they need (the consent registry a `GrantStore`,
the authenticator a `ClientStore`); `Store` is all of them, what the wiring holds.
`SqlStore` (sql.py) implements them on SQLite or PostgreSQL, `MemoryStore` (memory.py) in
this process's memory; both pass the same conformance tests. The hash-bank and
manifest interfaces are the ones `indexes/` declares for itself, so the leaves never
learn where their rows live.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from indexes.hashbank import BankStorage
from indexes.manifests import ManifestStorage
from safety.store.people_interface import LikenessOwnerStore, ReviewerSettingsStore
from safety.store.records import (
    AuditEntry,
    Change,
    ClientRecord,
    Grant,
    IdempotencyRecord,
    IdentityRecord,
    SigningAuthorization,
)
from safety.store.review_interface import AllowlistStore, AuditTrail, ReviewStore
from safety.verdict import Verdict


class IdentityStore(Protocol):
    """Enrolled people, their reference embeddings (the index is rebuilt from these) and
    the face crops reviewers see."""

    def add_identity(
        self,
        name: str,
        aliases: list[str],
        external_id: str,
        references: list[tuple[str, np.ndarray]],
    ) -> tuple[IdentityRecord, list[int]]:
        """Create an identity with one row per (image sha256, embedding), all or nothing;
        returns the record and the new vector ids."""
        ...

    def identities(self) -> list[IdentityRecord]:
        """All enrolled identities, oldest first."""
        ...

    def identity(self, identity_id: str) -> IdentityRecord | None:
        """One identity with its references, or None."""
        ...

    def remove_identity(self, identity_id: str) -> list[int]:
        """Delete an identity and its references and revoke its grants, in one transaction;
        returns the vector ids that must leave the index."""
        ...

    def reference_owner(self, image_sha256: str) -> str | None:
        """The identity id already holding this exact reference image, if any."""
        ...

    def identity_for_vector(self, vector_id: int) -> tuple[str, str] | None:
        """(identity id, name) owning a reference vector, or None if unknown."""
        ...

    def reference_vectors(
        self, vector_ids: list[int] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(vector ids, embeddings), ascending by id, of all references (what the index is
        rebuilt from) or of those ids still stored."""
        ...

    def reference_vector_ids(self) -> np.ndarray:
        """The vector ids of all references, ascending: what a start compares the index
        file with, without reading 512 bytes an embedding (5 GB at 10 M references)."""
        ...

    def set_reference_face(self, vector_id: int, jpeg: bytes) -> None:
        """Keep the face crop of a reference (shown to reviewers beside a match)."""
        ...

    def reference_face(self, identity_id: str) -> bytes | None:
        """The first reference's face crop of an identity, if one was kept."""
        ...


class GrantStore(Protocol):
    """Consent: which tenant may depict which identity, in which scopes, until when."""

    def add_grant(
        self,
        tenant: str,
        identity_id: str,
        scopes: list[str],
        grantor: str,
        expires_at: float | None,
        basis: str = "",
    ) -> Grant:
        """Record a consent grant; durable when this returns."""
        ...

    def revoke_grant(self, grant_id: str, revoked_by: str) -> Grant | None:
        """Revoke a grant (idempotent: the first revocation's time stays); None if unknown."""
        ...

    def grants(self, tenant: str = "", identity_id: str = "") -> list[Grant]:
        """Grants, newest first, optionally filtered; read on every request (no cache), so
        a revocation blocks the very next one."""
        ...


class ClientStore(Protocol):
    """Callers of the service; a bearer token is known only by its SHA-256."""

    def add_client(
        self, name: str, tenant: str, role: str, token_sha256: str | None, cert_subject: str
    ) -> ClientRecord:
        """Register a caller. A token hash, and a non-empty certificate subject, name one
        client ever (revoked ones included): DuplicateCredential otherwise, atomically
        (two front doors adding the same subject at once: one of them gets it)."""
        ...

    def client(self, client_id: str) -> ClientRecord | None:
        """One client by id (revoked ones too)."""
        ...

    def client_by_token(self, token_sha256: str) -> ClientRecord | None:
        """The client holding this token (revoked ones too: the caller checks)."""
        ...

    def client_by_subject(self, cert_subject: str) -> ClientRecord | None:
        """The active client bound to this client-certificate subject, if any."""
        ...

    def clients(self) -> list[ClientRecord]:
        """All clients, oldest first."""
        ...

    def revoke_client(self, client_id: str) -> ClientRecord | None:
        """Revoke a client's token and certificate binding (idempotent); None if unknown."""
        ...


class DecisionStore(Protocol):
    """Every verdict the gate reaches, append-only."""

    def record_decision(
        self,
        decision_id: str,
        request_id: str,
        tenant: str,
        verdict: Verdict,
        output_sha256: str = "",
        entry: AuditEntry | None = None,
    ) -> None:
        """Append a decision, and its audit entry in the same transaction (both or
        neither); durable when this returns (a failure raises, never drops)."""
        ...

    def decision_ids(self) -> list[str]:
        """Every decision's id (what `audit verify` checks against the chain)."""
        ...

    def decision(self, decision_id: str) -> dict | None:
        """One decision record with its evidence, or None."""
        ...

    def decisions(self, tenant: str = "", limit: int = 100, specialist: bool = False) -> list[dict]:
        """Newest decisions first (without evidence), optionally of one tenant, or only
        those with a finding for a specialist."""
        ...

    def heartbeat(self) -> None:
        """A real write (the health probe): raises when decisions cannot be recorded."""
        ...


class SigningAuthorizationStore(Protocol):
    """The decisions to sign: recorded by the front door, used up by the signer."""

    def authorize_signing(self, authorization: SigningAuthorization) -> None:
        """Record (or, for a resumed release of the same decision, replace) the decision
        to sign these bytes under this manifest; durable when this returns."""
        ...

    def use_signing_authorization(
        self, decision_id: str, content_sha256: str, spec_sha256: str
    ) -> bool:
        """True once, atomically across front doors and signers: an unused authorization
        of `decision_id` names exactly these bytes and this manifest (it is now used)."""
        ...


class IdempotencyStore(Protocol):
    """Generate requests' idempotency keys, per tenant."""

    def claim_idempotency(
        self,
        tenant: str,
        key: str,
        request_sha256: str,
        request_id: str,
        owner: str,
        lease_s: float,
    ) -> IdempotencyRecord | None:
        """Claim a key for a new request (None), atomically, for `lease_s` seconds; an
        unfinished claim whose lease ran out (its owner died) is taken over by the same
        request (None too); otherwise the existing record."""
        ...

    def finish_idempotency(
        self, tenant: str, key: str, terminal: bytes, output_path: str, owner: str
    ) -> None:
        """Keep a claimed key's final event (and kept output) for replays; only while
        `owner` still holds the claim."""
        ...

    def release_idempotency(self, tenant: str, key: str, owner: str) -> None:
        """Forget `owner`'s unfinished claim (the stream died): a retry may run anew."""
        ...

    def expire_idempotency(self, before: float) -> list[str]:
        """Forget finished keys claimed before `before` (epoch seconds): a retry then runs
        anew. Returns their kept outputs' paths, for the caller to delete."""
        ...

    def release_claims_of(self, owner_prefix: str, except_owner: str) -> int:
        """Forget the unfinished claims a previous run of this front door left (its
        owners start with `owner_prefix`); returns how many."""
        ...


class ChangeFeed(Protocol):
    """Changes other front doors' caches must follow, numbered in commit order; written
    in the transaction of the change itself (enrolments, removals, bank changes)."""

    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        """The changes numbered after `seq`, oldest first."""
        ...

    def last_change(self) -> int:
        """The newest change's number (0: none yet)."""
        ...

    def wait_for_change(self, timeout_s: float) -> None:
        """Return when a change may have been made (PostgreSQL NOTIFY), or after
        `timeout_s`; raises when the database cannot be reached."""
        ...


class MediaStore(Protocol):
    """Media bytes every front door can read (held and released outputs, ingredients)."""

    def put_media(self, key: str, path: Path) -> str:
        """Keep the file's bytes under `key`, replacing any; durable when this returns.
        Returns their SHA-256."""
        ...

    def media_size(self, key: str) -> int | None:
        """The size of what `key` holds, or None if nothing."""
        ...

    def read_media(self, key: str) -> Iterator[bytes]:
        """What `key` holds, in chunks (none if nothing)."""
        ...

    def delete_media(self, key: str) -> bool:
        """Forget what `key` holds; False if nothing was there."""
        ...


class WebSessionStore(Protocol):
    """Reviewers' web sessions, by the SHA-256 of the cookie's id (never the id)."""

    def add_web_session(self, id_sha256: str, client_id: str, expires_at: float) -> None:
        """Start a session (and forget the expired ones)."""
        ...

    def web_session(self, id_sha256: str, now: float) -> str | None:
        """The client of a session live at `now`, or None."""
        ...

    def end_web_session(self, id_sha256: str) -> None:
        """End a session (logging out): gone on every front door."""
        ...

    def shared_secret(self, name: str) -> bytes:
        """A random 32-byte key every front door shares, made by the first to ask."""
        ...


class BankStore(BankStorage, Protocol):
    """Named hash banks and their PDQ entries (the interface `indexes.hashbank` needs)."""


class ManifestStore(ManifestStorage, Protocol):
    """Signed manifests by fingerprint (the interface `indexes.manifests` needs)."""


class Store(
    IdentityStore,
    GrantStore,
    ClientStore,
    DecisionStore,
    SigningAuthorizationStore,
    IdempotencyStore,
    BankStore,
    ManifestStore,
    ReviewStore,
    AllowlistStore,
    ChangeFeed,
    MediaStore,
    WebSessionStore,
    ReviewerSettingsStore,
    LikenessOwnerStore,
    Protocol,
):
    """Everything the service keeps in one database."""

    audit: AuditTrail  # every change above that is audited is chained here

    def close(self) -> None:
        """Release the database; nothing is lost (every write was durable already)."""
        ...

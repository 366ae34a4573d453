"""Who is calling, and what they may do: bearer tokens or client certificates, roles, tenants.

Tokens are 256-bit random strings shown once at creation; the store keeps only their
SHA-256. A fast hash is right here: with that much entropy there is nothing to brute-force,
and every RPC pays for the lookup. Revocation is read on every call, so it takes effect at once.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from safety.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from safety.store.records import ClientRecord, DuplicateCredential

if TYPE_CHECKING:  # the store's interface pulls in every index; the CLI needs ROLES alone
    from safety.store.interface import ClientStore

log = logging.getLogger(__name__)

GENERATOR_CLIENT = "generator-client"
AUDITOR = "auditor"
REVIEWER = "reviewer"
SENIOR_REVIEWER = "senior-reviewer"
ADMIN = "admin"
# A person whose likeness is enrolled, or an agent acting for several (owners.py): sees
# the matches of those people, grants and revokes their consent, files takedowns.
LIKENESS_OWNER = "likeness_owner"
ROLES = (LIKENESS_OWNER, GENERATOR_CLIENT, AUDITOR, REVIEWER, SENIOR_REVIEWER, ADMIN)
ALL_TENANTS = "*"
TOKEN_PREFIX = "rg_"


@dataclass(frozen=True)
class Principal:
    client_id: str
    name: str
    tenant: str  # ALL_TENANTS for platform-wide clients
    role: str

    def tenant_for(self, requested: str) -> str:
        """The tenant a request acts for: the caller's own; a platform-wide caller may name one."""
        if self.tenant == ALL_TENANTS:
            return requested or "default"
        if requested and requested != self.tenant:
            raise Forbidden(
                f"this client acts for tenant {self.tenant!r} and cannot act for {requested!r}"
            )
        return self.tenant

    def sees(self, tenant: str) -> bool:
        return self.tenant in (ALL_TENANTS, tenant)

    @property
    def is_platform(self) -> bool:
        """Acts for every tenant (a platform admin, a platform-wide reviewer or auditor)."""
        return self.tenant == ALL_TENANTS

    def require_platform(self, what: str) -> None:
        if not self.is_platform:
            raise Forbidden(
                f"{what} is for platform clients (tenant {ALL_TENANTS!r}); this client "
                f"administers tenant {self.tenant!r} only"
            )

    def own_tenant(self, requested: str) -> str:
        """The tenant an admin listing covers: any for a platform client (all when
        empty), else always the caller's own, whatever it asked for."""
        return requested if self.is_platform else self.tenant


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    def __init__(self, store: ClientStore, subject_patterns: dict[str, str] | None = None) -> None:
        self.store = store
        # tenant -> the client-certificate subjects its admins may bind (shell pattern)
        self.subject_patterns = subject_patterns or {}

    def create_client(
        self,
        name: str,
        tenant: str,
        role: str,
        cert_subject: str = "",
        with_token: bool = True,
        by: Principal | None = None,
    ) -> tuple[ClientRecord, str]:
        """Register a client; returns it and its bearer token ("" when certificate-only).
        `by` is the admin asking (None: the service itself, e.g. the bootstrap admin): a
        tenant admin creates clients of its own tenant only, never with a higher role."""
        name, tenant = name.strip(), tenant.strip()
        if by is not None and not by.is_platform:
            tenant = tenant or by.tenant
            if tenant != by.tenant:
                raise Forbidden(
                    f"this client administers tenant {by.tenant!r} only; it cannot create "
                    f"a client for {tenant!r}"
                )
            if role in ROLES and ROLES.index(role) > ROLES.index(by.role):
                raise Forbidden(f"role {by.role!r} cannot create a client with role {role!r}")
            pattern = self.subject_patterns.get(tenant, "")
            if cert_subject.strip() and not fnmatch.fnmatchcase(cert_subject.strip(), pattern):
                raise Forbidden(
                    f"tenant {tenant!r} may bind only the certificate subjects it owns "
                    f"({pattern!r} in client_subjects)"
                    if pattern
                    else f"tenant {tenant!r} owns no certificate subjects (client_subjects); "
                    "a platform admin binds them"
                )
        if not name:
            raise InvalidInput("a client needs a name (who or what it is)")
        if not tenant:
            raise InvalidInput(f"a client needs a tenant, or {ALL_TENANTS!r} for every tenant")
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        if not with_token and not cert_subject:
            raise InvalidInput("a client without a token needs a certificate subject")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32) if with_token else ""
        try:
            record = self.store.add_client(
                name, tenant, role, token_digest(token) if token else None, cert_subject.strip()
            )
        except DuplicateCredential:
            # One client per credential, ever: the newest match used to win, so a copy of
            # another client's subject took over its certificate.
            raise InvalidInput(
                f"certificate subject {cert_subject.strip()!r} is bound to another client "
                "already (revoked or not); a subject names one client, ever"
            ) from None
        log.info("client %s (%s, tenant %s, role %s) created", record.id, name, tenant, role)
        return record, token

    def revoke(self, client_id: str, by: Principal | None = None) -> ClientRecord:
        """Revoke a client; for a tenant admin, another tenant's reads as a missing one."""
        existing = self.store.client(client_id)
        if existing is None or (by is not None and not by.sees(existing.tenant)):
            raise NotFound(f"no client {client_id!r}")
        record = self.store.revoke_client(client_id)
        if record is None:
            raise NotFound(f"no client {client_id!r}")
        log.info("client %s revoked", client_id)
        return record

    def authenticate(self, metadata: Iterable[tuple[str, str]], peer_cn: str = "") -> Principal:
        """The caller from its bearer token, else its verified client-certificate CN."""
        auth = [v for k, v in metadata if k == "authorization"]
        if auth:
            scheme, _, token = auth[0].partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
            record = self.store.client_by_token(token_digest(token.strip()))
            if record is None:
                raise Unauthenticated("unknown token; ask an admin for one")
            if record.revoked_at is not None:
                raise Unauthenticated(f"the token of client {record.id} has been revoked")
        elif peer_cn:
            record = self.store.client_by_subject(peer_cn)
            if record is None:
                raise Unauthenticated(f"client certificate {peer_cn!r} is not registered")
        else:
            raise Unauthenticated(
                "no credentials: send 'authorization: Bearer <token>' metadata "
                "(reelguard reads REELGUARD_TOKEN) or a registered client certificate"
            )
        return Principal(record.id, record.name, record.tenant, record.role)

    def authorize(self, principal: Principal, roles: frozenset[str], what: str) -> None:
        if principal.role not in roles:
            raise Forbidden(
                f"role {principal.role!r} may not call {what}; it needs one of "
                f"{', '.join(sorted(roles))}"
            )

    def bootstrap(self, token_path: Path) -> None:
        """On a store with no clients yet, make a platform admin and write its token to
        `token_path` (0600), so the local CLI works on a fresh install."""
        if self.store.clients():
            return
        _, token = self.create_client("bootstrap admin", ALL_TENANTS, ADMIN)
        token_path.parent.mkdir(parents=True, exist_ok=True)
        token_path.unlink(missing_ok=True)
        fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        log.warning("created the first admin client; its token is in %s (mode 0600)", token_path)

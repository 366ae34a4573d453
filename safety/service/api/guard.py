"""Who may call what, and how domain errors become gRPC statuses: in one place.

Every servicer method is `@guarded(roles)`: the caller is authenticated (token or
client certificate), its role checked, the components it needs checked healthy, and
domain errors mapped to statuses a person can act on; anything else is INTERNAL."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
import re
import time
import uuid

import grpc

from indexes.index_errors import IndexEntryNotFound, IndexInputError
from media import InvalidMedia
from safety.auth import (
    ADMIN,
    GENERATOR_CLIENT,
    REVIEWER,
    ROLES,
    SENIOR_REVIEWER,
    Principal,
)
from safety.errors import (
    Busy,
    FailedPrecondition,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from safety.observability import REQUEST_ID
from safety.service.admission import Overloaded
from safety.service.app import Service
from safety.verdict import Verdict, for_client

log = logging.getLogger("reelguard.requests")
REQUEST_ID_HEADER = "x-request-id"
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")

# Who may call what (issue: roles). Reading decisions is tenant-scoped for everyone.
MAY_GENERATE = (GENERATOR_CLIENT, ADMIN)


MAY_READ = ROLES  # verify media, read one's own tenant's decisions


ADMIN_ONLY = (ADMIN,)


REVIEWERS = (REVIEWER, SENIOR_REVIEWER, ADMIN)


# Domain errors and the statuses they become, in one place.
STATUS_OF_ERROR = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (InvalidMedia, grpc.StatusCode.INVALID_ARGUMENT),
    (IndexInputError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (IndexEntryNotFound, grpc.StatusCode.NOT_FOUND),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Busy, grpc.StatusCode.ABORTED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (Forbidden, grpc.StatusCode.PERMISSION_DENIED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
)


DOMAIN_ERRORS = tuple(error for error, _ in STATUS_OF_ERROR)


@contextlib.contextmanager
def domain_errors(context):
    """Map domain exceptions to gRPC statuses; anything else propagates as INTERNAL (logged)."""
    try:
        yield
    except DOMAIN_ERRORS as e:
        code = next(code for error, code in STATUS_OF_ERROR if isinstance(e, error))
        context.abort(code, str(e))


def _peer_cn(context) -> str:
    """The verified client-certificate CN on an mTLS connection, else ""."""
    names = context.auth_context().get("x509_common_name") or []
    return names[0].decode() if names else ""


def guarded(*roles: str, platform: bool = False):
    """Declare who may call an RPC. The wrapper authenticates the caller, checks its role
    (and, with `platform`, that it acts for every tenant: identities, hash banks and
    consent are the platform's, not a tenant admin's) and maps domain errors to statuses;
    the method receives the caller's Principal."""
    allowed = frozenset(roles)

    def decorate(method):
        name = method.__qualname__.replace("Servicer.", ".")  # e.g. "Generation.Generate"

        def principal(self, context, seen: dict) -> Principal:
            auth = self.service.auth
            caller = auth.authenticate(context.invocation_metadata(), _peer_cn(context))
            seen["client"], seen["tenant"] = caller.client_id, caller.tenant
            auth.authorize(caller, allowed, name)
            if platform:
                caller.require_platform(name)
            self.service.health.require(name)
            return caller

        @contextlib.contextmanager
        def measured(self, context):
            """Metrics, and one log line per call that its request id finds: the id the
            client sent (`x-request-id`) or one minted here, sent back either way."""
            t0, seen = time.perf_counter(), {}
            request_id = _request_id(context)
            context.send_initial_metadata(((REQUEST_ID_HEADER, request_id),))
            token = REQUEST_ID.set(request_id)
            try:
                yield seen
            finally:
                code = context.code() or grpc.StatusCode.OK
                seconds = time.perf_counter() - t0
                metrics = self.service.metrics
                metrics.requests.labels(name, code.name).inc()
                metrics.rpc_seconds.labels(name).observe(seconds)
                log.info(
                    "%s %s in %.0f ms",
                    name,
                    code.name,
                    seconds * 1000,
                    extra={"event": "rpc", "rpc": name, "code": code.name, "request_id": request_id,
                           "latency_ms": round(seconds * 1000, 1), **seen},
                )  # fmt: skip
                REQUEST_ID.reset(token)

        if inspect.isgeneratorfunction(method):

            @functools.wraps(method)
            def wrapper(self, request, context):
                with measured(self, context) as seen, domain_errors(context):
                    yield from method(self, request, context, principal(self, context, seen))
        else:

            @functools.wraps(method)
            def wrapper(self, request, context):
                with measured(self, context) as seen, domain_errors(context):
                    return method(self, request, context, principal(self, context, seen))

        wrapper.roles = allowed
        wrapper.platform_only = platform
        return wrapper

    return decorate


def _request_id(context) -> str:
    """The caller's `x-request-id` when it is a plain token (letters, digits, ._-; at most
    64), else a new one: what goes into logs is never the caller's arbitrary text."""
    for key, value in context.invocation_metadata() or ():
        if key == REQUEST_ID_HEADER and _TOKEN.fullmatch(str(value)):
            return str(value)
    return uuid.uuid4().hex


class Servicer:
    """Every servicer is a thin adapter over the one Service."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def told(self, caller: Principal, tenant: str, verdict: Verdict) -> Verdict:
        """The verdict as `caller` may read it: a generation client gets `for_client`'s
        view (its tenant's policy says whether scores are in it); reviewers, auditors and
        admins, who may read the decision record anyway, get all of it."""
        if caller.role != GENERATOR_CLIENT:
            return verdict
        policy = self.service.policies.for_tenant(tenant)
        return for_client(verdict, scores=policy.disclose_scores)

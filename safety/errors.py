"""Domain errors, mapped to gRPC status codes in one place (safety/service/api/guard.py)."""


class InvalidInput(ValueError):
    """The caller sent something we cannot accept; the message tells them what to fix."""


class NotFound(LookupError):
    """A referenced object (identity, decision) does not exist."""


class Busy(RuntimeError):
    """The same work is already under way (e.g. a request with this idempotency key)."""


class Unauthenticated(PermissionError):
    """No valid credentials: no token, an unknown or revoked one, no bound certificate."""


class Forbidden(PermissionError):
    """Authenticated, but this caller's role or tenant does not allow the operation."""


class Unavailable(RuntimeError):
    """A component the operation needs is down; retrying later may succeed."""


class FailedPrecondition(RuntimeError):
    """The system is not in a state to do this (e.g. a corrupt file on disk); nothing changed."""

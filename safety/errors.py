"""Domain errors, mapped to gRPC status codes in one place (safety.server)."""


class InvalidInput(ValueError):
    """The caller sent something we cannot accept; the message tells them what to fix."""


class NotFound(LookupError):
    """A referenced object (identity, decision) does not exist."""


class Busy(RuntimeError):
    """The same work is already under way (e.g. a request with this idempotency key)."""

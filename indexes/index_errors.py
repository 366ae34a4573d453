"""The indexes' own errors: a leaf package says what went wrong without knowing who
called it. The front door maps them to statuses beside the domain's errors."""


class IndexInputError(ValueError):
    """An argument the caller must fix (a bank name, a distance, a hash)."""


class IndexEntryNotFound(LookupError):
    """A named bank or entry does not exist."""

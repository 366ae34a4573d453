"""Which backend makes a request: the one that uses every input it carries.

A request's inputs beyond its prompt (an image, a driving video) must each be used by
the backend that runs it: a driving video sent to a text-to-video model would otherwise
be moderated, recorded as an ingredient, and then silently ignored. The prompt is always
moderated and recorded; an image-only pipeline not being steered by it is declared by
the pipeline, not an input lost.
"""

from __future__ import annotations

from generator.base import DRIVING_VIDEO, IMAGE, TEXT, Generator, capabilities
from safety.errors import FailedPrecondition
from safety.job import GenerateJob


def choose_backend(job: GenerateJob, backends: list[Generator | None]) -> Generator:
    """The first of `backends` that accepts every input of `job` and has every one it
    needs; FailedPrecondition naming each backend and what it lacks when none does."""
    given = ({IMAGE} if job.image else set()) | ({DRIVING_VIDEO} if job.driving else set())
    why = []
    for backend in backends:
        if backend is None:
            continue
        accepts, needs = capabilities(backend)
        unused, missing = given - accepts - {TEXT}, needs - given
        if not unused and not missing:
            return backend
        lacks = f"cannot use {_listed(unused)}" if unused else f"needs {_listed(missing)}"
        why.append(f"generator {backend.name!r} {lacks}")
    raise FailedPrecondition(f"no generator here takes this request: {'; '.join(why)}")


def _listed(inputs: set[str]) -> str:
    return " and ".join(sorted(i.replace("_", " ") for i in inputs))

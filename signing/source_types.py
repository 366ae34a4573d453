"""IPTC's digital source types: the C2PA `digitalSourceType` a created action states.

Provenance owns the vocabulary: generators say which term describes what they make
(`generator.base.TRAINED_MODEL`, ...), and only here does a term become the URL a
manifest carries, or get refused when it would make our signature vouch for something
that is not generated."""

from __future__ import annotations

IPTC_SOURCE_TYPES = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED_ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + "trainedAlgorithmicMedia"  # a trained model's
ALGORITHMIC_MEDIA = IPTC_SOURCE_TYPES + "algorithmicMedia"  # a plain algorithm, no training

# The IPTC digital source types that say software made or changed the content: the only
# ones reelguard signs for a client. Capture types (digitalCapture, negativeFilm, print,
# screenCapture ...) and human-made ones (digitalCreation, humanEdits ...) would have our
# signature vouch that a generated file is a photograph or a person's work.
GENERATED_SOURCE_TYPES = (
    "trainedAlgorithmicMedia",
    "compositeWithTrainedAlgorithmicMedia",
    "algorithmicMedia",
    "compositeSynthetic",
    "algorithmicallyEnhanced",
    "composite",
)


def generated_source_type(value: str) -> str:
    """The IPTC URL of a generated-media source type (a name or its URL); ValueError for
    any other type."""
    name = value.removeprefix(IPTC_SOURCE_TYPES).strip()
    if name not in GENERATED_SOURCE_TYPES:
        raise ValueError(
            f"digital source type {value!r} does not describe generated or edited media; "
            f"use one of {', '.join(GENERATED_SOURCE_TYPES)}"
        )
    return IPTC_SOURCE_TYPES + name

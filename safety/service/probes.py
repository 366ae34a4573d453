"""What the health monitor probes, and which RPCs each component is needed by.

Each probe exercises the object requests use (a real write, a real signature, a real
search, a real face-model call), because "loaded" is not "working"."""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from safety.gate import Gate
from safety.identities import Enroller
from safety.service.health import Component

PROBE_FRAME = np.full((64, 64, 3), 128, dtype=np.uint8)


# What each component is needed by (see HealthMonitor): reads (Verify, Decisions,
# Policies.Get) go on while the store cannot be written.
WRITES = (
    "Generation",
    "Moderation",
    "Provenance.Sign",
    "Identities",
    "Consent",
    "HashBanks",
    "Clients",
)


MEDIA = ("Generation", "Moderation", "Provenance.Sign", "Identities")


def health_components(gate: Gate, enroller: Enroller, review_engine) -> list[Component]:
    """What requests depend on, each probed through the object requests use (so a
    component swapped at run time, e.g. a reloaded index, is the one probed)."""
    index = enroller.index
    return [
        Component("store", gate.store.heartbeat, WRITES),
        Component(
            "signer",
            gate.manifest_signer.probe,
            ("Generation", "Provenance.Sign"),
        ),
        Component(
            "identity_index",
            lambda: index.search(np.zeros((1, index.dim), dtype=np.float32), 1),
            MEDIA,
        ),
        Component("face_models", lambda: enroller.embedder.faces(PROBE_FRAME), MEDIA),
        # Decisions are audited and held items queued here.
        Component("review_db", lambda: _ping(review_engine), (*WRITES, "Review")),
    ]


def _ping(engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))

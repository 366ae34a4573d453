"""What the health monitor probes, and which RPCs each component is needed by.

Each probe exercises the object requests use (a real write, a real signature, a real
search, a real face-model call), because "loaded" is not "working"."""

from __future__ import annotations

import numpy as np

from safety.likeness.identities import Enroller
from safety.service.health import Component
from safety.store.interface import Store
from safety.sync import ChangeFollower
from signing.manifest import ManifestSigner

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
    "Likeness",
)


MEDIA = ("Generation", "Moderation", "Provenance.Sign", "Identities")


def health_components(
    store: Store, signer: ManifestSigner, enroller: Enroller, follower: ChangeFollower
) -> list[Component]:
    """What requests depend on, each probed through the object requests use (so a
    component swapped at run time, e.g. a reloaded index, is the one probed)."""
    index = enroller.index
    return [
        # Decisions and their audit entries are written, and held items queued, here.
        Component("store", store.heartbeat, (*WRITES, "Review")),
        # Matching against an index or banks another front door changed, unseen, is not.
        Component("change_feed", follower.probe, MEDIA),
        Component(
            "signer",
            signer.probe,
            ("Generation", "Provenance.Sign"),
        ),
        Component(
            "identity_index",
            lambda: index.search(np.zeros((1, index.dim), dtype=np.float32), 1),
            MEDIA,
        ),
        Component("face_models", lambda: enroller.embedder.faces(PROBE_FRAME), MEDIA),
    ]

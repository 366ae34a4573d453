"""Recording decisions: every verdict goes to the decision store with its audit-log
entry, in one transaction (a decision without its entry is never committed).

An allowed output must not leave without its record (`strict`): a failure to record it
raises and the request fails. A block that cannot be recorded still blocks; the failure
is logged.
"""

from __future__ import annotations

import logging
import uuid

from safety.observability import Metrics
from safety.store.interface import DecisionStore
from safety.store.records import AuditEntry
from safety.verdict import Verdict

log = logging.getLogger(__name__)


class DecisionRecorder:
    def __init__(self, store: DecisionStore, metrics: Metrics | None = None) -> None:
        self.store = store
        self.metrics = metrics or Metrics()

    def record(
        self,
        verdict: Verdict,
        request_id: str,
        tenant: str,
        output_sha256: str = "",
        strict: bool = False,
    ) -> None:
        """Give the verdict a decision id (if it has none) and record it with its audit entry."""
        verdict.decision_id = verdict.decision_id or uuid.uuid4().hex
        self.metrics.count_verdict(verdict)
        entry = AuditEntry(
            "reelguard",
            "decision",
            tenant,
            verdict.decision_id,
            {
                "request_id": request_id,
                "action": verdict.action.name.lower(),
                "stage": verdict.stage.name.lower(),
                "policy_version": verdict.policy_version,
                "reasons": [f"{r.subject}/{r.category}" for r in verdict.reasons],
                "output_sha256": output_sha256,
            },
        )
        try:
            self.store.record_decision(
                verdict.decision_id, request_id, tenant, verdict, output_sha256, entry
            )
        except Exception:
            if strict:  # an allowed output must not leave without its record
                raise
            log.exception("could not record decision %s", verdict.decision_id)

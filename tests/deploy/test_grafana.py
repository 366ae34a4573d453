"""The Grafana dashboard queries only metrics the service exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from safety.observability import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "reelguard.json"


def exported_names() -> set[str]:
    names = set()
    for family in Metrics().registry.collect():
        names.add(family.name)
        names.update(sample.name for sample in family.samples)
    # Histogram and counter series exist once observed; their names are fixed.
    for family in Metrics().registry.collect():
        if family.type == "histogram":
            names.update(family.name + s for s in ("_bucket", "_count", "_sum"))
        if family.type == "counter":
            names.add(family.name + "_total")
    return names


def test_every_panel_query_uses_exported_metrics():
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    used = {m for e in exprs for m in re.findall(r"reelguard_\w+", e)}
    missing = used - exported_names()
    assert not missing, f"dashboard queries metrics that don't exist: {missing}"
    # Every metric family the service exports appears on the dashboard.
    families = {f.name for f in Metrics().registry.collect()}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", m) for m in used}
    assert families <= shown, families - shown
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))

"""`reelguard models` / Policies.Coverage / /metrics: what the deployment evaluates, honestly."""

from __future__ import annotations

import grpc
import pytest
from prometheus_client import generate_latest

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.policy.coverage import coverage
from safety.policy.rules import Policy


def by_name(response) -> dict[str, pb.CategoryCoverage]:
    return {f"{c.kind}/{c.category}": c for c in response.categories}


def test_every_category_names_its_models_and_their_measurement_or_says_not_evaluated(running):
    rows = by_name(running.policies.Coverage(pb.CoverageRequest()))
    assert len(rows) == 12  # six harm categories, on visual and on text content
    checks = {name: {m.check for m in row.models} for name, row in rows.items()}
    assert checks["visual/sexual"] == {"image.nudity", "image.graphic"}
    assert checks["visual/violence"] == {"image.graphic"}
    assert checks["visual/sexual_minors"] == {"likeness"}
    assert checks["text/sexual_minors"] == {"prompt"}
    assert all(m.calibration for row in rows.values() for m in row.models)
    for gap in ("visual/weapons", "visual/hate_symbols", "visual/self_harm", "text/violence"):
        assert not rows[gap].evaluated and not rows[gap].models, gap
    violence = rows["visual/violence"]
    assert (violence.threshold, violence.review_threshold) == (0.9, 0.35)


def test_the_cli_prints_the_report(running):
    r = running.cli("models")
    assert r.returncode == 0, r.stderr
    assert "visual/weapons" in r.stdout and "NOT EVALUATED" in r.stdout
    assert "visual/violence          image.graphic" in r.stdout and "measured:" in r.stdout


def test_only_admins_see_it(running):
    _, channel = running.client("generator-client", "studio-a")
    with pytest.raises(grpc.RpcError) as err:
        rpc.PoliciesStub(channel).Coverage(pb.CoverageRequest())
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_metrics_export_which_categories_are_evaluated(running):
    text = generate_latest(running.service.metrics.registry).decode()
    assert 'reelguard_category_evaluated{category="violence",kind="visual"} 1.0' in text
    assert 'reelguard_category_evaluated{category="weapons",kind="visual"} 0.0' in text


def test_a_model_without_a_declared_calibration_is_not_coverage():
    class Unmeasured:  # a checkpoint nobody measured: it scores weapons, says nothing more
        name, model, model_version, categories = "image.unmeasured", "x", "1", ("weapons",)

    rows = {f"{r.kind}/{r.category}": r for r in coverage([], [Unmeasured()], Policy())}
    assert not rows["visual/weapons"].evaluated
    assert rows["visual/weapons"].uncalibrated == ["image.unmeasured"]

"""Reading the record from a terminal: decisions (auditors), the policy in force (operators)."""

from __future__ import annotations

import json
import re

import pytest

from safety.service.cli.connection import EXIT_OK, EXIT_RPC
from tests.support import cli, encode


@pytest.fixture(autouse=True)
def admin_token(running, monkeypatch):
    monkeypatch.setenv("REELGUARD_TOKEN", running.admin_token)


@pytest.fixture(scope="module")
def blocked_decision(running, astronaut, tmp_path_factory) -> str:
    """A Check of the enrolled astronaut: blocked, and its decision id as printed."""
    path = tmp_path_factory.mktemp("decisions") / "astronaut.png"
    path.write_bytes(encode(astronaut))
    r = cli(
        "--address", running.address, "check", path, env={"REELGUARD_TOKEN": running.admin_token}
    )
    assert r.returncode == 2, r.stderr
    return re.search(r"decision (\w+)", r.stdout).group(1)


def test_an_auditor_lists_the_decisions_and_reads_one(running, blocked_decision):
    listed = cli("--address", running.address, "decisions", "list", "--json")
    assert listed.returncode == EXIT_OK, listed.stderr
    body = json.loads(listed.stdout)
    assert body["schema"] == "reelguard.decisions/1"
    (mine,) = [d for d in body["decisions"] if d["id"] == blocked_decision]
    assert mine["action"] == "block" and mine["stage"] == "pre_check"
    text = cli("--address", running.address, "decisions", "list", "--limit", "1000").stdout
    assert f"{blocked_decision}  BLOCK" in text

    shown = cli("--address", running.address, "decisions", "show", blocked_decision)
    assert shown.returncode == EXIT_OK
    assert "public_figure 'Eileen Collins': score" in shown.stdout
    assert "frames checked" in shown.stdout
    record = json.loads(
        cli("--address", running.address, "decisions", "show", blocked_decision, "--json").stdout
    )
    assert record["schema"] == "reelguard.decision/1" and record["id"] == blocked_decision
    assert record["evidence"]["reasons"][0]["identity_name"] == "Eileen Collins"


def test_a_decision_that_does_not_exist_is_the_services_answer(running):
    r = cli("--address", running.address, "decisions", "show", "no-such-decision")
    assert r.returncode == EXIT_RPC and "NOT_FOUND" in r.stderr


def test_policies_show_names_the_review_bands(running):
    """`violence` reviews from 0.35 and blocks from 0.9: `policies show` says both, as
    `models` does (it used to print only "BLOCK at 0.900")."""
    r = cli("--address", running.address, "policies", "show")
    assert r.returncode == EXIT_OK, r.stderr
    (violence,) = [line for line in r.stdout.splitlines() if line.split()[:1] == ["violence"]]
    assert "BLOCK  at 0.900, REVIEW from 0.350" in violence

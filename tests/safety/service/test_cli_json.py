"""Every command that prints a result prints it as JSON with --json: one key style
(snake_case, enums by lower-case name) under a schema name and version."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from safety.service.cli.main import build_parser

# Commands that print no result of their own: they run, write files, or stream JSON Lines.
NO_RESULT = {
    "serve",
    "backend serve",
    "keys init",
    "keys tls-init",
    "keys tls-client",
    "keys csr",
    "keys watermark-secret",
    "audit export",
}
SCHEMA = re.compile(r"^reelguard\.[a-z-]+/\d+$")
KEY = re.compile(r"^[a-z0-9_]+$")


def leaves(parser: argparse.ArgumentParser, prefix: str = ""):
    """(command words, parser) of every command a user can run."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield prefix.strip(), parser
        return
    for name, child in subs[0].choices.items():
        yield from leaves(child, f"{prefix} {name}")


def test_every_command_that_prints_a_result_has_json_with_a_schema():
    missing = []
    for words, parser in leaves(build_parser()):
        if words in NO_RESULT:
            continue
        options = {o for a in parser._actions for o in a.option_strings}
        schema = parser.get_default("schema") or ""
        if "--json" not in options or not SCHEMA.match(schema):
            missing.append(f"{words} ({schema or 'no schema'})")
    assert not missing, missing


def keys(value, path=""):
    """Every key in a JSON document but those of maps keyed by data (evidence, counts)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path, k
            if k not in ("evidence", "report", "moderation", "frames_checked", "counts"):
                yield from keys(v, f"{path}.{k}")
    elif isinstance(value, list):
        for v in value:
            yield from keys(v, path)


@pytest.mark.parametrize(
    ("command", "schema"),
    [
        (["check", "--prompt", "a quiet harbour at dawn"], "reelguard.verdict/1"),
        (["identities", "list"], "reelguard.identities/1"),
        (["consent", "list"], "reelguard.grants/1"),
        (["clients", "list"], "reelguard.clients/1"),
        (["banks", "list"], "reelguard.banks/1"),
        (["policies", "show"], "reelguard.policy/1"),
        (["models"], "reelguard.models/1"),
        (["review", "list"], "reelguard.review-items/1"),
        (["decisions", "list", "--limit", "3"], "reelguard.decisions/1"),
        (["trust-list"], "reelguard.trust-list/1"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_json_results_name_their_schema_in_snake_case(running, command, schema):
    r = running.cli(*command, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    body = json.loads(r.stdout)
    assert body["schema"] == schema
    bad = [f"{path}.{k}" for path, k in keys(body) if k != "schema" and not KEY.match(k)]
    assert not bad, bad


def test_check_and_sign_of_a_clip_show_progress_and_a_summary(running, coffee, tmp_path):
    """A clip's scores come as one line per check, category and subject (how many frames,
    the highest and when); every frame's only with --verbose; a live line on stderr."""
    from tests.support import performance

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(performance(coffee, seconds=2.0, fps=12))
    r = running.cli("check", clip)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checking clip.mp4" in r.stderr and "done" in r.stderr
    summary = [line for line in r.stdout.splitlines() if "image.nudity/sexual on" in line]
    assert len(summary) == 1 and "frames) -> allow" in summary[0] and " at t=" in summary[0]
    assert "      t=" not in r.stdout
    verbose = running.cli("check", clip, "--verbose")
    frames = [line for line in verbose.stdout.splitlines() if line.startswith("      t=")]
    assert len(frames) > 10  # every frame's score, labelled by its time
    signed = running.cli("sign", clip, "--out", tmp_path / "signed.mp4")
    assert signed.returncode == 0, signed.stdout + signed.stderr
    assert "checking and signing clip.mp4" in signed.stderr
    assert "      t=" not in signed.stdout and "wrote " in signed.stdout
    as_json = json.loads(running.cli("sign", clip, "--out", tmp_path / "s2.mp4", "--json").stdout)
    assert as_json["schema"] == "reelguard.sign/1" and as_json["verdict"]["action"] == "allow"
    assert as_json["out"] == str(tmp_path / "s2.mp4") and as_json["size"] > 0

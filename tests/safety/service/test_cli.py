"""The `reelguard` console script, run as a user would, against a real server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import grpc
import numpy as np
import pytest
import skimage.data
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import EXE, cli, encode, free_port, modules_loaded_by, performance


@pytest.fixture(autouse=True)
def admin_token(running, monkeypatch):
    """The CLI reads its token from REELGUARD_TOKEN, as an operator's shell would set it."""
    monkeypatch.setenv("REELGUARD_TOKEN", running.admin_token)


@pytest.fixture(scope="module")
def files(tmp_path_factory, astronaut, hopper, coffee):
    d = tmp_path_factory.mktemp("cli")
    cameraman = np.stack([skimage.data.camera()] * 3, axis=-1)
    for name, pixels, fmt in [
        ("astronaut.png", astronaut, "PNG"),
        ("hopper.jpg", hopper, "JPEG"),
        ("coffee.jpg", coffee, "JPEG"),
        ("cameraman.png", cameraman, "PNG"),
    ]:
        (d / name).write_bytes(encode(pixels, fmt))
    return d


def test_generate_writes_a_verified_mp4(running, files, tmp_path):
    out = tmp_path / "out.mp4"
    r = cli(
        "--address",
        running.address,
        "generate",
        "--prompt",
        "a windy beach",
        "--image",
        files / "coffee.jpg",
        "--out",
        out,
        "--frames",
        "24",
    )
    assert r.returncode == 0, r.stderr
    assert "verdict: ALLOW" in r.stdout and "C2PA-signed" in r.stdout
    assert "generating" in r.stderr and "24/24" in r.stderr  # the progress bar ran to the end

    anchors = running.config.keys_dir / "root.pem"
    v = cli("verify", out, "--trust-anchors", anchors)
    assert v.returncode == 0, v.stdout
    assert "TRUSTED" in v.stdout and "c2pa.created" in v.stdout
    assert "algorithmicMedia" in v.stdout and "input.jpeg" in v.stdout
    crjson = cli("verify", out, "--crjson", "--trust-anchors", anchors)
    assert crjson.returncode == 0, crjson.stderr
    (manifest,) = json.loads(crjson.stdout)["manifests"]
    created = [a["url"] for a in manifest["claim.v2"]["created_assertions"]]
    assert any(url.endswith("/c2pa.actions.v2") for url in created)
    assert not manifest["validationResults"]["failure"]  # trusted with these anchors
    report = json.loads(cli("verify", out, "--json", "--trust-anchors", anchors).stdout)
    assert report["status"] == "trusted" and report["schema"] == "reelguard.verify/1"

    # With the configured data dir the dev root is found without a flag.
    v = cli("verify", out, env={"REELGUARD_DATA_DIR": str(running.config.data_dir)})
    assert v.returncode == 0, v.stdout

    data = bytearray(out.read_bytes())
    data[data.find(b"mdat") + 100] ^= 0xFF
    out.write_bytes(bytes(data))
    v = cli("verify", out, "--trust-anchors", anchors)
    assert v.returncode == 1 and "INVALID" in v.stdout
    assert "assertion.bmffHash.mismatch" in v.stdout and "tampered" in v.stdout


def test_blocked_generate_prints_reasons_and_exits_non_zero(running, files, tmp_path):
    r = cli(
        "--address",
        running.address,
        "generate",
        "--prompt",
        "a portrait",
        "--image",
        files / "astronaut.png",
        "--out",
        tmp_path / "x.mp4",
    )
    assert r.returncode == 2
    assert "BLOCKED" in r.stdout and "Eileen Collins" in r.stdout
    assert "public_figure: score" in r.stdout and "threshold" in r.stdout
    # What would lift it: a grant for this tenant, scope and person, and who records one.
    assert "no consent grant lets tenant" in r.stdout and "in 'video' media" in r.stdout
    assert "reelguard consent grant --tenant" in r.stdout and "--scope video" in r.stdout
    assert not (tmp_path / "x.mp4").exists()


def test_check_file_and_prompt(running, files):
    r = cli("--address", running.address, "check", files / "hopper.jpg")
    assert r.returncode == 0 and "verdict: ALLOW" in r.stdout
    r = cli("--address", running.address, "check", "--prompt", "Collins at the beach")
    assert r.returncode == 2 and "public_figure_name" in r.stdout


def test_a_command_loads_no_model_video_or_database_library():
    # Each command is a process of its own: reading the config and the registry once
    # imported every moderator's module and with them PyAV, FAISS, SQLAlchemy and c2pa,
    # 0.9-1.1 s a command where it is now 0.2-0.3 s (session 14).
    loaded = {name.split(".")[0] for name in modules_loaded_by("import safety.service.cli.main")}
    heavy = {"numpy", "av", "faiss", "sqlalchemy", "c2pa", "cryptography", "onnxruntime", "PIL"}
    assert loaded.isdisjoint(heavy), loaded & heavy


def test_bad_input_is_a_readable_error(running, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnope")
    r = cli("--address", running.address, "check", bad)
    assert r.returncode == 4
    assert "INVALID_ARGUMENT" in r.stderr and "Traceback" not in r.stderr


def test_identities_and_consent_admin(running, files):
    # The session's service is shared: enrol someone no other test uses as "not enrolled".
    addr = ("--address", running.address)
    r = cli(
        *addr,
        "identities",
        "enroll",
        "--name",
        "The Cameraman",
        "--alias",
        "Camera Man",
        "--external-id",
        "X1",
        files / "cameraman.png",
    )
    assert r.returncode == 0, r.stderr
    assert "enrolled The Cameraman" in r.stdout
    identity_id = r.stdout.split("(id ")[1].split(",")[0]
    listing = cli(*addr, "identities", "list").stdout
    assert "The Cameraman" in listing and "Camera Man" in listing and "Eileen Collins" in listing

    g = cli(
        *addr,
        "consent",
        "grant",
        "--tenant",
        "cli-tenant",
        "--identity",
        identity_id,
        "--scope",
        "video",
        "--grantor",
        "the cameraman himself",
        "--days",
        "30",
    )
    assert g.returncode == 0, g.stderr
    grant_id = g.stdout.split()[1]
    assert grant_id.startswith("grant_") and "[active]" in g.stdout
    shown = cli(*addr, "identities", "show", identity_id).stdout
    assert "external id: X1" in shown and "reference:" in shown and grant_id in shown
    revoked = cli(*addr, "consent", "revoke", grant_id, "--by", "legal")
    assert revoked.returncode == 0 and "revoked by legal" in revoked.stdout
    assert "revoked by legal" in cli(*addr, "consent", "list", "--tenant", "cli-tenant").stdout

    before = len(running.service.enroller.index)
    removed = cli(*addr, "identities", "remove", identity_id)
    assert removed.returncode == 0 and "removed The Cameraman" in removed.stdout
    assert len(running.service.enroller.index) == before - 1
    reindex = cli(*addr, "identities", "reindex")
    assert reindex.returncode == 0
    assert f"{before - 1} vectors (flat)" in reindex.stdout
    missing = cli(*addr, "identities", "show", identity_id)
    assert missing.returncode == 4 and "NOT_FOUND" in missing.stderr


def test_generate_with_a_driving_video(running, files, tmp_path):

    actor = tmp_path / "actor.mp4"
    actor.write_bytes(performance(skimage.data.astronaut()))
    r = cli(
        "--address",
        running.address,
        "generate",
        "--prompt",
        "a wave",
        "--image",
        files / "coffee.jpg",
        "--driving-video",
        actor,
        "--out",
        tmp_path / "o.mp4",
    )
    assert r.returncode == 2 and "driving_video" in r.stdout and "track" in r.stdout


def test_keys_init(tmp_path):
    r = cli("keys", "init", "--dir", tmp_path / "k")
    assert r.returncode == 0 and "root.pem" in r.stdout
    assert oct((tmp_path / "k" / "signer.key").stat().st_mode & 0o777) == "0o600"
    assert "PRIVATE" not in r.stdout + r.stderr
    again = cli("keys", "init", "--dir", tmp_path / "k")
    assert again.returncode != 0 and "--force" in again.stderr


def test_serve_starts_on_embedded_defaults_and_stops_cleanly(tmp_path, monkeypatch):
    monkeypatch.delenv("REELGUARD_TOKEN")
    port = free_port()
    proc = subprocess.Popen(
        [EXE, "serve", "--listen", f"127.0.0.1:{port}"],
        env={
            **os.environ,
            "REELGUARD_DATA_DIR": str(tmp_path),
            "REELGUARD_WEB_ADDRESS": "127.0.0.1:0",
            "REELGUARD_METRICS_ADDRESS": "127.0.0.1:0",
            "REELGUARD_LOG_FORMAT": "json",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "listening on grpc://" in line or not line:
                break
        assert f"listening on grpc://127.0.0.1:{port}" in "".join(lines), lines
        web = next(line for line in lines if "review UI on http://" in line).split()[-1]
        with urllib.request.urlopen(f"{web}/login", timeout=10) as page:
            assert page.status == 200 and b"reviewer token" in page.read()
        metrics = next(line for line in lines if "metrics on http://" in line).split()[-1]
        with urllib.request.urlopen(metrics, timeout=10) as page:
            assert b"reelguard_model_load_seconds" in page.read()
        assert any(line.startswith('{"time"') for line in lines)  # JSON log lines
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            status = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest()).status
        assert status == health_pb2.HealthCheckResponse.SERVING
        assert (tmp_path / "keys" / "root.pem").exists()  # a dev chain made on first run
        assert (tmp_path / "reelguard.sqlite3").exists()
        # The local CLI finds the first admin's token under the data dir by itself ...
        token_file = tmp_path / "admin.token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        env = {"REELGUARD_DATA_DIR": str(tmp_path)}
        address = ["--address", f"127.0.0.1:{port}"]
        created = cli(*address, "clients", "create", "--name", "render farm", "--tenant",
                      "studio-a", "--role", "generator-client", env=env)  # fmt: skip
        assert created.returncode == 0, created.stderr
        token = created.stdout.strip()
        assert token.startswith("rg_") and token not in created.stderr
        # ... and a client's token comes from REELGUARD_TOKEN.
        as_client = {**env, "REELGUARD_TOKEN": token}
        assert cli(*address, "check", "--prompt", "a cat", env=as_client).returncode == 0
        denied = cli(*address, "identities", "list", env=as_client)
        assert denied.returncode == 4 and "PERMISSION_DENIED" in denied.stderr
        listed = cli(*address, "clients", "list", env=env)
        assert "render farm" in listed.stdout and token not in listed.stdout
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_serve_says_which_address_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        r = subprocess.run(
            [EXE, "serve", "--listen", "127.0.0.1:0"],
            env={
                **os.environ,
                "REELGUARD_DATA_DIR": str(tmp_path),
                "REELGUARD_WEB_ADDRESS": busy,
                "REELGUARD_METRICS_ADDRESS": "",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert r.returncode == 3
    assert f"review UI on {busy}" in r.stderr and "in use" in r.stderr


def test_a_usage_error_never_exits_with_a_verdicts_code(tmp_path):
    """A bad option exited 2 (= blocked) and a missing file 1 (= not trusted, after an
    "INVALID — cannot read" verdict): a script could not tell them from answers."""
    missing = cli("verify", tmp_path / "missing.mp4")
    assert missing.returncode == 64 and "no such file or directory" in missing.stderr
    assert "INVALID" not in missing.stdout
    bogus = cli("review", "list", "--status", "bogus")
    assert bogus.returncode == 64 and "invalid choice: 'bogus'" in bogus.stderr
    assert "64 usage error" in cli("--help").stdout


def test_verify_piped_into_head_ends_quietly(tmp_path):
    from tests.support import video

    for i in range(40):
        (tmp_path / f"clip{i:02}.mp4").write_bytes(video("mp4"))
    r = subprocess.run(
        f"{EXE} verify {tmp_path} | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.stdout.count("\n") == 1
    assert "Traceback" not in r.stderr and "BrokenPipeError" not in r.stderr


ROOT = Path(__file__).resolve().parents[3]
WAITER = (
    "from safety.service.cli.operate import StopSignals\n"
    "signals = StopSignals(on_hangup=lambda: print('reloaded', flush=True))\n"
    "print('ready', flush=True)\n"  # as serve says "listening": after the handlers
    "signals.wait(poll_s=0.01)\n"
    "print('stopped', flush=True)\n"
)


def test_a_stop_signal_right_at_start_stops_the_server_and_a_hangup_reloads():
    # The handlers only note the signal: a handler that set a threading.Event could
    # deadlock when the signal landed while the main thread held that Event's lock
    # (a `serve` sent SIGTERM as it started never exited; the cold-start bench saw it).
    for attempt in range(5):
        proc = subprocess.Popen(
            [sys.executable, "-c", WAITER], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert proc.stdout.readline() == "ready\n"
        if attempt == 0:
            proc.send_signal(signal.SIGHUP)
            assert proc.stdout.readline() == "reloaded\n"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0 and proc.stdout.read() == "stopped\n"

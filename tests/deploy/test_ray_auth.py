"""Ray token authentication (RAY_AUTH_MODE=token, as deploy/kuberay sets it) on a local
Ray head: a client without the cluster's token does not get in, the front door with it
does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import free_port, needs

pytestmark = needs("ray", extra="ray")
RAY = shutil.which("ray") or str(Path(sys.executable).parent / "ray")
TOKEN = "r" * 32
CONNECT = (
    "import sys, ray; ray.init(address=sys.argv[1], log_to_driver=False); "
    "print('connected', ray.cluster_resources().get('CPU')); ray.shutdown()"
)


def without_auth() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}


@pytest.fixture(scope="module")
def head():
    """A head of its own, stopped by stopping it (`ray stop` would stop every Ray on the
    machine, another test's too): `ray start --block` takes its processes down with it."""
    env = {**without_auth(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN}
    port = free_port()
    proc = subprocess.Popen(
        [RAY, "start", "--head", "--port", str(port), "--num-cpus", "1",
         "--include-dashboard", "false", "--disable-usage-stats",
         "--node-ip-address", "127.0.0.1", "--block"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        for line in proc.stdout:
            if "will now block" in line:
                break
        else:
            pytest.fail(f"ray start exited with {proc.wait()}")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def connect(address: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CONNECT, address],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_client_without_the_token_is_refused(head):
    # Ray retries a refused connection once a second, 20 times by default and as many as
    # RAY_gcs_server_port_wait_time_s says when it is set (RayPools.start sets it to 120
    # in this process when another test started pools here): two tries say the same.
    env = {**without_auth(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": "w" * 32}
    wrong = connect(head, {**env, "RAY_gcs_server_port_wait_time_s": "2"})
    assert wrong.returncode != 0 and "connected" not in wrong.stdout
    assert TOKEN not in wrong.stdout + wrong.stderr


def test_the_front_door_with_the_token_connects(head):
    right = connect(head, {**without_auth(), "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN})
    assert right.returncode == 0 and "connected 1.0" in right.stdout, right.stderr[-500:]

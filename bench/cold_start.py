"""Cold start: `reelguard serve` from launch to gRPC health SERVING, on embedded defaults.

    python bench/cold_start.py [--repeat 3]

Also the face workers' restart after a check overran its deadline and they were killed:
from the restart to the first answer, with the program's modules preloaded in the
workers' server (as the service does) against without (each worker imports the
program again as it re-runs it).

First start on an empty data dir (creates the dev signing chain, databases, index) and
later starts on the same dir. Baseline: a Python process that starts a bare gRPC server
with health checking (the floor any Python gRPC service pays). Goals (issue 31): first
start <= 3x bare, warm start <= 2x bare.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

EXE = shutil.which("reelguard") or str(Path(sys.executable).parent / "reelguard")
BARE = """
import grpc, time
from concurrent import futures
from grpc_health.v1 import health, health_pb2_grpc
s = grpc.server(futures.ThreadPoolExecutor(2))
health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), s)
s.add_insecure_port("127.0.0.1:{port}"); s.start(); time.sleep(600)
"""
# The same server after importing the native runtimes the service's models run on: the
# floor of any Python service that loads these libraries, before reading one model.
RUNTIMES = "import av, cv2, dlib, faiss, onnxruntime, sqlalchemy, ai_edge_litert.interpreter\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def time_to_serving(cmd: list[str], port: int, env: dict) -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # Reconnect every 10 ms: with gRPC's default backoff (1 s, then x1.6 with jitter)
        # the time measured is the client's backoff schedule, not the server's start.
        fast = [
            ("grpc.initial_reconnect_backoff_ms", 10),
            ("grpc.min_reconnect_backoff_ms", 10),
            ("grpc.max_reconnect_backoff_ms", 10),
        ]
        with grpc.insecure_channel(f"127.0.0.1:{port}", options=fast) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(), timeout=0.2).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return time.perf_counter() - t0
                except grpc.RpcError:
                    time.sleep(0.02)
                if proc.poll() is not None:
                    raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def face_restart(repeat: int) -> None:
    """The face workers killed and restarted, then one call (bench/_face_restart.py, a
    program that loads what `reelguard serve` loads): preloaded against not."""
    times = {}
    for mode in ("none", "preload"):
        run = subprocess.run(
            [sys.executable, str(Path(__file__).parent / "_face_restart.py"), mode, str(repeat)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        times[mode] = float(run.stdout.split()[-1])
    for mode, secs in times.items():
        print(f"face workers restarted, to the first answer, {mode:>7}: {secs:.2f} s "
              f"({secs / times['none']:.2f}x)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    bare, runtimes, first, warm = [], [], [], []
    for _ in range(args.repeat):
        for bucket, prelude in ((bare, ""), (runtimes, RUNTIMES)):
            port = free_port()
            cmd = [sys.executable, "-c", prelude + BARE.format(port=port)]
            bucket.append(time_to_serving(cmd, port, os.environ))
        with tempfile.TemporaryDirectory() as data:
            env = {
                **os.environ,
                "REELGUARD_DATA_DIR": data,
                "REELGUARD_WEB_ADDRESS": "",
                "REELGUARD_METRICS_ADDRESS": "",
            }
            for bucket in (first, warm):
                port = free_port()
                cmd = [EXE, "serve", "--listen", f"127.0.0.1:{port}"]
                bucket.append(time_to_serving(cmd, port, env))
    base = statistics.median(bare)
    print(f"launch to SERVING, median of {args.repeat}")
    floor = statistics.median(runtimes)
    rows = [
        ("bare gRPC server", bare),
        ("+ model runtimes", runtimes),
        ("first start", first),
        ("warm start", warm),
    ]
    for name, samples in rows:
        med = statistics.median(samples)
        print(
            f"{name:>17}: {med:6.2f} s  ({med / base:5.1f}x bare, {med / floor:4.1f}x runtimes)"
            f"  max {max(samples):.2f} s"
        )
    face_restart(args.repeat)


if __name__ == "__main__":
    main()

"""Back-pressure under load: many concurrent Generate streams against N slots.

    python bench/load.py [--streams 100] [--slots 4] [--seconds 2]

The service runs in this process on a real port with the built-in defaults, except the
generator: it sleeps `--seconds` (a stand-in for a GPU job, so that the slots stay busy)
and then encodes a small clip. The callers run in another process (bench/_flood.py, one
asyncio loop): a hundred client threads in the server's own process measured their own
GIL as much as the server. Baseline: a plain gRPC health check, one at a time. Reports
outcomes of a flood as the slots free up, how fast refusals come back while every slot
is busy (as a ratio to the baseline, and to the same flood of health checks: what any
burst costs on one server), and peak RSS before and after.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _util
import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.mp4 import write_mp4  # noqa: E402
from reelguard.channel import connect  # noqa: E402
from reelguard.v1 import reelguard_pb2 as pb  # noqa: E402
from reelguard.v1 import reelguard_pb2_grpc as rpc  # noqa: E402
from safety.service.api.server import start_server  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402


class SleepyGenerator:
    """Sleeps `seconds` a job, or while `held` is set, until it is cleared: the slots stay
    busy for as long as a measurement needs them (a flood's client takes a while to start)."""

    name, version, model_id = "sleepy", "1", "bench/sleepy"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.held = threading.Event()
        self.released = threading.Event()

    def generate(self, job, out_path, progress):
        if self.held.is_set():
            self.released.wait()
        else:
            time.sleep(self.seconds)
        frames = [np.full((job.height, job.width, 3), 90, np.uint8)] * job.num_frames
        write_mp4(frames, out_path, job.fps)
        return "video/mp4"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", type=int, default=100)
    ap.add_argument("--slots", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(
            data_dir=Path(tmp),
            max_generations=args.slots,
            max_generations_per_tenant=args.streams,
        )
        sleepy = SleepyGenerator(args.seconds)
        service = build_service(config, generator=sleepy)
        server, port = start_server(service, "127.0.0.1:0", max_workers=args.slots + 8)
        channel = connect(f"127.0.0.1:{port}", config.admin_token_path.read_text().strip())
        generation = rpc.GenerationStub(channel)
        request = pb.GenerateRequest(
            prompt="a grey wall", output=pb.OutputSpec(width=64, height=64, num_frames=8)
        )
        list(generation.Generate(request))  # warm: lazy imports, pools
        token = config.admin_token_path.read_text().strip()

        def flood(mode: str) -> dict:
            """The caller process's figures, and the CPU this process (the server) spent
            meanwhile, per call answered."""
            cpu = time.process_time()
            out = subprocess.run(
                [sys.executable, str(Path(__file__).parent / "_flood.py"), str(port), mode,
                 str(args.streams)],
                input=token, capture_output=True, text=True, check=True,
            )  # fmt: skip
            figures = json.loads(out.stdout)
            calls = sum(len(v) for v in figures.values())
            return {**figures, "cpu_per_call": (time.process_time() - cpu) / calls}

        rss_before, peak_before = _util.rss_mb()
        health = flood("health")
        baseline = [t for _, t in health["alone"]]
        health_flood = [t for _, t in health["flood"]]
        print(f"baseline health RPC:  {_util.summary(baseline)}")
        print(f"{args.streams} health RPCs at once: {_util.summary(health_flood)}")

        t0 = time.perf_counter()
        results = flood("generate")["flood"]
        wall = time.perf_counter() - t0
        kinds = sorted({k for k, _ in results})
        counts = ", ".join(f"{k} {sum(1 for x, _ in results if x == k)}" for k in kinds)
        print(f"{args.streams} streams, {args.slots} slots, {args.seconds:g} s jobs: {counts}")
        print(f"whole flood: {wall:.2f} s (with the client's start); "
              f"slots busy after: {service.admission.running()}")  # fmt: skip

        # Every slot busy: the flood is refused whole, and nothing else runs beside it.
        sleepy.held.set()
        fillers = [
            threading.Thread(target=lambda: list(generation.Generate(request)))
            for _ in range(args.slots)
        ]
        for t in fillers:
            t.start()
        while service.admission.running() < args.slots:
            time.sleep(0.01)
        refusals = flood("generate")
        refused = [t for k, t in refusals["flood"] if k == "RESOURCE_EXHAUSTED"]
        assert len(refused) == args.streams, "a slot came free during the flood"
        ratio = _util.percentile(refused, 99) / _util.percentile(baseline, 99)
        flood_ratio = _util.percentile(refused, 99) / _util.percentile(health_flood, 99)
        print(f"refusal, every slot busy, {len(refused)} at once: {_util.summary(refused)}")
        print(f"refusal p99 = {ratio:.1f}x the baseline p99, "
              f"{flood_ratio:.1f}x the same flood of health RPCs")  # fmt: skip
        cpu = refusals["cpu_per_call"] / health["cpu_per_call"]
        print(f"server CPU per call: health {health['cpu_per_call'] * 1e6:.0f} us, "
              f"refusal {refusals['cpu_per_call'] * 1e6:.0f} us ({cpu:.1f}x)")  # fmt: skip
        alone = []
        for _ in range(50):
            t0 = time.perf_counter()
            try:
                list(generation.Generate(request))
            except grpc.RpcError:
                alone.append(time.perf_counter() - t0)
        sleepy.released.set()
        for t in fillers:
            t.join()
        ratio = _util.percentile(alone, 50) / _util.percentile(baseline, 50)
        print(f"refusal one at a time, slots full: {_util.summary(alone)}")
        print(f"refusal median = {ratio:.1f}x the baseline median")
        print(
            f"RSS before {rss_before:.0f} MB, after {_util.rss_mb()[0]:.0f} MB; "
            f"peak before {peak_before:.0f} MB, peak after {_util.rss_mb()[1]:.0f} MB"
        )
        channel.close()
        server.stop(None).wait()
        service.close()


if __name__ == "__main__":
    main()

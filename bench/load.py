"""Back-pressure under load: many concurrent Generate streams against N slots.

    python bench/load.py [--streams 100] [--slots 4] [--seconds 2]

The service runs in this process on a real port with the built-in defaults, except the
generator: it sleeps `--seconds` (a stand-in for a GPU job, so that the slots stay busy)
and then encodes a small clip. Baseline: a plain gRPC health check on the same channel.
Reports outcomes, how fast refusals come back (as a ratio to the baseline RPC, and to
the same flood of health RPCs: the cost of any burst on one server), and peak RSS before
and after the flood.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent import futures
from pathlib import Path

import _util
import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from media.mp4 import write_mp4  # noqa: E402
from reelguard.channel import connect  # noqa: E402
from reelguard.v1 import reelguard_pb2 as pb  # noqa: E402
from reelguard.v1 import reelguard_pb2_grpc as rpc  # noqa: E402
from safety.service.api.server import start_server  # noqa: E402
from safety.service.app import build_service  # noqa: E402
from safety.service.config import Config  # noqa: E402


class SleepyGenerator:
    name, version, model_id = "sleepy", "1", "bench/sleepy"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def generate(self, job, out_path, progress):
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
        service = build_service(config, generator=SleepyGenerator(args.seconds))
        server, port = start_server(service, "127.0.0.1:0", max_workers=args.slots + 8)
        channel = connect(f"127.0.0.1:{port}", config.admin_token_path.read_text().strip())
        generation = rpc.GenerationStub(channel)
        request = pb.GenerateRequest(
            prompt="a grey wall", output=pb.OutputSpec(width=64, height=64, num_frames=8)
        )
        list(generation.Generate(request))  # warm: lazy imports, pools
        health = health_pb2_grpc.HealthStub(channel)
        baseline = _util.timed(lambda: health.Check(health_pb2.HealthCheckRequest()), 200)
        rss_before, peak_before = _util.rss_mb()

        barrier = threading.Barrier(args.streams)

        def one(_):
            barrier.wait()
            start = time.perf_counter()
            try:
                kind = [e.WhichOneof("event") for e in generation.Generate(request)][-1]
            except grpc.RpcError as e:
                kind = e.code().name
            return kind, time.perf_counter() - start

        def health_one(_):
            barrier.wait()
            start = time.perf_counter()
            health.Check(health_pb2.HealthCheckRequest())
            return time.perf_counter() - start

        # The same flood of the cheapest call: what any burst costs on one server.
        with futures.ThreadPoolExecutor(args.streams) as pool:
            health_flood = list(pool.map(health_one, range(args.streams)))

        t0 = time.perf_counter()
        with futures.ThreadPoolExecutor(args.streams) as pool:
            results = list(pool.map(one, range(args.streams)))
        wall = time.perf_counter() - t0
        refused = [t for k, t in results if k == "RESOURCE_EXHAUSTED"]
        kinds = sorted({k for k, _ in results})
        counts = ", ".join(f"{k} {sum(1 for x, _ in results if x == k)}" for k in kinds)
        print(f"{args.streams} streams, {args.slots} slots, {args.seconds:g} s jobs: {counts}")
        print(f"baseline health RPC:  {_util.summary(baseline)}")
        if refused:
            ratio = _util.percentile(refused, 99) / _util.percentile(baseline, 99)
            print(f"refusal (RESOURCE_EXHAUSTED): {_util.summary(refused)}")
            print(f"refusal p99 = {ratio:.1f}x the baseline p99")
            flood_ratio = _util.percentile(refused, 99) / _util.percentile(health_flood, 99)
            print(f"{args.streams} health RPCs at once: {_util.summary(health_flood)}")
            print(f"refusal p99 = {flood_ratio:.1f}x the same flood of health RPCs")
        print(f"whole flood: {wall:.2f} s; slots busy after: {service.admission.running()}")

        # Refusal alone, without a burst's queueing: fill the slots, then ask one at a time.
        fillers = [
            threading.Thread(target=lambda: list(generation.Generate(request)))
            for _ in range(args.slots)
        ]
        for t in fillers:
            t.start()
        while service.admission.running() < args.slots:
            time.sleep(0.01)
        alone = []
        for _ in range(50):
            t0 = time.perf_counter()
            try:
                list(generation.Generate(request))
            except grpc.RpcError:
                alone.append(time.perf_counter() - t0)
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

"""The client side of bench/load.py, in a process of its own (as real callers are): one
asyncio loop sends each flood at once, so the figures are the server's, not those of a
hundred client threads sharing the server's GIL and cores.

    python bench/_flood.py PORT MODE N   (the bearer token on stdin)

MODE `health`: health checks one at a time (at least 200), then N at once. MODE `generate`: N
Generate streams at once. Prints one JSON object: [outcome, seconds] per call.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc

REQUEST = pb.GenerateRequest(
    prompt="a grey wall", output=pb.OutputSpec(width=64, height=64, num_frames=8)
)


async def timed(call) -> tuple[str, float]:
    start = time.perf_counter()
    try:
        outcome = await call()
    except grpc.aio.AioRpcError as e:
        outcome = e.code().name
    return outcome, time.perf_counter() - start


async def main(port: int, mode: str, n: int, token: str) -> dict:
    metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        await channel.channel_ready()
        health = health_pb2_grpc.HealthStub(channel)
        generation = rpc.GenerationStub(channel)

        async def check() -> str:
            await health.Check(health_pb2.HealthCheckRequest())
            return "OK"

        async def generate() -> str:
            events = [e async for e in generation.Generate(REQUEST, metadata=metadata)]
            return events[-1].WhichOneof("event")

        if mode == "health":
            alone = [await timed(check) for _ in range(max(n, 200))]
            flood = await asyncio.gather(*[timed(check) for _ in range(n)])
            return {"alone": alone, "flood": list(flood)}
        return {"flood": list(await asyncio.gather(*[timed(generate) for _ in range(n)]))}


if __name__ == "__main__":
    port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    print(json.dumps(asyncio.run(main(port, mode, n, sys.stdin.read().strip()))))

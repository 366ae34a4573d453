"""Two front doors on one PostgreSQL against one: Check throughput, and how long an
enrolment made through one takes to be matched by the other.

    python bench/frontdoors.py [--seconds 20] [--clients 4] [--pin] [--database-url URL]

Each front door is a `reelguard serve` process of its own (face models in process, one
intra-op thread), on its own data dir; without --database-url a throwaway PostgreSQL
is started (tests/pg.py). With --pin each front door runs on a core of its own (every
thread, `taskset -a`), as a replica with a CPU limit of 1 would: front door A on core
0 for the baseline, B on core 1 beside it. Baseline: the same clients against one
front door, in this run. The workload is Moderation.Check of a photo (every visual
model runs on it).
Sync delay: from the Enroll RPC's return on one front door until a Check on the other
matches the person, polled back to back (so it includes up to one Check's latency,
reported beside it).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import _util  # noqa: F401  (one intra-op thread)
import skimage

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reelguard.channel import connect  # noqa: E402
from reelguard.v1 import reelguard_pb2 as pb  # noqa: E402
from reelguard.v1 import reelguard_pb2_grpc as rpc  # noqa: E402
from signing.keys import init_dev_chain  # noqa: E402
from tests.support import encode, free_port, serve_process  # noqa: E402

CONFIG = """
database_url = "{url}"
signing_key = "{keys}/signer.key"
signing_chain = "{keys}/chain.pem"
watermark_key_file = "{keys}/watermark.key"
web_address = ""
metrics_address = ""
face_workers = 0
sync_poll_s = 0.5
max_media_checks = 16
max_media_checks_per_tenant = 16
"""


def start(root: Path, name: str, url: str, keys: Path) -> tuple[subprocess.Popen, str]:
    data = root / name
    data.mkdir()
    (data / "reelguard.toml").write_text(CONFIG.format(url=url, keys=keys))
    port = free_port()
    return serve_process(data, port, env={"OMP_NUM_THREADS": "1"}), f"127.0.0.1:{port}"


def pin(proc: subprocess.Popen, core: int) -> None:
    """All of a running process's threads onto one core."""
    subprocess.run(["taskset", "-a", "-cp", str(core), str(proc.pid)], check=True,
                   capture_output=True)  # fmt: skip


def throughput(addresses: list[str], token: str, image: bytes, clients: int, seconds: float):
    """Checks per second of `clients` threads spread over `addresses`."""
    done, stop = [0] * clients, threading.Event()

    def worker(i: int, address: str) -> None:
        stub = rpc.ModerationStub(connect(address, token))
        request = pb.CheckRequest(media=pb.Media(data=image))
        stub.Check(request, timeout=120)  # warm
        while not stop.is_set():
            stub.Check(request, timeout=120)
            done[i] += 1

    threads = [
        threading.Thread(target=worker, args=(i, a))
        for i, a in zip(range(clients), itertools.cycle(addresses), strict=False)
    ]
    for t in threads:
        t.start()
    time.sleep(2)  # everyone warm
    before, t0 = sum(done), time.perf_counter()
    time.sleep(seconds)
    rate = (sum(done) - before) / (time.perf_counter() - t0)
    stop.set()
    for t in threads:
        t.join()
    return rate


def matched(stub, image: bytes) -> tuple[bool, float]:
    t0 = time.perf_counter()
    verdict = stub.Check(pb.CheckRequest(media=pb.Media(data=image)), timeout=60)
    found = any(f.identity_name == "Eileen Collins" for f in verdict.findings)
    return found, time.perf_counter() - t0


def sync_delays(admin_a, admin_b, face: bytes, rounds: int) -> tuple[list[float], list[float]]:
    identities, moderation = rpc.IdentitiesStub(admin_a), rpc.ModerationStub(admin_b)
    delays, checks = [], []
    for _ in range(rounds):
        enrolled = identities.Enroll(
            pb.EnrollRequest(name="Eileen Collins", images=[pb.Media(data=face)])
        )
        t0 = time.perf_counter()
        while True:
            found, took = matched(moderation, face)
            checks.append(took)
            if found:
                delays.append(time.perf_counter() - t0)
                break
            if time.perf_counter() - t0 > 30:
                raise SystemExit("the other front door never matched the enrolment")
        identities.Remove(pb.IdentityRef(id=enrolled.id))
        while matched(moderation, face)[0]:
            pass
    return delays, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pin", action="store_true", help="one core per front door")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="reelguard-bench-doors-"))
    server = None
    url = args.database_url
    if not url:
        from tests.pg import Postgres

        server = Postgres()
        url = server.fresh_database("bench")
    keys = root / "keys"
    init_dev_chain(keys)
    procs = []
    try:
        proc_a, a = start(root, "a", url, keys)
        procs.append(proc_a)
        proc_b, b = start(root, "b", url, keys)
        procs.append(proc_b)
        if args.pin:
            pin(proc_a, 0)
            pin(proc_b, 1 % (os.cpu_count() or 1))
        token = (root / "a" / "admin.token").read_text().strip()
        photo = encode(skimage.data.coffee(), "JPEG")
        one = throughput([a], token, photo, args.clients, args.seconds)
        two = throughput([a, b], token, photo, args.clients, args.seconds)
        pinned = ", one core per front door" if args.pin else ""
        print(f"cores: {os.cpu_count()}{pinned}, clients: {args.clients}, {args.seconds:.0f} s")
        print(f"one front door : {one:7.2f} checks/s")
        print(f"two front doors: {two:7.2f} checks/s   ratio {two / one:.2f}x")
        face = encode(skimage.data.astronaut(), "JPEG")
        delays, checks = sync_delays(connect(a, token), connect(b, token), face, args.rounds)
        print(
            f"sync delay (enrol on A -> matched on B): median "
            f"{statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms "
            f"(n={len(delays)}; one Check on B takes {statistics.median(checks) * 1000:.0f} ms)"
        )
    finally:
        for p in procs:
            p.kill()
            p.wait()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()

"""Reading a result stream (Generate, GetResult) in a terminal: progress, the signed
file, the verdict, or the ticket of a held request, each with its exit code."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from safety.service.cli.connection import EXIT_BLOCKED, EXIT_FAILED, EXIT_HELD, EXIT_OK
from safety.service.cli.output import format_verdict


def receive(events, out: Path | None, quiet_progress: bool = False) -> int:
    """Consume one result stream; the output is written to `out` only once its SHA-256
    matches what the service says it sent."""
    from tqdm import tqdm

    from reelguard.v1 import reelguard_pb2 as pb

    tmp = out.with_name(out.name + ".part") if out is not None else None
    bar, digest, f = None, hashlib.sha256(), None
    try:
        for event in events:
            kind = event.WhichOneof("event")
            if kind == "accepted" and not quiet_progress:
                print(f"accepted: request {event.accepted.request_id}", file=sys.stderr)
            elif kind == "progress":
                p = event.progress
                if p.stage == pb.GENERATING:
                    if bar is None:
                        bar = tqdm(total=p.total, desc="generating", unit="frame", file=sys.stderr)
                    bar.update(p.done - bar.n)
                else:
                    if bar is not None:
                        bar.close()
                        bar = None
                    print(f"{pb.Stage.Name(p.stage).lower()}: {p.message}", file=sys.stderr)
            elif kind == "output_chunk":
                if tmp is None:
                    print(
                        "reelguard: the output is ready; give --out FILE to save it",
                        file=sys.stderr,
                    )
                    return EXIT_FAILED
                f = f or open(tmp, "wb")  # closed below; renamed only when complete
                f.write(event.output_chunk.data)
                digest.update(event.output_chunk.data)
            elif kind == "completed":
                c = event.completed
                if digest.hexdigest() != c.sha256:
                    print(
                        "reelguard: output corrupted in transit (sha256 mismatch)", file=sys.stderr
                    )
                    return EXIT_FAILED
                if f is None:  # an empty output still gets its file
                    f = open(tmp, "wb")
                f.close()
                os.replace(tmp, out)
                print(format_verdict(c.verdict))
                print(f"wrote {out} ({c.size} bytes, C2PA-signed, sha256 {c.sha256})")
                return EXIT_OK
            elif kind == "blocked":
                print("BLOCKED")
                print(format_verdict(event.blocked.verdict))
                return EXIT_BLOCKED
            elif kind == "failed":
                print(f"FAILED at {pb.Stage.Name(event.failed.stage)}: {event.failed.error}")
                return EXIT_FAILED
            elif kind == "held":
                h = event.held
                print(f"HELD for human review: ticket {h.ticket} ({h.status})")
                print(format_verdict(h.verdict))
                print(
                    f"follow it with: reelguard result {h.ticket} --out FILE --wait",
                    file=sys.stderr,
                )
                return EXIT_HELD
    finally:
        if bar is not None:
            bar.close()
        if f is not None and not f.closed:
            f.close()
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    print("reelguard: the stream ended without a result", file=sys.stderr)
    return EXIT_FAILED

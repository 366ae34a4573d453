"""Reading a result stream (Generate, GetResult) in a terminal: progress, the signed
file, the verdict, or the ticket of a held request, each with its exit code."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from safety.service.cli.connection import EXIT_BLOCKED, EXIT_FAILED, EXIT_HELD, EXIT_OK
from safety.service.cli.output import as_plain, emitted, format_verdict

RESULT_SCHEMA = "reelguard.result/1"  # generate --json, result --json


def receive(events, out: Path | None, args=None, quiet_progress: bool = False) -> int:
    """Consume one result stream; the output is written to `out` only once its SHA-256
    matches what the service says it sent. With `args.json`, the outcome is printed as
    one JSON document (RESULT_SCHEMA) instead of words; progress stays on stderr."""
    from tqdm import tqdm

    from reelguard.v1 import reelguard_pb2 as pb

    quiet = bool(getattr(args, "json", False))
    tmp = out.with_name(out.name + ".part") if out is not None else None
    bar, digest, f, request_id = None, hashlib.sha256(), None, ""

    def outcome(name: str, message, **more) -> bool:
        body = {"outcome": name, "request_id": request_id, **more, **as_plain(message)}
        return emitted(args, body) if args is not None else False

    try:
        for event in events:
            kind = event.WhichOneof("event")
            if kind == "accepted":
                request_id = event.accepted.request_id
                if not quiet_progress and not quiet:
                    print(f"accepted: request {request_id}", file=sys.stderr)
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
                if not outcome("completed", c, out=str(out)):
                    print(format_verdict(c.verdict))
                    print(f"wrote {out} ({c.size} bytes, C2PA-signed, sha256 {c.sha256})")
                return EXIT_OK
            elif kind == "blocked":
                if not outcome("blocked", event.blocked):
                    print("BLOCKED")
                    print(format_verdict(event.blocked.verdict))
                return EXIT_BLOCKED
            elif kind == "failed":
                if not outcome("failed", event.failed):
                    print(f"FAILED at {pb.Stage.Name(event.failed.stage)}: {event.failed.error}")
                return EXIT_FAILED
            elif kind == "held":
                h = event.held
                if outcome("held", h):
                    return EXIT_HELD
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

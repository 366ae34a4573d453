"""How a CLI command reaches the service: the address, TLS material and bearer token."""

from __future__ import annotations

import os
from pathlib import Path

from safety.service.config import Config

# Exit codes (README, and `reelguard --help`): ok / allowed / trusted, not trusted,
# blocked, failed, refused RPC, held for human review (follow the ticket with
# `reelguard result`), and a usage error (a bad option, a file that is not there:
# sysexits' EX_USAGE, never a verdict's code).
EXIT_OK = 0
EXIT_NOT_TRUSTED = 1
EXIT_BLOCKED = 2
EXIT_FAILED = 3
EXIT_RPC = 4
EXIT_HELD = 5
EXIT_USAGE = 64
EXIT_CODES = """exit codes: 0 ok / allowed / trusted, 1 not trusted, 2 blocked, 3 failed,
4 the RPC was refused (the message says why), 5 held for human review,
64 usage error (a bad option or argument, a file that is not there)"""


def client_token(args) -> str | None:
    """REELGUARD_TOKEN, else --token-file, else the local admin token a fresh install wrote."""
    if os.environ.get("REELGUARD_TOKEN"):
        return os.environ["REELGUARD_TOKEN"].strip()
    path = args.token_file or Config.load(args.config).admin_token_path
    try:
        return Path(path).read_text().strip()
    except FileNotFoundError:
        if args.token_file:
            raise SystemExit(f"reelguard: no token file {path}") from None
        return None
    except OSError as e:
        raise SystemExit(f"reelguard: cannot read token file {path}: {e.strerror}") from None


def stubs(args):
    from reelguard.channel import connect
    from reelguard.v1 import reelguard_pb2_grpc as rpc

    channel = connect(args.address, client_token(args), args.ca, args.cert, args.key)
    return rpc, channel


def media_message(path: Path):
    from reelguard.v1 import reelguard_pb2 as pb

    try:
        data = path.read_bytes()
    except OSError as e:
        raise SystemExit(f"reelguard: cannot read {path}: {e.strerror}") from None
    return pb.Media(data=data, filename=path.name)

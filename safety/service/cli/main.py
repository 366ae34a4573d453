"""`reelguard`: run the service, and talk to it as a generation client, admin or auditor."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc

from safety.service.cli.admin_commands import add_admin_commands
from safety.service.cli.client import add_client_commands
from safety.service.cli.connection import EXIT_RPC
from safety.service.cli.models import add_models_command
from safety.service.cli.operate import add_operate_commands
from safety.service.cli.review_commands import add_review_commands
from safety.service.config import DEFAULT_ADDRESS
from signing.allocator import keep_freed_memory

# ---- serve / keys -----------------------------------------------------------------------


# ---- admin ------------------------------------------------------------------------------


# ---- consent ------------------------------------------------------------------------------


# ---- generation client --------------------------------------------------------------------


# ---- auditor ----------------------------------------------------------------------------


# ---- hash banks -----------------------------------------------------------------------------


# ---- policies -------------------------------------------------------------------------------


# ---- argument parsing ---------------------------------------------------------------------


def _env_path(name: str) -> Path | None:
    return Path(os.environ[name]) if os.environ.get(name) else None


def build_parser() -> argparse.ArgumentParser:
    address = os.environ.get("REELGUARD_ADDRESS", DEFAULT_ADDRESS)
    p = argparse.ArgumentParser(prog="reelguard", description=__doc__)
    p.add_argument("--address", default=address, help=f"service address (default {address})")
    p.add_argument("--config", type=Path, help="TOML config file (or REELGUARD_CONFIG)")
    p.add_argument(
        "--token-file",
        type=Path,
        help="file holding this client's bearer token (default: REELGUARD_TOKEN, else the "
        "admin token a fresh install writes to <data_dir>/admin.token)",
    )
    p.add_argument(
        "--ca",
        type=Path,
        default=_env_path("REELGUARD_CA"),
        help="connect with TLS, trusting this CA bundle (or REELGUARD_CA)",
    )
    p.add_argument(
        "--cert", type=Path, default=_env_path("REELGUARD_CERT"), help="mTLS client certificate"
    )
    p.add_argument(
        "--key", type=Path, default=_env_path("REELGUARD_KEY"), help="mTLS client private key"
    )
    sub = p.add_subparsers(dest="command", required=True)
    add_operate_commands(sub)
    add_admin_commands(sub)
    add_client_commands(sub)
    add_review_commands(sub)
    add_models_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # sign and verify reuse asset-sized buffers (signing/allocator.py)
    try:
        return args.func(args)
    except grpc.RpcError as e:
        print(f"reelguard: {e.code().name}: {e.details()}", file=sys.stderr)
        return EXIT_RPC


if __name__ == "__main__":
    sys.exit(main())

"""`reelguard`: run the service, and talk to it as a generation client, admin or auditor."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import grpc

from safety.policy.loading import PolicyError
from safety.service.cli.admin_commands import add_admin_commands
from safety.service.cli.client import add_client_commands
from safety.service.cli.connection import EXIT_CODES, EXIT_OK, EXIT_RPC, EXIT_USAGE
from safety.service.cli.decision_commands import add_decision_commands
from safety.service.cli.likeness_commands import add_likeness_commands
from safety.service.cli.models import add_models_command
from safety.service.cli.operate import add_operate_commands
from safety.service.cli.owner_commands import add_owner_commands
from safety.service.cli.provenance_commands import add_provenance_commands
from safety.service.cli.review_commands import add_review_commands
from safety.service.config import DEFAULT_ADDRESS, ConfigError
from signing.allocator import keep_freed_memory


class _Parser(argparse.ArgumentParser):
    """Usage errors exit EXIT_USAGE, not argparse's 2 (which is BLOCKED here)."""

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _env_path(name: str) -> Path | None:
    return Path(os.environ[name]) if os.environ.get(name) else None


def build_parser() -> argparse.ArgumentParser:
    address = os.environ.get("REELGUARD_ADDRESS") or DEFAULT_ADDRESS
    p = _Parser(
        prog="reelguard",
        description=__doc__,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--address", help=f"service address (default {address})")
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
    add_likeness_commands(sub)
    add_owner_commands(sub)
    add_client_commands(sub)
    add_provenance_commands(sub)
    add_review_commands(sub)
    add_decision_commands(sub)
    add_models_command(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Named (flag or environment) rather than assumed: `verify` then asks that service.
    args.address_configured = bool(args.address or os.environ.get("REELGUARD_ADDRESS"))
    args.address = args.address or os.environ.get("REELGUARD_ADDRESS") or DEFAULT_ADDRESS
    keep_freed_memory()  # sign and verify reuse asset-sized buffers (signing/allocator.py)
    try:
        code = args.func(args)
        sys.stdout.flush()  # a reader that went away shows here, not at interpreter exit
        return code
    except grpc.RpcError as e:
        print(f"reelguard: {e.code().name}: {e.details()}", file=sys.stderr)
        return EXIT_RPC
    except (ConfigError, PolicyError) as e:  # the user's to fix, named: not a traceback
        print(f"reelguard: {e}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `reelguard verify ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())

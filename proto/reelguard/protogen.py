"""Regenerate the gRPC stubs from proto/: `python -m reelguard.protogen` (CI checks for drift)."""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent.parent
PROTOS = ["reelguard/v1/reelguard.proto"]


def generate(out_dir: Path = PROTO_ROOT) -> None:
    from grpc_tools import protoc  # test/dev dependency only

    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(PROTO_ROOT / p) for p in PROTOS),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT)

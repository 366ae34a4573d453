"""Regenerate the gRPC stubs from proto/: `python -m reelguard.protogen` (CI checks for drift)."""

from __future__ import annotations

import sys
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent.parent
PROTOS = ["reelguard/v1/reelguard.proto"]
# Message-only protos that live beside the domain code using them, relative to the repo.
REPO_ROOT = PROTO_ROOT.parent
MESSAGE_PROTOS = ["safety/likeness/onnx_subset.proto"]


def generate(out_dir: Path | None = None) -> None:
    """Write the generated modules into the tree, or all of them under `out_dir`."""
    from grpc_tools import protoc  # test/dev dependency only

    services = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_dir or PROTO_ROOT}",
        f"--pyi_out={out_dir or PROTO_ROOT}",
        f"--grpc_python_out={out_dir or PROTO_ROOT}",
        *(str(PROTO_ROOT / p) for p in PROTOS),
    ]
    messages = [
        "protoc",
        f"-I{REPO_ROOT}",
        f"--python_out={out_dir or REPO_ROOT}",
        f"--pyi_out={out_dir or REPO_ROOT}",
        *(str(REPO_ROOT / p) for p in MESSAGE_PROTOS),
    ]
    for args in (services, messages):
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else None)

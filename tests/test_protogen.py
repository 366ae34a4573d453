"""The committed gRPC stubs must be exactly what `python -m reelguard.protogen` makes."""

from pathlib import Path

from reelguard.protogen import MESSAGE_PROTOS, PROTO_ROOT, PROTOS, REPO_ROOT, generate


def test_generated_stubs_match_the_proto_sources(tmp_path: Path):
    generate(tmp_path)
    for proto in PROTOS:
        stem = proto.removesuffix(".proto")
        for suffix in ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"):
            fresh = (tmp_path / f"{stem}{suffix}").read_text()
            committed = (PROTO_ROOT / f"{stem}{suffix}").read_text()
            assert fresh == committed, f"{stem}{suffix} drifted: run python -m reelguard.protogen"


def test_generated_messages_match_their_proto_sources(tmp_path: Path):
    generate(tmp_path)
    for proto in MESSAGE_PROTOS:
        stem = proto.removesuffix(".proto")
        for suffix in ("_pb2.py", "_pb2.pyi"):
            fresh = (tmp_path / f"{stem}{suffix}").read_text()
            committed = (REPO_ROOT / f"{stem}{suffix}").read_text()
            assert fresh == committed, f"{stem}{suffix} drifted: run python -m reelguard.protogen"

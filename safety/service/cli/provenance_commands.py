"""An auditor's commands: verify, recheck and trust-list.

`verify` asks the service (Provenance.Verify) whenever an address is configured
(`--address` or REELGUARD_ADDRESS), so an auditor with a token and nothing else gets the
server's answer, watermark and fingerprint recovery included; `--local` verifies here,
trusting the service's trust list (Provenance.TrustList) when an address is configured
and no `--trust-anchors` is given, else the local config's.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from safety.service.cli.connection import (
    EXIT_FAILED,
    EXIT_NOT_TRUSTED,
    EXIT_OK,
    EXIT_USAGE,
    media_message,
    stubs,
)
from safety.service.cli.output import emitted, format_report, json_option
from safety.service.config import Config

if TYPE_CHECKING:  # imported where a report is read: it brings c2pa and the MP4 writer
    from signing.report import VerifyReport

TRUST_LIST_SCHEMA = "reelguard.trust-list/1"
RECHECK_SCHEMA = "reelguard.recheck/1"


def _media_files(root: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in root.glob(pattern) if p.is_file())


def _remote(args) -> bool:
    """Ask the service, unless told not to or given anchors of one's own to trust."""
    if args.local or args.crjson:
        return False
    return args.remote or (
        args.address_configured and not args.trust_anchors and not args.tsa_anchors
    )


def _remote_verifier(args) -> Callable[[Path], VerifyReport]:
    from reelguard.v1 import reelguard_pb2 as pb
    from signing.report import VerifyReport

    rpc, channel = stubs(args)
    provenance = rpc.ProvenanceStub(channel)

    def verify(path: Path) -> VerifyReport:
        answer = provenance.Verify(pb.VerifyRequest(media=media_message(path)))
        return dataclasses.replace(VerifyReport.from_json(answer.report_json), path=str(path))

    return verify


def _local_verifier(args):
    from safety.service.signers import make_verifier

    config = Config.load(args.config)
    if args.trust_anchors:
        config.trust_anchors = Path(args.trust_anchors)
    if args.tsa_anchors:
        config.tsa_trust_anchors = Path(args.tsa_anchors)
    if args.address_configured and not args.trust_anchors:
        listed = _trust_list(args)  # the deployment's roots, not this machine's
        return make_verifier(config, anchors=listed.trust_anchors_pem)
    return make_verifier(config)


def _trust_list(args):
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    return rpc.ProvenanceStub(channel).TrustList(pb.TrustListRequest())


def cmd_verify(args) -> int:
    from tqdm import tqdm

    target = Path(args.path)
    if not target.exists():  # a usage error, not a verdict on a file
        print(f"reelguard: no such file or directory: {target}", file=sys.stderr)
        return EXIT_USAGE
    if args.crjson and (target.is_dir() or args.remote):
        print("--crjson reads one file, here: name a file, without --remote", file=sys.stderr)
        return EXIT_USAGE
    if _remote(args):
        verify = _remote_verifier(args)
    else:
        verifier = _local_verifier(args)
        verify = verifier.verify_file
    if not target.is_dir():
        if args.crjson:
            return _print_crjson(verifier, target)
        report = verify(target)
        print(report.to_json() if args.json else format_report(report))
        return EXIT_OK if report.trusted else EXIT_NOT_TRUSTED

    files = _media_files(target, args.recursive)
    reports = [
        verify(p)
        for p in tqdm(files, desc="verifying", unit="file", file=sys.stderr, disable=args.json)
    ]
    if args.json:
        batch = [dataclasses.asdict(r) for r in reports]
        print(json.dumps({"schema": "reelguard.verify-batch/1", "reports": batch}, indent=2))
    else:
        _print_table(target, files, reports)
    return EXIT_OK if reports and all(r.trusted for r in reports) else EXIT_NOT_TRUSTED


def _print_crjson(verifier, target: Path) -> int:
    import c2pa

    report = verifier.verify_file(target)
    try:
        print(verifier.crjson(target))
    except (ValueError, c2pa.C2paError) as e:
        print(f"no crJSON: {e}", file=sys.stderr)
    return EXIT_OK if report.trusted else EXIT_NOT_TRUSTED


def _print_table(target: Path, files: list[Path], reports: list[VerifyReport]) -> None:
    width = max([len(str(p.relative_to(target))) for p in files] + [4])
    print(f"{'file':<{width}}  {'status':<15}  detail")
    for path, r in zip(files, reports, strict=True):
        detail = r.failures[0]["code"] if r.failures else (r.signer or r.summary)
        print(f"{str(path.relative_to(target)):<{width}}  {r.status:<15}  {detail}")
    counts: dict[str, int] = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    print(
        "summary: "
        + ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        + f" ({len(reports)} files)"
    )


def cmd_trust_list(args) -> int:
    """The deployment's trust list: its roots' subjects and digest; the PEM to --out."""
    listed = _trust_list(args)
    if args.out:
        Path(args.out).write_text(listed.trust_anchors_pem)
    if args.tsa_out and listed.tsa_anchors_pem:
        Path(args.tsa_out).write_text(listed.tsa_anchors_pem)
    if emitted(args, listed):
        return EXIT_OK
    for subject in listed.subjects:
        print(f"trusted root: {subject}")
    print(f"sha256 of the bundle: {listed.sha256}")
    print(f"timestamp authorities: {'configured' if listed.tsa_anchors_pem else 'none'}")
    if args.out:
        print(f"wrote {args.out}")
    return EXIT_OK


def cmd_recheck(args) -> int:
    """An auditor's question: does the recorded verdict reproduce on this file?"""
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.RecheckRequest(media=media_message(Path(args.file)), tolerance=args.tolerance)
    r = rpc.ProvenanceStub(channel).Recheck(request)
    if emitted(args, r):
        return EXIT_OK if r.reproduces else EXIT_FAILED
    print(
        f"decision {r.decision_id}: recorded {r.recorded_action}, rechecked "
        f"{r.rechecked_action or '-'} on {r.frames} frames at the recorded positions"
    )
    for s in r.scores:
        mark = "ok  " if s.reproduces else "DIFF"
        print(f"  {mark} {s.check}/{s.category}: recorded {s.recorded:.4f}, now {s.rechecked:.4f}")
    if r.held_action:
        print(f"  held: recorded {r.held_action}, rechecked {r.held_rechecked_action or '-'}")
    for line in r.replayed:
        print(f"  replayed: {line}")
    for why in r.refused:
        print(f"  not rechecked: {why}")
    print("REPRODUCES" if r.reproduces else "DOES NOT REPRODUCE")
    return EXIT_OK if r.reproduces else EXIT_FAILED


def add_provenance_commands(sub) -> None:
    v = sub.add_parser("verify", help="verify C2PA manifests (exit 0 only if all Trusted)")
    v.add_argument("path", help="a file, or a directory of files")
    v.add_argument("--recursive", "-r", action="store_true", help="walk subdirectories")
    json_option(v, "reelguard.verify/1")  # a directory: "reelguard.verify-batch/1"
    v.add_argument(
        "--crjson", action="store_true", help="print the validator's crJSON (conformance tools)"
    )
    where = v.add_mutually_exclusive_group()
    where.add_argument(
        "--remote",
        action="store_true",
        help="ask the service (Provenance.Verify); the default when an address is configured "
        "(--address or REELGUARD_ADDRESS) and no --trust-anchors is given",
    )
    where.add_argument(
        "--local",
        action="store_true",
        help="verify here; with an address configured, trusting the service's trust list",
    )
    v.add_argument("--trust-anchors", help="PEM bundle of trusted roots (verifies here)")
    v.add_argument("--tsa-anchors", help="PEM bundle of trusted timestamp authority roots")
    v.set_defaults(func=cmd_verify)

    t = sub.add_parser("trust-list", help="the roots the service's verifier trusts")
    t.add_argument("--out", help="write the signers' roots (PEM) here")
    t.add_argument("--tsa-out", help="write the timestamp authorities' roots (PEM) here")
    json_option(t, TRUST_LIST_SCHEMA)
    t.set_defaults(func=cmd_trust_list)

    rc = sub.add_parser(
        "recheck", help="re-run a signed output's recorded checks (exit 0 if it reproduces)"
    )
    rc.add_argument("file", help="a reelguard output (MP4)")
    rc.add_argument(
        "--tolerance",
        type=float,
        default=0.0,
        help="largest score difference that still reproduces (default 0.05)",
    )
    json_option(rc, RECHECK_SCHEMA)
    rc.set_defaults(func=cmd_recheck)

"""A generation client's and an auditor's commands: generate, check, sign, verify."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safety.service.cli.connection import (
    EXIT_BLOCKED,
    EXIT_FAILED,
    EXIT_NOT_TRUSTED,
    EXIT_OK,
    EXIT_USAGE,
    media_message,
    stubs,
)
from safety.service.cli.output import format_report, format_verdict
from safety.service.cli.results import receive
from safety.service.config import Config


def cmd_generate(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.GenerateRequest(
        prompt=args.prompt,
        tenant=args.tenant,
        output=pb.OutputSpec(
            width=args.width,
            height=args.height,
            fps=args.fps,
            num_frames=args.frames,
            seed=args.seed,
        ),
    )
    if args.image:
        request.image.CopyFrom(media_message(Path(args.image)))
    if args.driving_video:
        request.driving_video.CopyFrom(media_message(Path(args.driving_video)))
    return receive(rpc.GenerationStub(channel).Generate(request), Path(args.out))


def cmd_check(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    if not args.file and not args.prompt:
        print("reelguard check: give a FILE, --prompt TEXT, or both", file=sys.stderr)
        return EXIT_FAILED
    rpc, channel = stubs(args)
    request = pb.CheckRequest(prompt=args.prompt or "", tenant=args.tenant)
    if args.file:
        request.media.CopyFrom(media_message(Path(args.file)))
    verdict = rpc.ModerationStub(channel).Check(request)
    print(format_verdict(verdict))
    for f in verdict.findings:
        if f not in verdict.reasons:
            print(f"    {f.category}: {f.score:.3f} (threshold {f.threshold:.3f}) [{f.check}]")
    if verdict.unevaluated_categories:
        print(
            f"  not evaluated by this deployment's models: "
            f"{', '.join(verdict.unevaluated_categories)}"
        )
    return EXIT_OK if verdict.action == pb.ALLOW else EXIT_BLOCKED


def _media_files(root: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in root.glob(pattern) if p.is_file())


def cmd_verify(args) -> int:
    from tqdm import tqdm

    from safety.service.signers import make_verifier

    config = Config.load(args.config)
    if args.trust_anchors:
        config.trust_anchors = Path(args.trust_anchors)
    if args.tsa_anchors:
        config.tsa_trust_anchors = Path(args.tsa_anchors)
    verifier = make_verifier(config)
    import c2pa

    target = Path(args.path)
    if not target.exists():  # a usage error, not a verdict on a file
        print(f"reelguard: no such file or directory: {target}", file=sys.stderr)
        return EXIT_USAGE
    if args.crjson and target.is_dir():
        print("--crjson reads one file; name a file, not a directory", file=sys.stderr)
        return EXIT_FAILED
    if not target.is_dir():
        report = verifier.verify_file(target)
        if args.crjson:
            try:
                print(verifier.crjson(target))
            except (ValueError, c2pa.C2paError) as e:
                print(f"no crJSON: {e}", file=sys.stderr)
        else:
            print(report.to_json() if args.json else format_report(report))
        return EXIT_OK if report.trusted else EXIT_NOT_TRUSTED

    files = _media_files(target, args.recursive)
    reports = [
        verifier.verify_file(p)
        for p in tqdm(files, desc="verifying", unit="file", file=sys.stderr, disable=args.json)
    ]
    if args.json:
        import dataclasses

        print(
            json.dumps(
                {
                    "schema": "reelguard.verify-batch/1",
                    "reports": [dataclasses.asdict(r) for r in reports],
                },
                indent=2,
            )
        )
    else:
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
    return EXIT_OK if reports and all(r.trusted for r in reports) else EXIT_NOT_TRUSTED


def cmd_sign(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.SignRequest(
        media=media_message(Path(args.file)),
        ingredients=[media_message(Path(p)) for p in args.ingredient or []],
        tenant=args.tenant,
        generator_name=args.generator,
        model_id=args.model_id or "",
    )
    response = rpc.ProvenanceStub(channel).Sign(request)
    print(format_verdict(response.verdict))
    if response.verdict.action != pb.ALLOW:
        return EXIT_BLOCKED
    Path(args.out).write_bytes(response.signed.data)
    print(f"wrote {args.out} ({len(response.signed.data)} bytes, C2PA-signed)")
    return EXIT_OK


def cmd_recheck(args) -> int:
    """An auditor's question: does the recorded verdict reproduce on this file?"""
    from google.protobuf.json_format import MessageToJson

    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.RecheckRequest(media=media_message(Path(args.file)), tolerance=args.tolerance)
    r = rpc.ProvenanceStub(channel).Recheck(request)
    if args.json:
        print(MessageToJson(r, always_print_fields_with_no_presence=True))
    else:
        print(
            f"decision {r.decision_id}: recorded {r.recorded_action}, rechecked "
            f"{r.rechecked_action or '-'} on {r.frames} frames at the recorded positions"
        )
        for s in r.scores:
            mark = "ok  " if s.reproduces else "DIFF"
            print(
                f"  {mark} {s.check}/{s.category}: recorded {s.recorded:.4f}, now {s.rechecked:.4f}"
            )
        if r.held_action:
            print(f"  held: recorded {r.held_action}, rechecked {r.held_rechecked_action or '-'}")
        for line in r.replayed:
            print(f"  replayed: {line}")
        for why in r.refused:
            print(f"  not rechecked: {why}")
        print("REPRODUCES" if r.reproduces else "DOES NOT REPRODUCE")
    return EXIT_OK if r.reproduces else EXIT_FAILED


def add_client_commands(sub) -> None:
    g = sub.add_parser("generate", help="generate a signed video through the safety gate")
    g.add_argument("--prompt", required=True)
    g.add_argument("--image", help="input image (image-to-video), or the character to animate")
    g.add_argument("--driving-video", help="an actor's performance to animate --image with")
    g.add_argument("--out", required=True)
    g.add_argument("--tenant", default="", help="default: the client's own tenant")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--frames", type=int, default=0, help="number of frames (default 48)")
    g.add_argument("--fps", type=int, default=0)
    g.add_argument("--width", type=int, default=0)
    g.add_argument("--height", type=int, default=0)
    g.set_defaults(func=cmd_generate)

    c = sub.add_parser("check", help="moderate a file and/or a prompt without generating")
    c.add_argument("file", nargs="?")
    c.add_argument("--prompt")
    c.add_argument("--tenant", default="", help="default: the client's own tenant")
    c.set_defaults(func=cmd_check)

    si = sub.add_parser("sign", help="moderate and sign media made elsewhere")
    si.add_argument("file", help="JPEG, PNG, WebP, MP4 or MOV")
    si.add_argument("--out", required=True)
    si.add_argument("--ingredient", action="append", help="an input the media was made from")
    si.add_argument("--generator", default="unspecified", help="software that made it")
    si.add_argument("--model-id")
    si.add_argument("--tenant", default="", help="default: the client's own tenant")
    si.set_defaults(func=cmd_sign)

    v = sub.add_parser("verify", help="verify C2PA manifests (exit 0 only if all Trusted)")
    v.add_argument("path", help="a file, or a directory of files")
    v.add_argument("--recursive", "-r", action="store_true", help="walk subdirectories")
    v.add_argument("--json", action="store_true", help="machine-readable report")
    v.add_argument(
        "--crjson", action="store_true", help="print the validator's crJSON (conformance tools)"
    )
    v.add_argument("--trust-anchors", help="PEM bundle of trusted roots (default: config)")
    v.add_argument("--tsa-anchors", help="PEM bundle of trusted timestamp authority roots")
    v.set_defaults(func=cmd_verify)

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
    rc.add_argument("--json", action="store_true", help="machine-readable report")
    rc.set_defaults(func=cmd_recheck)

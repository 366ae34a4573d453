"""A generation client's commands: generate, check, sign."""

from __future__ import annotations

import sys
from pathlib import Path

from safety.service.cli.connection import (
    EXIT_BLOCKED,
    EXIT_FAILED,
    EXIT_OK,
    media_message,
    stubs,
)
from safety.service.cli.output import format_verdict
from safety.service.cli.results import receive


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

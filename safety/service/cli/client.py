"""A generation client's commands: generate, check, sign."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from safety.service.cli.connection import (
    EXIT_BLOCKED,
    EXIT_OK,
    EXIT_USAGE,
    media_message,
    stubs,
)
from safety.service.cli.output import (
    as_plain,
    emitted,
    format_findings,
    format_verdict,
    json_option,
)
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
    return receive(rpc.GenerationStub(channel).Generate(request), Path(args.out), args)


def cmd_check(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    if not args.file and not args.prompt:
        print("reelguard check: give a FILE, --prompt TEXT, or both", file=sys.stderr)
        return EXIT_USAGE
    rpc, channel = stubs(args)
    request = pb.CheckRequest(prompt=args.prompt or "", tenant=args.tenant)
    label = "checking the prompt"
    if args.file:
        request.media.CopyFrom(media_message(Path(args.file)))
        label = f"checking {Path(args.file).name}"
    verdict = waiting(label, rpc.ModerationStub(channel).Check, request, quiet=args.json)
    if emitted(args, verdict):
        return EXIT_OK if verdict.action == pb.ALLOW else EXIT_BLOCKED
    print(format_verdict(verdict))
    print("\n".join(format_findings(verdict, args.verbose)))
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
    label = f"checking and signing {Path(args.file).name}"
    response = waiting(label, rpc.ProvenanceStub(channel).Sign, request, quiet=args.json)
    allowed = response.verdict.action == pb.ALLOW
    if allowed:
        Path(args.out).write_bytes(response.signed.data)
    body = {"out": str(args.out) if allowed else "", "size": len(response.signed.data)}
    if emitted(args, {**body, "verdict": as_plain(response.verdict)}):
        return EXIT_OK if allowed else EXIT_BLOCKED
    print(format_verdict(response.verdict))
    print("\n".join(format_findings(response.verdict, args.verbose)))
    if not allowed:
        return EXIT_BLOCKED
    print(f"wrote {args.out} ({len(response.signed.data)} bytes, C2PA-signed)")
    return EXIT_OK


def waiting(label: str, call, request, quiet: bool = False):
    """A unary call with a live line on stderr while the service works (a 10 s clip
    takes about that long to check), then its answer; its error raises as usual."""
    from tqdm import tqdm

    future = call.future(request)
    form = "{desc}: {elapsed}"
    with tqdm(desc=label, bar_format=form, file=sys.stderr, disable=quiet, mininterval=0.5) as bar:
        while not future.done():
            time.sleep(0.1)
            bar.update(0)
        bar.set_description_str(f"{label}: done")
    return future.result()


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
    json_option(g, "reelguard.result/1")
    g.set_defaults(func=cmd_generate)

    c = sub.add_parser("check", help="moderate a file and/or a prompt without generating")
    c.add_argument("file", nargs="?")
    c.add_argument("--prompt")
    c.add_argument("--tenant", default="", help="default: the client's own tenant")
    c.add_argument("--verbose", "-v", action="store_true", help="every frame's scores")
    json_option(c, "reelguard.verdict/1")
    c.set_defaults(func=cmd_check)

    si = sub.add_parser("sign", help="moderate and sign media made elsewhere")
    si.add_argument("file", help="JPEG, PNG, WebP, MP4 or MOV")
    si.add_argument("--out", required=True)
    si.add_argument("--ingredient", action="append", help="an input the media was made from")
    si.add_argument("--generator", default="unspecified", help="software that made it")
    si.add_argument("--model-id")
    si.add_argument("--tenant", default="", help="default: the client's own tenant")
    si.add_argument("--verbose", "-v", action="store_true", help="every frame's scores")
    json_option(si, "reelguard.sign/1")
    si.set_defaults(func=cmd_sign)

"""`reelguard`: run the service, and talk to it as a generation client, admin or auditor."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import grpc

from safety.config import DEFAULT_ADDRESS, Config

EXIT_OK, EXIT_NOT_TRUSTED, EXIT_BLOCKED, EXIT_FAILED, EXIT_RPC = 0, 1, 2, 3, 4


def _client_channel(address: str, max_message_bytes: int = 64 * 1024 * 1024) -> grpc.Channel:
    from safety.server import grpc_options

    return grpc.insecure_channel(address, options=grpc_options(max_message_bytes))


def _stubs(address: str):
    from reelguard.v1 import reelguard_pb2_grpc as rpc

    channel = _client_channel(address)
    return rpc, channel


def _media(path: Path):
    from reelguard.v1 import reelguard_pb2 as pb

    try:
        data = path.read_bytes()
    except OSError as e:
        raise SystemExit(f"reelguard: cannot read {path}: {e.strerror}") from None
    return pb.Media(data=data, filename=path.name)


# ---- serve / keys -----------------------------------------------------------------------


def cmd_serve(args) -> int:
    from safety.app import build_service
    from safety.server import start_server

    config = Config.load(args.config)
    if args.listen:
        config.grpc_address = args.listen
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    print(f"reelguard: loading models (data in {config.data_dir})", flush=True)
    service = build_service(config)
    server, port = start_server(service)
    host = config.grpc_address.rsplit(":", 1)[0]
    print(f"reelguard: listening on grpc://{host}:{port}  (Ctrl-C to stop)", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5).wait()
    service.store.close()
    return EXIT_OK


def cmd_keys_init(args) -> int:
    from signing.keys import init_dev_chain

    try:
        paths = init_dev_chain(Path(args.dir), overwrite=args.force)
    except FileExistsError as e:
        print(f"reelguard: {e} (use --force to replace)", file=sys.stderr)
        return EXIT_FAILED
    print(f"trust anchor (root CA): {paths.root_cert}")
    print(f"certificate chain:      {paths.chain}")
    print(f"private key (0600):     {paths.key}")
    return EXIT_OK


# ---- admin ------------------------------------------------------------------------------


def cmd_identities_enroll(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args.address)
    request = pb.EnrollRequest(
        name=args.name, aliases=args.alias or [], images=[_media(Path(p)) for p in args.images]
    )
    identity = rpc.IdentitiesStub(channel).Enroll(request)
    print(f"enrolled {identity.name} (id {identity.id}, {identity.reference_count} reference(s))")
    return EXIT_OK


def cmd_identities_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args.address)
    for i in rpc.IdentitiesStub(channel).List(pb.ListIdentitiesRequest()).identities:
        aliases = f"  aliases: {', '.join(i.aliases)}" if i.aliases else ""
        print(f"{i.id}  {i.name}  ({i.reference_count} reference(s)){aliases}")
    return EXIT_OK


# ---- generation client --------------------------------------------------------------------


def format_verdict(verdict) -> str:
    from reelguard.v1 import reelguard_pb2 as pb

    lines = [
        f"verdict: {pb.Action.Name(verdict.action)} at {pb.Stage.Name(verdict.stage)} "
        f"(decision {verdict.decision_id}, policy {verdict.policy_version})"
    ]
    for r in verdict.reasons:
        who = f" identity={r.identity_name!r} ({r.identity_id})" if r.identity_id else ""
        when = f" t={r.frame_time_s:.2f}s" if r.subject.endswith("frame") else ""
        lines.append(
            f"  - {r.category}: score {r.score:.3f} >= threshold {r.threshold:.3f} "
            f"[{r.check} on {r.subject}{when}]{who} — {r.detail}"
        )
    return "\n".join(lines)


def cmd_generate(args) -> int:
    from tqdm import tqdm

    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args.address)
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
        request.image.CopyFrom(_media(Path(args.image)))
    out = Path(args.out)
    tmp = out.with_name(out.name + ".part")
    bar = None
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as f:
            for event in rpc.GenerationStub(channel).Generate(request):
                kind = event.WhichOneof("event")
                if kind == "accepted":
                    print(f"accepted: request {event.accepted.request_id}", file=sys.stderr)
                elif kind == "progress":
                    p = event.progress
                    if p.stage == pb.GENERATING:
                        if bar is None:
                            bar = tqdm(
                                total=p.total, desc="generating", unit="frame", file=sys.stderr
                            )
                        bar.update(p.done - bar.n)
                    else:
                        if bar is not None:
                            bar.close()
                            bar = None
                        print(f"{pb.Stage.Name(p.stage).lower()}: {p.message}", file=sys.stderr)
                elif kind == "output_chunk":
                    f.write(event.output_chunk.data)
                    digest.update(event.output_chunk.data)
                elif kind == "completed":
                    c = event.completed
                    if digest.hexdigest() != c.sha256:
                        print(
                            "reelguard: output corrupted in transit (sha256 mismatch)",
                            file=sys.stderr,
                        )
                        return EXIT_FAILED
                    f.close()
                    os.replace(tmp, out)
                    print(format_verdict(c.verdict))
                    print(f"wrote {out} ({c.size} bytes, C2PA-signed, sha256 {c.sha256})")
                    return EXIT_OK
                elif kind == "blocked":
                    print("BLOCKED")
                    print(format_verdict(event.blocked.verdict))
                    return EXIT_BLOCKED
                elif kind == "failed":
                    print(f"FAILED at {pb.Stage.Name(event.failed.stage)}: {event.failed.error}")
                    return EXIT_FAILED
    finally:
        if bar is not None:
            bar.close()
        tmp.unlink(missing_ok=True)
    print("reelguard: the stream ended without a result", file=sys.stderr)
    return EXIT_FAILED


def cmd_check(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    if not args.file and not args.prompt:
        print("reelguard check: give a FILE, --prompt TEXT, or both", file=sys.stderr)
        return EXIT_FAILED
    rpc, channel = _stubs(args.address)
    request = pb.CheckRequest(prompt=args.prompt or "", tenant=args.tenant)
    if args.file:
        request.media.CopyFrom(_media(Path(args.file)))
    verdict = rpc.ModerationStub(channel).Check(request)
    print(format_verdict(verdict))
    for f in verdict.findings:
        if f not in verdict.reasons:
            print(f"    {f.category}: {f.score:.3f} (threshold {f.threshold:.3f}) [{f.check}]")
    return EXIT_OK if verdict.action == pb.ALLOW else EXIT_BLOCKED


# ---- auditor ----------------------------------------------------------------------------


def format_report(report) -> str:
    lines = [f"{report.path or 'file'}: {report.status.upper()} — {report.summary}"]
    if report.active_manifest:
        lines.append(f"  manifest:   {report.active_manifest}")
        lines.append(f"  signer:     {report.signer} (issued by {report.issuer})")
        if report.signed_at:
            lines.append(f"  signed at:  {report.signed_at}")
        lines.append(f"  actions:    {', '.join(report.actions) or '-'}")
        for dst in sorted(set(report.digital_source_types)):
            lines.append(f"  source:     {dst}")
        for ing in report.ingredients:
            lines.append(f"  ingredient: {ing['title']} ({ing['format']}, {ing['relationship']})")
        if report.moderation is not None:
            m = report.moderation
            lines.append(
                f"  moderation: {m.get('action')} (decision {m.get('decision_id')}, "
                f"policy {m.get('policy_version')}, {len(m.get('checks', []))} checks)"
            )
    for f in report.failures:
        lines.append(f"  FAILURE {f['code']}: {f['explanation']}")
    if report.tampered:
        lines.append(f"  tampered:   {', '.join(report.tampered)}")
    return "\n".join(lines)


def cmd_verify(args) -> int:
    from safety.app import trust_anchors_pem
    from signing.verify import Verifier

    if args.trust_anchors:
        anchors = Path(args.trust_anchors).read_text()
    else:
        anchors = trust_anchors_pem(Config.load(args.config))
    report = Verifier(anchors).verify_file(Path(args.file))
    print(report.to_json() if args.json else format_report(report))
    return EXIT_OK if report.trusted else EXIT_NOT_TRUSTED


# ---- argument parsing ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    address = os.environ.get("REELGUARD_ADDRESS", DEFAULT_ADDRESS)
    p = argparse.ArgumentParser(prog="reelguard", description=__doc__)
    p.add_argument("--address", default=address, help=f"service address (default {address})")
    p.add_argument("--config", type=Path, help="TOML config file (or REELGUARD_CONFIG)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the service (embedded defaults)")
    s.add_argument("--listen", help="address to listen on (default: config grpc_address)")
    s.set_defaults(func=cmd_serve)

    keys = sub.add_parser("keys", help="signing keys").add_subparsers(dest="sub", required=True)
    k = keys.add_parser("init", help="create a dev ES256 root CA and signing certificate")
    k.add_argument("--dir", required=True)
    k.add_argument("--force", action="store_true", help="replace an existing key")
    k.set_defaults(func=cmd_keys_init)

    ids = sub.add_parser("identities", help="enrolled public figures").add_subparsers(
        dest="sub", required=True
    )
    e = ids.add_parser("enroll", help="enrol a person from reference photos")
    e.add_argument("--name", required=True)
    e.add_argument("--alias", action="append", help="another name to match in prompts")
    e.add_argument("images", nargs="+")
    e.set_defaults(func=cmd_identities_enroll)
    ids.add_parser("list", help="list enrolled identities").set_defaults(func=cmd_identities_list)

    g = sub.add_parser("generate", help="generate a signed video through the safety gate")
    g.add_argument("--prompt", required=True)
    g.add_argument("--image", help="input image (image-to-video)")
    g.add_argument("--out", required=True)
    g.add_argument("--tenant", default="default")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--frames", type=int, default=0, help="number of frames (default 48)")
    g.add_argument("--fps", type=int, default=0)
    g.add_argument("--width", type=int, default=0)
    g.add_argument("--height", type=int, default=0)
    g.set_defaults(func=cmd_generate)

    c = sub.add_parser("check", help="moderate a file and/or a prompt without generating")
    c.add_argument("file", nargs="?")
    c.add_argument("--prompt")
    c.add_argument("--tenant", default="default")
    c.set_defaults(func=cmd_check)

    v = sub.add_parser("verify", help="verify a file's C2PA manifest (exit 0 only if Trusted)")
    v.add_argument("file")
    v.add_argument("--json", action="store_true", help="machine-readable report")
    v.add_argument("--trust-anchors", help="PEM bundle of trusted roots (default: config)")
    v.set_defaults(func=cmd_verify)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except grpc.RpcError as e:
        print(f"reelguard: {e.code().name}: {e.details()}", file=sys.stderr)
        return EXIT_RPC


if __name__ == "__main__":
    sys.exit(main())

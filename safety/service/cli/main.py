"""`reelguard`: run the service, and talk to it as a generation client, admin or auditor."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import grpc

from safety.service.config import DEFAULT_ADDRESS, Config
from signing.allocator import keep_freed_memory

EXIT_OK, EXIT_NOT_TRUSTED, EXIT_BLOCKED, EXIT_FAILED, EXIT_RPC = 0, 1, 2, 3, 4


def _token(args) -> str | None:
    """REELGUARD_TOKEN, else --token-file, else the local admin token a fresh install wrote."""
    if os.environ.get("REELGUARD_TOKEN"):
        return os.environ["REELGUARD_TOKEN"].strip()
    path = args.token_file or Config.load(args.config).admin_token_path
    try:
        return Path(path).read_text().strip()
    except FileNotFoundError:
        if args.token_file:
            raise SystemExit(f"reelguard: no token file {path}") from None
        return None
    except OSError as e:
        raise SystemExit(f"reelguard: cannot read token file {path}: {e.strerror}") from None


def _stubs(args):
    from reelguard.channel import connect
    from reelguard.v1 import reelguard_pb2_grpc as rpc

    channel = connect(args.address, _token(args), args.ca, args.cert, args.key)
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
    from safety.observability import setup_logging, setup_tracing
    from safety.service.app import build_service

    config = Config.load(args.config)
    if args.listen:
        config.grpc_address = args.listen
    if args.ray:
        config.ray = True
    setup_logging(config.log_format)
    setup_tracing(config.tracing, config.otlp_endpoint)
    print(f"reelguard: loading models (data in {config.data_dir})", flush=True)
    service = build_service(config)
    try:
        server, port, web = _listen(service, config)
    except (OSError, RuntimeError) as e:
        service.close()
        print(f"reelguard: cannot start: {e} (set another address in the config)", file=sys.stderr)
        return EXIT_FAILED
    host = config.grpc_address.rsplit(":", 1)[0]
    scheme = "grpcs" if config.tls_cert else "grpc"
    print(f"reelguard: listening on {scheme}://{host}:{port}  (Ctrl-C to stop)", flush=True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    signal.signal(signal.SIGHUP, lambda *_: _reload_policies(service))
    stop.wait()
    if web is not None:
        web.stop()
    server.stop(grace=5).wait()
    service.close()
    return EXIT_OK


def _listen(service, config):
    """gRPC, then metrics and the review UI when configured: (server, port, web or None)."""
    from safety.service.api.server import start_server

    server, port = start_server(service)
    try:
        if config.metrics_address:
            try:
                metrics_port = service.metrics.serve(config.metrics_address)
            except OSError as e:
                raise OSError(f"metrics on {config.metrics_address}: {e.strerror}") from None
            metrics_host = config.metrics_address.rsplit(":", 1)[0]
            print(f"reelguard: metrics on http://{metrics_host}:{metrics_port}/metrics")
        web = None
        if config.web_address:
            from safety.service.web import WebServer

            try:
                web = WebServer(service, config.web_address).start()
            except OSError as e:
                raise OSError(f"review UI on {config.web_address}: {e.strerror}") from None
            web_host = config.web_address.rsplit(":", 1)[0]
            print(f"reelguard: review UI on {web.scheme}://{web_host}:{web.port}", flush=True)
    except BaseException:
        server.stop(None)
        raise
    return server, port, web


def _reload_policies(service) -> None:
    """SIGHUP: re-read per-tenant policies; a bad file is logged and changes nothing."""
    try:
        versions = service.gate.policies.reload()
        logging.getLogger("reelguard").info("policies reloaded: %s", versions)
    except ValueError as e:
        logging.getLogger("reelguard").error("policies not reloaded: %s", e)


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

    rpc, channel = _stubs(args)
    request = pb.EnrollRequest(
        name=args.name,
        aliases=args.alias or [],
        images=[_media(Path(p)) for p in args.images],
        external_id=args.external_id or "",
    )
    identity = rpc.IdentitiesStub(channel).Enroll(request)
    print(f"enrolled {identity.name} (id {identity.id}, {identity.reference_count} reference(s))")
    return EXIT_OK


def cmd_identities_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    for i in rpc.IdentitiesStub(channel).List(pb.ListIdentitiesRequest()).identities:
        aliases = f"  aliases: {', '.join(i.aliases)}" if i.aliases else ""
        external = f"  external id: {i.external_id}" if i.external_id else ""
        print(f"{i.id}  {i.name}  ({i.reference_count} reference(s)){aliases}{external}")
    return EXIT_OK


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "never"


def format_grant(g) -> str:
    state = "active" if g.active else ("revoked by " + g.revoked_by if g.revoked_at else "expired")
    return (
        f"{g.id}  tenant={g.tenant}  identity={g.identity_id}  scopes={','.join(g.scopes)}  "
        f"expires={_when(g.expires_at)}  grantor={g.grantor}  [{state}]"
    )


def cmd_identities_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    i = rpc.IdentitiesStub(channel).Show(pb.IdentityRef(id=args.id))
    print(f"{i.id}  {i.name}")
    print(f"  aliases:     {', '.join(i.aliases) or '-'}")
    print(f"  external id: {i.external_id or '-'}")
    print(f"  enrolled:    {_when(i.created_at)}")
    for ref in i.references:
        print(f"  reference:   vector {ref.vector_id}  sha256 {ref.image_sha256}")
    for g in i.grants:
        print(f"  consent:     {format_grant(g)}")
    return EXIT_OK


def cmd_identities_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    i = rpc.IdentitiesStub(channel).Remove(pb.IdentityRef(id=args.id))
    print(f"removed {i.name} ({i.id}, {i.reference_count} reference(s)); its grants are revoked")
    return EXIT_OK


def cmd_identities_reindex(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    r = rpc.IdentitiesStub(channel).ReloadIndex(pb.ReloadIndexRequest(rebuild=not args.from_disk))
    source = "the index file" if args.from_disk else "the store"
    print(f"identity index reloaded from {source}: {r.vectors} vectors ({r.kind})")
    return EXIT_OK


# ---- consent ------------------------------------------------------------------------------


def _expiry(args) -> float:
    if args.expires:
        when = dt.datetime.fromisoformat(args.expires.replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        return when.timestamp()
    if args.days:
        return time.time() + args.days * 86400
    return 0.0


def cmd_consent_grant(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    g = rpc.ConsentStub(channel).Grant(
        pb.GrantRequest(
            tenant=args.tenant,
            identity_id=args.identity,
            scopes=args.scope,
            expires_at=_expiry(args),
            grantor=args.grantor,
        )
    )
    print(f"granted {format_grant(g)}")
    return EXIT_OK


def cmd_consent_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    g = rpc.ConsentStub(channel).Revoke(pb.RevokeRequest(grant_id=args.grant, revoked_by=args.by))
    print(f"revoked {format_grant(g)}")
    return EXIT_OK


def cmd_consent_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    response = rpc.ConsentStub(channel).List(
        pb.ListGrantsRequest(tenant=args.tenant or "", identity_id=args.identity or "")
    )
    for g in response.grants:
        print(format_grant(g))
    return EXIT_OK


def format_client(c) -> str:
    state = "revoked" if c.revoked_at else "active"
    cert = f" cert={c.cert_subject!r}" if c.cert_subject else ""
    return f"{c.id}  {c.name!r} tenant={c.tenant} role={c.role}{cert} {state}"


def cmd_clients_create(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    r = rpc.ClientsStub(channel).Create(
        pb.CreateClientRequest(
            name=args.name,
            tenant=args.tenant,
            role=args.role,
            cert_subject=args.cert_subject or "",
            no_token=args.no_token,
        )
    )
    print(f"created {format_client(r.client)}", file=sys.stderr)
    if r.token:
        if args.token_out:
            fd = os.open(args.token_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(r.token + "\n")
            print(f"token written to {args.token_out} (mode 0600); it is not shown again")
        else:  # shown once, on stdout only, for the operator to hand over
            print(r.token)
    return EXIT_OK


def cmd_clients_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    for c in rpc.ClientsStub(channel).List(pb.ListClientsRequest()).clients:
        print(format_client(c))
    return EXIT_OK


def cmd_clients_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    print(f"revoked {format_client(rpc.ClientsStub(channel).Revoke(pb.ClientRef(id=args.id)))}")
    return EXIT_OK


def _audit_log(args):
    from safety.store.audit import AuditLog
    from safety.store.review_schema import open_engine

    config = Config.load(args.config)
    url = args.database or config.review_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise SystemExit(f"reelguard: no review database at {url}")
    return AuditLog(open_engine(url, migrate_schema=False))


def cmd_audit_verify(args) -> int:
    result = _audit_log(args).verify()
    if result.ok:
        print(f"audit log intact: {result.entries} entries, head {result.head_hash}")
        return EXIT_OK
    print(
        f"audit log BROKEN at entry {result.broken_seq}: {result.why} "
        f"({result.entries} entries check out before it)",
        file=sys.stderr,
    )
    return EXIT_NOT_TRUSTED


def cmd_audit_export(args) -> int:
    log = _audit_log(args)
    target = open(args.out, "w", encoding="utf-8") if args.out != "-" else None  # noqa: SIM115
    with target or contextlib.nullcontext(sys.stdout) as out:
        n = log.export(out, args.tenant)
    print(f"exported {n} entries", file=sys.stderr)
    return EXIT_OK


def cmd_backend_serve(args) -> int:
    from generator.registry import load_generator
    from generator.remote import serve_backend

    server, port = serve_backend(load_generator(args.generator), args.listen)
    print(
        f"reelguard: generator backend {args.generator!r} on {args.listen.rsplit(':', 1)[0]}:{port}"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    server.stop(grace=5).wait()
    return EXIT_OK


def cmd_keys_tls_init(args) -> int:
    from safety.service.tls import init_dev_tls

    paths = init_dev_tls(Path(args.dir), args.host or ["localhost", "127.0.0.1"])
    print(f"CA (clients trust it; also the mTLS client CA): {paths.ca}")
    print(f"server certificate: {paths.server_cert}")
    print(f"server key (0600):  {paths.server_key}")
    return EXIT_OK


def cmd_keys_tls_client(args) -> int:
    from safety.service.tls import issue_client_certificate

    cert, key = issue_client_certificate(Path(args.dir), args.cn)
    print(f"client certificate (CN={args.cn}): {cert}")
    print(f"client key (0600): {key}")
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
        when = f" t={r.frame_time_s:.2f}s" if r.subject != "prompt" and r.frame_time_s else ""
        if r.HasField("track_id"):
            when += f" track {r.track_id} ({len(r.track_times_s)} frames)"
        if r.bank:
            who += f" bank={r.bank!r} distance={r.distance}"
        lines.append(
            f"  - {r.category}: score {r.score:.3f} >= threshold {r.threshold:.3f} "
            f"[{r.check} on {r.subject}{when}]{who} — {r.detail}"
        )
    return "\n".join(lines)


def cmd_generate(args) -> int:
    from tqdm import tqdm

    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
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
    if args.driving_video:
        request.driving_video.CopyFrom(_media(Path(args.driving_video)))
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
    rpc, channel = _stubs(args)
    request = pb.CheckRequest(prompt=args.prompt or "", tenant=args.tenant)
    if args.file:
        request.media.CopyFrom(_media(Path(args.file)))
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


# ---- auditor ----------------------------------------------------------------------------


def format_report(report) -> str:
    lines = [f"{report.path or 'file'}: {report.status.upper()} — {report.summary}"]
    if report.recovered:
        r = report.recovered
        how = (
            f"watermark confidence {r['confidence']}"
            if r["by"] == "watermark"
            else f"distance {r['distance']}"
        )
        lines.append(
            f"  recovered:  manifest {r['manifest']} (id {r['manifest_id']}) by {r['by']}, "
            f"{r['alg']} {how}, signed by {r['signer']}"
        )
    if report.active_manifest:
        lines.append(f"  manifest:   {report.active_manifest}")
        lines.append(f"  signer:     {report.signer} (issued by {report.issuer})")
        if report.signed_at:
            lines.append(f"  signed at:  {report.signed_at}")
        if report.timestamp:
            trusted = "trusted TSA" if report.timestamp["trusted"] else "TSA not trusted"
            lines.append(f"  timestamp:  {report.timestamp['time'] or '-'} ({trusted})")
        lines.append(f"  actions:    {', '.join(report.actions) or '-'}")
        for dst in sorted(set(report.digital_source_types)):
            lines.append(f"  source:     {dst}")
        if report.moderation is not None:
            m = report.moderation
            lines.append(
                f"  moderation: {m.get('action')} (decision {m.get('decision_id')}, "
                f"policy {m.get('policy_version')}, {len(m.get('checks', []))} checks)"
            )
            for basis in m.get("consent") or []:
                lines.append(
                    f"  consent:    identity {basis['identity_id']} by grant {basis['grant_id']} "
                    f"({basis['scope']})"
                )
        if report.manifest:
            lines.append(
                f"  assertions: {', '.join(a['label'] for a in report.manifest['assertions'])}"
            )
            lines += _ingredient_lines(report.manifest, "  ")
    for f in report.failures:
        lines.append(f"  FAILURE {f['code']}: {f['explanation']}")
    if report.tampered:
        lines.append(f"  tampered:   {', '.join(report.tampered)}")
    return "\n".join(lines)


def _ingredient_lines(node: dict, indent: str) -> list[str]:
    lines = []
    for ing in node["ingredients"]:
        child = ing["manifest"]
        signed = f" — signed by {child['signer']}" if child else " — no manifest"
        problems = (
            f" [at ingest: {', '.join(ing['failures_at_ingest'])}]"
            if (ing["failures_at_ingest"])
            else ""
        )
        lines.append(
            f"{indent}ingredient: {ing['title']} ({ing['format']}, {ing['relationship']})"
            f"{signed}{problems}"
        )
        if child:
            lines += _ingredient_lines(child, indent + "  ")
    return lines


def _media_files(root: Path, recursive: bool) -> list[Path]:
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in root.glob(pattern) if p.is_file())


def cmd_verify(args) -> int:
    from tqdm import tqdm

    from safety.service.app import make_verifier

    config = Config.load(args.config)
    if args.trust_anchors:
        config.trust_anchors = Path(args.trust_anchors)
    if args.tsa_anchors:
        config.tsa_trust_anchors = Path(args.tsa_anchors)
    verifier = make_verifier(config)
    target = Path(args.path)
    if not target.is_dir():
        report = verifier.verify_file(target)
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

    rpc, channel = _stubs(args)
    request = pb.SignRequest(
        media=_media(Path(args.file)),
        ingredients=[_media(Path(p)) for p in args.ingredient or []],
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


# ---- hash banks -----------------------------------------------------------------------------


def cmd_banks_create(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    b = rpc.HashBanksStub(channel).Create(
        pb.CreateBankRequest(
            name=args.name, max_distance=args.max_distance, description=args.description or ""
        )
    )
    print(f"created bank {b.name} (match within {b.max_distance} bits)")
    return EXIT_OK


def cmd_banks_add(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    stub = rpc.HashBanksStub(channel)
    for path in args.files:
        r = stub.Add(
            pb.AddToBankRequest(bank=args.bank, media=_media(Path(path)), note=args.note or path)
        )
        print(f"{path}: {len(r.pdq_hex)} PDQ hash(es), entries {list(r.entry_ids)}")
    if args.pdq:
        r = stub.Add(pb.AddToBankRequest(bank=args.bank, pdq_hex=args.pdq, note=args.note or ""))
        print(f"{len(r.entry_ids)} hash(es) added, entries {list(r.entry_ids)}")
    return EXIT_OK


def cmd_banks_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    rpc.HashBanksStub(channel).Remove(pb.RemoveFromBankRequest(entry_id=args.entry))
    print(f"removed entry {args.entry}")
    return EXIT_OK


def cmd_banks_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    for b in rpc.HashBanksStub(channel).List(pb.ListBanksRequest()).banks:
        print(f"{b.name}  {b.entries} hash(es)  match <= {b.max_distance} bits  {b.description}")
    return EXIT_OK


# ---- policies -------------------------------------------------------------------------------


def cmd_policies_reload(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    r = rpc.PoliciesStub(channel).Reload(pb.ReloadPoliciesRequest())
    for p in r.policies:
        print(f"{p.tenant}: {p.version}")
    return EXIT_OK


def cmd_policies_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = _stubs(args)
    r = rpc.PoliciesStub(channel).Get(pb.GetPolicyRequest(tenant=args.tenant))
    print(f"{r.name} ({r.version})")
    for rule in r.rules:
        required = f"  required on {', '.join(rule.required)}" if rule.required else ""
        print(
            f"  {rule.category:<20} {pb.Action.Name(rule.action):<6} at {rule.threshold:.3f}"
            f"{required}"
        )
    return EXIT_OK


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

    s = sub.add_parser("serve", help="run the service (embedded defaults)")
    s.add_argument("--listen", help="address to listen on (default: config grpc_address)")
    s.add_argument(
        "--ray",
        action="store_true",
        help="run the face, nudity, signing and generator stages as Ray Serve pools "
        "(config ray_address; a local Ray instance when unset)",
    )
    s.set_defaults(func=cmd_serve)

    keys = sub.add_parser("keys", help="signing keys").add_subparsers(dest="sub", required=True)
    k = keys.add_parser("init", help="create a dev ES256 root CA and signing certificate")
    k.add_argument("--dir", required=True)
    k.add_argument("--force", action="store_true", help="replace an existing key")
    k.set_defaults(func=cmd_keys_init)

    t = keys.add_parser("tls-init", help="create a dev TLS CA and a server certificate")
    t.add_argument("--dir", required=True)
    t.add_argument("--host", action="append", help="name or IP the server is reached by")
    t.set_defaults(func=cmd_keys_tls_init)
    tc = keys.add_parser("tls-client", help="issue an mTLS client certificate from the dev CA")
    tc.add_argument("--dir", required=True, help="the tls-init directory")
    tc.add_argument("--cn", required=True, help="common name; bind it with clients create")
    tc.set_defaults(func=cmd_keys_tls_client)

    cls = sub.add_parser("clients", help="who may call the service (admin)").add_subparsers(
        dest="sub", required=True
    )
    cc = cls.add_parser("create", help="register a client; prints its token once")
    cc.add_argument("--name", required=True)
    cc.add_argument("--tenant", required=True, help="the tenant it acts for, or '*' for all")
    cc.add_argument(
        "--role",
        required=True,
        choices=["generator-client", "auditor", "reviewer", "senior-reviewer", "admin"],
    )
    cc.add_argument("--cert-subject", help="mTLS: the CN of the client's certificate")
    cc.add_argument("--no-token", action="store_true", help="certificate-only client")
    cc.add_argument("--token-out", type=Path, help="write the token to this new file (0600)")
    cc.set_defaults(func=cmd_clients_create)
    cls.add_parser("list", help="list clients").set_defaults(func=cmd_clients_list)
    cv = cls.add_parser("revoke", help="revoke a client; its next call is refused")
    cv.add_argument("id")
    cv.set_defaults(func=cmd_clients_revoke)

    be = sub.add_parser("backend", help="serve a generator for another reelguard to wrap")
    bes = be.add_subparsers(dest="sub", required=True)
    bs = bes.add_parser("serve", help="expose a local generator as a GeneratorBackend")
    bs.add_argument("--generator", default="kenburns", help="kenburns, diffusers:DIR, ...")
    bs.add_argument("--listen", default="127.0.0.1:50061")
    bs.set_defaults(func=cmd_backend_serve)

    au = sub.add_parser("audit", help="the hash-chained audit log (reads the database)")
    au.add_argument("--database", help="review database URL (default: from config)")
    aus = au.add_subparsers(dest="sub", required=True)
    aus.add_parser(
        "verify", help="check the chain; names the first edited or deleted entry"
    ).set_defaults(func=cmd_audit_verify)
    ae = aus.add_parser("export", help="write the log as JSON Lines, for regulators")
    ae.add_argument("--out", default="-", help="file (default: stdout)")
    ae.add_argument("--tenant", help="only this tenant's entries")
    ae.set_defaults(func=cmd_audit_export)

    ids = sub.add_parser("identities", help="enrolled public figures").add_subparsers(
        dest="sub", required=True
    )
    e = ids.add_parser("enroll", help="enrol a person from reference photos")
    e.add_argument("--name", required=True)
    e.add_argument("--alias", action="append", help="another name to match in prompts")
    e.add_argument("--external-id", help="an id in another system, e.g. Wikidata")
    e.add_argument("images", nargs="+")
    e.set_defaults(func=cmd_identities_enroll)
    ids.add_parser("list", help="list enrolled identities").set_defaults(func=cmd_identities_list)
    sh = ids.add_parser("show", help="one identity, its references and consent grants")
    sh.add_argument("id")
    sh.set_defaults(func=cmd_identities_show)
    rm = ids.add_parser("remove", help="remove an identity (and revoke its grants)")
    rm.add_argument("id")
    rm.set_defaults(func=cmd_identities_remove)
    rx = ids.add_parser("reindex", help="rebuild the FAISS index from the store, live")
    rx.add_argument(
        "--from-disk",
        action="store_true",
        help="load the index file instead (e.g. one built offline)",
    )
    rx.set_defaults(func=cmd_identities_reindex)

    con = sub.add_parser("consent", help="who may depict whom").add_subparsers(
        dest="sub", required=True
    )
    cg = con.add_parser("grant", help="authorize a tenant to depict an identity")
    cg.add_argument("--tenant", required=True)
    cg.add_argument("--identity", required=True, help="identity id (see identities list)")
    cg.add_argument(
        "--scope", action="append", required=True, choices=["image", "video", "performance"]
    )
    cg.add_argument("--grantor", required=True, help="who gave the consent")
    cg.add_argument("--expires", help="ISO 8601 time, e.g. 2027-01-01T00:00:00Z")
    cg.add_argument("--days", type=float, help="or: expires in this many days")
    cg.set_defaults(func=cmd_consent_grant)
    cr = con.add_parser("revoke", help="revoke a grant; takes effect on the next request")
    cr.add_argument("grant")
    cr.add_argument("--by", default=os.environ.get("USER", "cli"))
    cr.set_defaults(func=cmd_consent_revoke)
    cl = con.add_parser("list", help="list grants")
    cl.add_argument("--tenant")
    cl.add_argument("--identity")
    cl.set_defaults(func=cmd_consent_list)

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

    hb = sub.add_parser("banks", help="hash banks of known-bad media").add_subparsers(
        dest="sub", required=True
    )
    bc = hb.add_parser("create", help="create a named bank")
    bc.add_argument("name")
    bc.add_argument("--max-distance", type=int, default=31, help="PDQ bits (of 256)")
    bc.add_argument("--description")
    bc.set_defaults(func=cmd_banks_create)
    ba = hb.add_parser("add", help="add images/videos (their PDQ hashes) or raw hashes")
    ba.add_argument("bank")
    ba.add_argument("files", nargs="*")
    ba.add_argument("--pdq", action="append", help="a PDQ hash in hex from another matcher")
    ba.add_argument("--note")
    ba.set_defaults(func=cmd_banks_add)
    br = hb.add_parser("remove", help="remove one entry")
    br.add_argument("entry", type=int)
    br.set_defaults(func=cmd_banks_remove)
    hb.add_parser("list", help="list banks").set_defaults(func=cmd_banks_list)

    po = sub.add_parser("policies", help="per-tenant policies").add_subparsers(
        dest="sub", required=True
    )
    po.add_parser("reload", help="re-read the policy directory, live").set_defaults(
        func=cmd_policies_reload
    )
    ps = po.add_parser("show", help="the policy a tenant gets")
    ps.add_argument("tenant", nargs="?", default="default")
    ps.set_defaults(func=cmd_policies_show)

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
    v.add_argument("--trust-anchors", help="PEM bundle of trusted roots (default: config)")
    v.add_argument("--tsa-anchors", help="PEM bundle of trusted timestamp authority roots")
    v.set_defaults(func=cmd_verify)
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

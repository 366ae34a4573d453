"""An operator's commands, run on the service's machine: serve, keys, backend, audit."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from safety.service.cli.connection import EXIT_FAILED, EXIT_NOT_TRUSTED, EXIT_OK
from safety.service.cli.key_commands import add_key_commands
from safety.service.cli.output import emitted, json_option
from safety.service.config import Config

log = logging.getLogger(__name__)


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
    try:  # before loading any model: a refused address should fail fast (the listeners
        # check again when they bind, and warn then if insecure transport is allowed)
        if not config.allow_insecure:
            config.require_safe_transport(config.grpc_address, "gRPC")
            config.require_safe_transport(config.web_address, "the review UI")
    except ValueError as e:
        print(f"reelguard: cannot start: {e}", file=sys.stderr)
        return EXIT_FAILED
    print(f"reelguard: loading models (data in {config.data_dir})", flush=True)
    service = build_service(config)
    try:
        server, port, web = _listen(service, config)
    except (OSError, RuntimeError, ValueError) as e:
        service.close()
        print(f"reelguard: cannot start: {e} (set another address in the config)", file=sys.stderr)
        return EXIT_FAILED
    signals = StopSignals(on_hangup=lambda: _reload_policies(service))  # before "listening"
    host = config.grpc_address.rsplit(":", 1)[0]
    scheme = "grpcs" if config.tls_cert else "grpc"
    print(f"reelguard: listening on {scheme}://{host}:{port}  (Ctrl-C to stop)", flush=True)
    signals.wait()
    if web is not None:
        web.stop()
    server.stop(grace=5).wait()
    service.close()
    return EXIT_OK


class StopSignals:
    """SIGINT and SIGTERM (and SIGHUP, with `on_hangup`) noted from now on; `wait` blocks
    until a stop and runs `on_hangup` for each SIGHUP. The handlers only note the signal
    and the loop acts on it: a handler that set a threading.Event deadlocked when the
    signal landed while the main thread held that Event's lock inside wait() (a `serve`
    sent SIGTERM right as it started never exited)."""

    def __init__(self, on_hangup: Callable[[], None] | None = None) -> None:
        self._noted: list[int] = []
        self._on_hangup = on_hangup
        hangup = (signal.SIGHUP,) if on_hangup is not None else ()
        for sig in (signal.SIGINT, signal.SIGTERM, *hangup):
            signal.signal(sig, lambda signum, _frame: self._noted.append(signum))

    def wait(self, poll_s: float = 0.1) -> None:
        while True:
            while self._noted:
                if self._noted.pop(0) != signal.SIGHUP:
                    return
                self._on_hangup()
            time.sleep(poll_s)


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
        versions = service.policies.reload()
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


def _read_only_store(args):
    """The service's database for an auditor's tools: opened read-only, migrated never."""
    from safety.store.sql import SqlStore

    url = args.database or Config.load(args.config).database
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise SystemExit(f"reelguard: no database at {url}")
    try:
        return SqlStore(url, read_only=True)
    except RuntimeError as e:
        raise SystemExit(f"reelguard: {e}") from None


def cmd_audit_verify(args) -> int:
    """The chain, then every decision against it: a decision without its entry (the
    entry was deleted, or a write bypassed the service) is as much a break as an edit."""
    store = _read_only_store(args)
    try:
        result = store.audit.verify()
        if not result.ok and args.json:
            emitted(args, {"intact": False, **dataclasses.asdict(result)})
            return EXIT_NOT_TRUSTED
        if not result.ok:
            print(
                f"audit log BROKEN at entry {result.broken_seq}: {result.why} "
                f"({result.entries} entries check out before it)",
                file=sys.stderr,
            )
            return EXIT_NOT_TRUSTED
        if not args.json:
            print(f"audit log intact: {result.entries} entries, head {result.head_hash}")
        decided = store.decision_ids()
        entered = {e["subject"] for e in store.audit.entries() if e["kind"] == "decision"}
    finally:
        store.close()
    missing = [d for d in decided if d not in entered]
    body = {"intact": not missing, **dataclasses.asdict(result), "decisions": len(decided)}
    if emitted(args, {**body, "decisions_without_entry": missing}):
        return EXIT_NOT_TRUSTED if missing else EXIT_OK
    if missing:
        print(
            f"{len(missing)} of {len(decided)} decision(s) have no audit entry: "
            f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}",
            file=sys.stderr,
        )
        return EXIT_NOT_TRUSTED
    print(f"every decision ({len(decided)}) has its audit entry")
    return EXIT_OK


def cmd_audit_export(args) -> int:
    store = _read_only_store(args)
    target = open(args.out, "w", encoding="utf-8") if args.out != "-" else None  # noqa: SIM115
    with target or contextlib.nullcontext(sys.stdout) as out:
        n = store.audit.export(out, args.tenant)
    store.close()
    print(f"exported {n} entries", file=sys.stderr)
    return EXIT_OK


def cmd_backend_serve(args) -> int:
    from generator.registry import load_generator
    from generator.remote import serve_backend

    token = os.environ.get("REELGUARD_BACKEND_TOKEN") or None
    if args.token_file:
        token = Path(args.token_file).read_text().strip()
    try:
        server, port = serve_backend(
            load_generator(args.generator),
            args.listen,
            token=token,
            tls_cert=Path(args.tls_cert) if args.tls_cert else None,
            tls_key=Path(args.tls_key) if args.tls_key else None,
            tls_client_ca=Path(args.tls_client_ca) if args.tls_client_ca else None,
            insecure=args.insecure,
        )
    except ValueError as e:
        print(f"reelguard backend: {e}", file=sys.stderr)
        return EXIT_FAILED
    if args.insecure and not args.tls_cert:
        log.warning("the generator backend on %s speaks no TLS (--insecure)", args.listen)
    signals = StopSignals()  # before the line that says it is up
    print(
        f"reelguard: generator backend {args.generator!r} on {args.listen.rsplit(':', 1)[0]}:{port}"
    )
    signals.wait()
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


def add_operate_commands(sub) -> None:
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
    add_key_commands(keys)

    be = sub.add_parser("backend", help="serve a generator for another reelguard to wrap")
    bes = be.add_subparsers(dest="sub", required=True)
    bs = bes.add_parser("serve", help="expose a local generator as a GeneratorBackend")
    bs.add_argument("--generator", default="kenburns", help="kenburns, diffusers:DIR, ...")
    bs.add_argument("--listen", default="127.0.0.1:50061", help="loopback unless TLS")
    bs.add_argument(
        "--token-file", help="the bearer token callers must send (or REELGUARD_BACKEND_TOKEN)"
    )
    bs.add_argument("--tls-cert", help="server certificate (PEM)")
    bs.add_argument("--tls-key", help="server private key (PEM)")
    bs.add_argument("--tls-client-ca", help="require client certificates from this CA (mTLS)")
    bs.add_argument(
        "--insecure",
        action="store_true",
        help="plaintext without TLS, on loopback only (a front door on the same machine)",
    )
    bs.set_defaults(func=cmd_backend_serve)

    au = sub.add_parser("audit", help="the hash-chained audit log (reads the database)")
    au.add_argument(
        "--database", help="the service's database URL, opened read-only (default: config)"
    )
    aus = au.add_subparsers(dest="sub", required=True)
    av = aus.add_parser("verify", help="check the chain; names the first edited or deleted entry")
    json_option(av, "reelguard.audit-verify/1")
    av.set_defaults(func=cmd_audit_verify)
    ae = aus.add_parser("export", help="write the log as JSON Lines, for regulators")
    ae.add_argument("--out", default="-", help="file (default: stdout)")
    ae.add_argument("--tenant", help="only this tenant's entries")
    ae.set_defaults(func=cmd_audit_export)

"""An admin's commands over gRPC: clients, hash banks, policies."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from safety.auth import ROLES
from safety.service.cli.connection import EXIT_FAILED, EXIT_OK, media_message, stubs
from safety.service.cli.output import as_plain, emitted, format_client, json_option
from safety.service.cli.owner_commands import add_bind_owner_command

IMPORT_BATCH = 10_000  # hashes per Add call


def cmd_clients_create(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
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
    if args.json:  # the token too, unless it went to --token-out: it is shown only once
        body = {"client": as_plain(r.client), "token": "" if args.token_out else r.token}
        if r.token and args.token_out:
            _write_token(args.token_out, r.token)
        emitted(args, body)
        return EXIT_OK
    if r.token:
        if args.token_out:
            _write_token(args.token_out, r.token)
            print(f"token written to {args.token_out} (mode 0600); it is not shown again")
        else:  # shown once, on stdout only, for the operator to hand over
            print(r.token)
    return EXIT_OK


def _write_token(path: Path, token: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")


def cmd_clients_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.ClientsStub(channel).List(pb.ListClientsRequest())
    if not emitted(args, response):
        for c in response.clients:
            print(format_client(c))
    return EXIT_OK


def cmd_clients_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    client = rpc.ClientsStub(channel).Revoke(pb.ClientRef(id=args.id))
    if not emitted(args, client):
        print(f"revoked {format_client(client)}")
    return EXIT_OK


def cmd_banks_create(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    b = rpc.HashBanksStub(channel).Create(
        pb.CreateBankRequest(
            name=args.name,
            max_distance=args.max_distance,
            description=args.description or "",
            csam=args.csam,
        )
    )
    if not emitted(args, b):
        kind = "known-CSAM list" if b.csam else "bank"
        print(f"created {kind} {b.name} (match within {b.max_distance} bits)")
    return EXIT_OK


def cmd_banks_import(args) -> int:
    """A hash list from another team (PDQ hex lines, or an HMA/ThreatExchange CSV), sent
    in batches with a progress bar; a malformed line stops it before anything is sent."""
    from tqdm import tqdm

    from indexes.hashbank import read_hash_list
    from indexes.index_errors import IndexInputError
    from reelguard.v1 import reelguard_pb2 as pb

    try:
        hashes = read_hash_list(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, IndexInputError) as e:
        print(f"reelguard: {args.file}: {e}", file=sys.stderr)
        return EXIT_FAILED
    rpc, channel = stubs(args)
    stub, added = rpc.HashBanksStub(channel), 0
    with tqdm(
        total=len(hashes), desc="importing", unit="hash", file=sys.stderr, disable=args.json
    ) as bar:
        for start in range(0, len(hashes), IMPORT_BATCH):
            batch = hashes[start : start + IMPORT_BATCH]
            r = stub.Add(
                pb.AddToBankRequest(bank=args.bank, pdq_hex=batch, note=args.note or args.file)
            )
            added += len(r.entry_ids)
            bar.update(len(batch))
    if not emitted(args, {"bank": args.bank, "read": len(hashes), "added": added}):
        print(f"{len(hashes)} hash(es) read, {added} new in bank {args.bank}")
    return EXIT_OK


def cmd_banks_add(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    stub, added = rpc.HashBanksStub(channel), []
    for path in args.files:
        r = stub.Add(
            pb.AddToBankRequest(
                bank=args.bank, media=media_message(Path(path)), note=args.note or path
            )
        )
        added.append({"file": str(path), **as_plain(r)})
        if not args.json:
            print(f"{path}: {len(r.pdq_hex)} PDQ hash(es), entries {list(r.entry_ids)}")
    if args.pdq:
        r = stub.Add(pb.AddToBankRequest(bank=args.bank, pdq_hex=args.pdq, note=args.note or ""))
        added.append({"file": "", **as_plain(r)})
        if not args.json:
            print(f"{len(r.entry_ids)} hash(es) added, entries {list(r.entry_ids)}")
    emitted(args, {"bank": args.bank, "added": added})
    return EXIT_OK


def cmd_banks_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    rpc.HashBanksStub(channel).Remove(pb.RemoveFromBankRequest(entry_id=args.entry))
    if not emitted(args, {"removed": args.entry}):
        print(f"removed entry {args.entry}")
    return EXIT_OK


def cmd_banks_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.HashBanksStub(channel).List(pb.ListBanksRequest())
    if emitted(args, response):
        return EXIT_OK
    for b in response.banks:
        kind = "  known-CSAM list" if b.csam else ""
        print(
            f"{b.name}  {b.entries} hash(es)  match <= {b.max_distance} bits{kind}  {b.description}"
        )
    return EXIT_OK


def cmd_policies_reload(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.PoliciesStub(channel).Reload(pb.ReloadPoliciesRequest())
    if emitted(args, r):
        return EXIT_OK
    for p in r.policies:
        print(f"{p.tenant}: {p.version}")
    return EXIT_OK


def cmd_policies_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.PoliciesStub(channel).Get(pb.GetPolicyRequest(tenant=args.tenant))
    if emitted(args, r):
        return EXIT_OK
    print(f"{r.name} ({r.version})")
    for rule in r.rules:
        required = f"  required on {', '.join(rule.required)}" if rule.required else ""
        band = f", REVIEW from {rule.review_threshold:.3f}" if rule.review_threshold else ""
        print(
            f"  {rule.category:<20} {pb.Action.Name(rule.action):<6} at {rule.threshold:.3f}"
            f"{band}{required}"
        )
    return EXIT_OK


def add_admin_commands(sub) -> None:
    cls = sub.add_parser("clients", help="who may call the service (admin)").add_subparsers(
        dest="sub", required=True
    )
    add_bind_owner_command(cls)
    cc = cls.add_parser("create", help="register a client; prints its token once")
    cc.add_argument("--name", required=True)
    cc.add_argument("--tenant", required=True, help="the tenant it acts for, or '*' for all")
    cc.add_argument(
        "--role",
        required=True,
        choices=list(ROLES),
    )
    cc.add_argument("--cert-subject", help="mTLS: the CN of the client's certificate")
    cc.add_argument("--no-token", action="store_true", help="certificate-only client")
    cc.add_argument("--token-out", type=Path, help="write the token to this new file (0600)")
    json_option(cc, "reelguard.client-created/1")
    cc.set_defaults(func=cmd_clients_create)
    cl = cls.add_parser("list", help="list clients")
    json_option(cl, "reelguard.clients/1")
    cl.set_defaults(func=cmd_clients_list)
    cv = cls.add_parser("revoke", help="revoke a client; its next call is refused")
    cv.add_argument("id")
    json_option(cv, "reelguard.client/1")
    cv.set_defaults(func=cmd_clients_revoke)

    hb = sub.add_parser("banks", help="hash banks of known-bad media").add_subparsers(
        dest="sub", required=True
    )
    bc = hb.add_parser("create", help="create a named bank")
    bc.add_argument("name")
    bc.add_argument("--max-distance", type=int, default=31, help="PDQ bits (of 256)")
    bc.add_argument("--description")
    bc.add_argument(
        "--csam",
        action="store_true",
        help="a known-CSAM hash list: matches always block (sexual_minors); hashes only",
    )
    json_option(bc, "reelguard.bank/1")
    bc.set_defaults(func=cmd_banks_create)
    bi = hb.add_parser(
        "import", help="import a hash list: PDQ hex per line, or an HMA/ThreatExchange CSV"
    )
    bi.add_argument("bank")
    bi.add_argument("file")
    bi.add_argument("--note")
    json_option(bi, "reelguard.bank-import/1")
    bi.set_defaults(func=cmd_banks_import)
    ba = hb.add_parser("add", help="add images/videos (their PDQ hashes) or raw hashes")
    ba.add_argument("bank")
    ba.add_argument("files", nargs="*")
    ba.add_argument("--pdq", action="append", help="a PDQ hash in hex from another matcher")
    ba.add_argument("--note")
    json_option(ba, "reelguard.bank-add/1")
    ba.set_defaults(func=cmd_banks_add)
    br = hb.add_parser("remove", help="remove one entry")
    br.add_argument("entry", type=int)
    json_option(br, "reelguard.bank-remove/1")
    br.set_defaults(func=cmd_banks_remove)
    bl = hb.add_parser("list", help="list banks")
    json_option(bl, "reelguard.banks/1")
    bl.set_defaults(func=cmd_banks_list)

    po = sub.add_parser("policies", help="per-tenant policies").add_subparsers(
        dest="sub", required=True
    )
    pr = po.add_parser("reload", help="re-read the policy directory, live")
    json_option(pr, "reelguard.policies/1")
    pr.set_defaults(func=cmd_policies_reload)
    ps = po.add_parser("show", help="the policy a tenant gets")
    ps.add_argument("tenant", nargs="?", default="default")
    json_option(ps, "reelguard.policy/1")
    ps.set_defaults(func=cmd_policies_show)

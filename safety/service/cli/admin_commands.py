"""An admin's commands over gRPC: identities, consent, clients, hash banks, policies."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from safety.service.cli.connection import EXIT_FAILED, EXIT_OK, media_message, stubs
from safety.service.cli.output import format_client, format_grant, when

IMPORT_BATCH = 10_000  # hashes per Add call


def cmd_identities_enroll(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.EnrollRequest(
        name=args.name,
        aliases=args.alias or [],
        images=[media_message(Path(p)) for p in args.images],
        external_id=args.external_id or "",
    )
    identity = rpc.IdentitiesStub(channel).Enroll(request)
    print(f"enrolled {identity.name} (id {identity.id}, {identity.reference_count} reference(s))")
    for warning in identity.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def cmd_identities_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    for i in rpc.IdentitiesStub(channel).List(pb.ListIdentitiesRequest()).identities:
        aliases = f"  aliases: {', '.join(i.aliases)}" if i.aliases else ""
        external = f"  external id: {i.external_id}" if i.external_id else ""
        print(f"{i.id}  {i.name}  ({i.reference_count} reference(s)){aliases}{external}")
    return EXIT_OK


def cmd_identities_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    i = rpc.IdentitiesStub(channel).Show(pb.IdentityRef(id=args.id))
    print(f"{i.id}  {i.name}")
    print(f"  aliases:     {', '.join(i.aliases) or '-'}")
    print(f"  external id: {i.external_id or '-'}")
    print(f"  enrolled:    {when(i.created_at)}")
    for ref in i.references:
        print(f"  reference:   vector {ref.vector_id}  sha256 {ref.image_sha256}")
    for g in i.grants:
        print(f"  consent:     {format_grant(g)}")
    return EXIT_OK


def cmd_identities_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    i = rpc.IdentitiesStub(channel).Remove(pb.IdentityRef(id=args.id))
    print(f"removed {i.name} ({i.id}, {i.reference_count} reference(s)); its grants are revoked")
    return EXIT_OK


def cmd_identities_reindex(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.IdentitiesStub(channel).ReloadIndex(pb.ReloadIndexRequest(rebuild=not args.from_disk))
    source = "the index file" if args.from_disk else "the store"
    print(f"identity index reloaded from {source}: {r.vectors} vectors ({r.kind})")
    return EXIT_OK


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

    rpc, channel = stubs(args)
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

    rpc, channel = stubs(args)
    g = rpc.ConsentStub(channel).Revoke(pb.RevokeRequest(grant_id=args.grant, revoked_by=args.by))
    print(f"revoked {format_grant(g)}")
    return EXIT_OK


def cmd_consent_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.ConsentStub(channel).List(
        pb.ListGrantsRequest(tenant=args.tenant or "", identity_id=args.identity or "")
    )
    for g in response.grants:
        print(format_grant(g))
    return EXIT_OK


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

    rpc, channel = stubs(args)
    for c in rpc.ClientsStub(channel).List(pb.ListClientsRequest()).clients:
        print(format_client(c))
    return EXIT_OK


def cmd_clients_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    print(f"revoked {format_client(rpc.ClientsStub(channel).Revoke(pb.ClientRef(id=args.id)))}")
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
    with tqdm(total=len(hashes), desc="importing", unit="hash", file=sys.stderr) as bar:
        for start in range(0, len(hashes), IMPORT_BATCH):
            batch = hashes[start : start + IMPORT_BATCH]
            r = stub.Add(
                pb.AddToBankRequest(bank=args.bank, pdq_hex=batch, note=args.note or args.file)
            )
            added += len(r.entry_ids)
            bar.update(len(batch))
    print(f"{len(hashes)} hash(es) read, {added} new in bank {args.bank}")
    return EXIT_OK


def cmd_banks_add(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    stub = rpc.HashBanksStub(channel)
    for path in args.files:
        r = stub.Add(
            pb.AddToBankRequest(
                bank=args.bank, media=media_message(Path(path)), note=args.note or path
            )
        )
        print(f"{path}: {len(r.pdq_hex)} PDQ hash(es), entries {list(r.entry_ids)}")
    if args.pdq:
        r = stub.Add(pb.AddToBankRequest(bank=args.bank, pdq_hex=args.pdq, note=args.note or ""))
        print(f"{len(r.entry_ids)} hash(es) added, entries {list(r.entry_ids)}")
    return EXIT_OK


def cmd_banks_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    rpc.HashBanksStub(channel).Remove(pb.RemoveFromBankRequest(entry_id=args.entry))
    print(f"removed entry {args.entry}")
    return EXIT_OK


def cmd_banks_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    for b in rpc.HashBanksStub(channel).List(pb.ListBanksRequest()).banks:
        kind = "  known-CSAM list" if b.csam else ""
        print(
            f"{b.name}  {b.entries} hash(es)  match <= {b.max_distance} bits{kind}  {b.description}"
        )
    return EXIT_OK


def cmd_policies_reload(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.PoliciesStub(channel).Reload(pb.ReloadPoliciesRequest())
    for p in r.policies:
        print(f"{p.tenant}: {p.version}")
    return EXIT_OK


def cmd_policies_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.PoliciesStub(channel).Get(pb.GetPolicyRequest(tenant=args.tenant))
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
    bc.set_defaults(func=cmd_banks_create)
    bi = hb.add_parser(
        "import", help="import a hash list: PDQ hex per line, or an HMA/ThreatExchange CSV"
    )
    bi.add_argument("bank")
    bi.add_argument("file")
    bi.add_argument("--note")
    bi.set_defaults(func=cmd_banks_import)
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

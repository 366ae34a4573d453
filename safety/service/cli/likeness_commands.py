"""The likeness registry over gRPC: enrolled people (admins) and who may depict them."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

from safety.service.cli.connection import EXIT_FAILED, EXIT_OK, media_message, stubs
from safety.service.cli.output import emitted, format_grant, json_option, when


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
    for warning in identity.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if not emitted(args, identity):
        print(
            f"enrolled {identity.name} (id {identity.id}, {identity.reference_count} reference(s))"
        )
    return EXIT_OK


def cmd_identities_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.IdentitiesStub(channel).List(pb.ListIdentitiesRequest())
    if emitted(args, response):
        return EXIT_OK
    for i in response.identities:
        aliases = f"  aliases: {', '.join(i.aliases)}" if i.aliases else ""
        external = f"  external id: {i.external_id}" if i.external_id else ""
        print(f"{i.id}  {i.name}  ({i.reference_count} reference(s)){aliases}{external}")
    return EXIT_OK


def cmd_identities_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    i = rpc.IdentitiesStub(channel).Show(pb.IdentityRef(id=args.id))
    if emitted(args, i):
        return EXIT_OK
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
    if not emitted(args, i):
        print(
            f"removed {i.name} ({i.id}, {i.reference_count} reference(s)); its grants are revoked"
        )
    return EXIT_OK


def cmd_identities_reindex(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.IdentitiesStub(channel).ReloadIndex(pb.ReloadIndexRequest(rebuild=not args.from_disk))
    if not emitted(args, r):
        source = "the index file" if args.from_disk else "the store"
        print(f"identity index reloaded from {source}: {r.vectors} vectors ({r.kind})")
    return EXIT_OK


def cmd_identities_build_index(args) -> int:
    """Offline: the index built from the store the config names, written where the service
    reads it (a 10 M-reference rebuild is minutes of work the front door need not do)."""
    from tqdm import tqdm

    from safety.likeness.identities import build_from_store
    from safety.service.config import Config
    from safety.store.opening import open_store

    config = Config.load(args.config)
    store = open_store(config.database, data_dir=config.data_dir, read_only=True)
    ids = store.reference_vector_ids()
    if not len(ids):
        print("reelguard: no reference is enrolled: nothing to index", file=sys.stderr)
        return EXIT_FAILED
    dim = store.reference_vectors(ids[:1].tolist())[1].shape[1]
    with tqdm(total=len(ids), desc="indexing", unit="vector", file=sys.stderr) as bar:
        index = build_from_store(
            store,
            config.index_path,
            dim,
            config.index_flat_max,
            args.kind,
            progress=lambda done, _total: bar.update(done - bar.n),
        )
        bar.update(len(ids) - bar.n)
    body = {"path": str(config.index_path), "vectors": len(index), "kind": index.kind}
    if not emitted(args, body):
        print(
            f"wrote {config.index_path}: {len(index)} vectors ({index.kind}); serve it with "
            "`reelguard identities reindex --from-disk`"
        )
    return EXIT_OK


def _expiry(args) -> float:
    if args.expires:
        at = dt.datetime.fromisoformat(args.expires.replace("Z", "+00:00"))
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        return at.timestamp()
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
    if not emitted(args, g):
        print(f"granted {format_grant(g)}")
    return EXIT_OK


def cmd_consent_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    g = rpc.ConsentStub(channel).Revoke(pb.RevokeRequest(grant_id=args.grant, revoked_by=args.by))
    if not emitted(args, g):
        print(f"revoked {format_grant(g)}")
    return EXIT_OK


def cmd_consent_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.ConsentStub(channel).List(
        pb.ListGrantsRequest(tenant=args.tenant or "", identity_id=args.identity or "")
    )
    if not emitted(args, response):
        for g in response.grants:
            print(format_grant(g))
    return EXIT_OK


def add_likeness_commands(sub) -> None:
    ids = sub.add_parser("identities", help="enrolled public figures").add_subparsers(
        dest="sub", required=True
    )
    e = ids.add_parser("enroll", help="enrol a person from reference photos")
    e.add_argument("--name", required=True)
    e.add_argument("--alias", action="append", help="another name to match in prompts")
    e.add_argument("--external-id", help="an id in another system, e.g. Wikidata")
    e.add_argument("images", nargs="+")
    json_option(e, "reelguard.identity/1")
    e.set_defaults(func=cmd_identities_enroll)
    ls = ids.add_parser("list", help="list enrolled identities")
    json_option(ls, "reelguard.identities/1")
    ls.set_defaults(func=cmd_identities_list)
    sh = ids.add_parser("show", help="one identity, its references and consent grants")
    sh.add_argument("id")
    json_option(sh, "reelguard.identity/1")
    sh.set_defaults(func=cmd_identities_show)
    rm = ids.add_parser("remove", help="remove an identity (and revoke its grants)")
    rm.add_argument("id")
    json_option(rm, "reelguard.identity/1")
    rm.set_defaults(func=cmd_identities_remove)
    rx = ids.add_parser("reindex", help="rebuild the FAISS index from the store, live")
    rx.add_argument(
        "--from-disk",
        action="store_true",
        help="load the index file instead (e.g. one built offline)",
    )
    json_option(rx, "reelguard.identity-index/1")
    rx.set_defaults(func=cmd_identities_reindex)
    bx = ids.add_parser(
        "build-index",
        help="offline: build the index file from the database the config names (then "
        "`reindex --from-disk`)",
    )
    bx.add_argument("--kind", choices=["flat", "ivf", "ivfpq"], help="default: by gallery size")
    json_option(bx, "reelguard.identity-index-file/1")
    bx.set_defaults(func=cmd_identities_build_index)

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
    json_option(cg, "reelguard.grant/1")
    cg.set_defaults(func=cmd_consent_grant)
    cr = con.add_parser("revoke", help="revoke a grant; takes effect on the next request")
    cr.add_argument("grant")
    cr.add_argument("--by", default=os.environ.get("USER", "cli"))
    json_option(cr, "reelguard.grant/1")
    cr.set_defaults(func=cmd_consent_revoke)
    cl = con.add_parser("list", help="list grants")
    cl.add_argument("--tenant")
    cl.add_argument("--identity")
    json_option(cl, "reelguard.grants/1")
    cl.set_defaults(func=cmd_consent_list)

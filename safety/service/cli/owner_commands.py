"""The depicted person's own door from a terminal: `reelguard owner ...` for likeness
owners (their matches, the face each was found on, their consent, takedowns),
`reelguard takedowns ...` for the tenant a notice is against, and
`reelguard clients bind-owner` for the platform admin who verified the person."""

from __future__ import annotations

from pathlib import Path

from safety.service.cli.connection import EXIT_OK, media_message, stubs
from safety.service.cli.output import emitted, format_grant, json_option, when

OUTCOME = {1: "allowed", 2: "held", 3: "blocked"}


def format_notice(n) -> str:
    acked = (
        f"acknowledged {when(n.acknowledged_at)} by {n.acknowledged_by}"
        if n.acknowledged_at
        else "not yet acknowledged"
    )
    return (
        f"{n.id}  against={n.tenant}  manifest={n.manifest_id}  filed={when(n.filed_at)}  "
        f"[{n.status}; {len(n.pdq_hex)} fingerprint(s) banked in {n.bank}; {acked}; "
        f"notices against {n.tenant}: {n.repeat_offences}]"
    )


def cmd_owner_matches(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.LikenessStub(channel).ListMatches(pb.ListMatchesRequest(limit=args.limit))
    if emitted(args, response):
        return EXIT_OK
    print(f"you speak for: {', '.join(response.identity_ids) or 'nobody yet'}")
    for m in response.matches:
        grant = f" under grant {m.grant_id}" if m.grant_id else ""
        evidence = f"  (evidence: reelguard owner evidence {m.id})" if m.has_evidence else ""
        print(
            f"{m.id}  {when(m.created_at)}  {m.tenant}  {OUTCOME.get(m.action, '?')}{grant}  "
            f"{m.subject} similarity {m.score:.3f}  request {m.request_id}{evidence}"
        )
    return EXIT_OK


def cmd_owner_evidence(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    media = rpc.LikenessStub(channel).MatchEvidence(pb.MatchRef(id=args.match))
    Path(args.out).write_bytes(media.data)
    if not emitted(args, {"match": args.match, "out": args.out, "bytes": len(media.data)}):
        print(f"wrote the face of match {args.match} to {args.out} ({len(media.data)} bytes)")
    return EXIT_OK


def cmd_owner_grant(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.OwnerGrantRequest(
        identity_id=args.identity, tenant=args.tenant, scopes=args.scope, days=args.days
    )
    g = rpc.LikenessStub(channel).GrantConsent(request)
    if not emitted(args, g):
        print(f"granted {format_grant(g)}")
    return EXIT_OK


def cmd_owner_revoke(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    g = rpc.LikenessStub(channel).RevokeConsent(pb.OwnerRevokeRequest(grant_id=args.grant))
    if not emitted(args, g):
        print(f"revoked {format_grant(g)}")
    return EXIT_OK


def cmd_owner_consent(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.LikenessStub(channel).ListConsent(pb.OwnerGrantsRequest())
    if not emitted(args, response):
        for g in response.grants:
            print(format_grant(g))
    return EXIT_OK


def cmd_owner_takedown(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.TakedownRequest(manifest_id=args.manifest_id or "", reason=args.reason or "")
    if args.file:
        request.media.CopyFrom(media_message(Path(args.file)))
    notice = rpc.LikenessStub(channel).FileTakedown(request)
    if not emitted(args, notice):
        print(f"filed {format_notice(notice)}")
    return EXIT_OK


def cmd_takedowns_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.LikenessStub(channel).ListTakedowns(pb.ListTakedownsRequest(limit=args.limit))
    if not emitted(args, response):
        for n in response.notices:
            print(format_notice(n))
    return EXIT_OK


def cmd_takedowns_ack(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    notice = rpc.LikenessStub(channel).AcknowledgeTakedown(pb.TakedownRef(id=args.notice))
    if not emitted(args, notice):
        print(format_notice(notice))
    return EXIT_OK


def cmd_bind_owner(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.BindOwnerRequest(client_id=args.client, identity_ids=args.identities)
    response = rpc.LikenessStub(channel).BindOwner(request)
    if not emitted(args, response):
        print(f"client {args.client} speaks for: {', '.join(response.identity_ids)}")
    return EXIT_OK


def add_owner_commands(sub) -> None:
    own = sub.add_parser(
        "owner", help="your likeness: its matches, your consent, takedowns (likeness owners)"
    ).add_subparsers(dest="sub", required=True)
    m = own.add_parser("matches", help="every request that matched the people you speak for")
    m.add_argument("--limit", type=int, default=100)
    json_option(m, "reelguard.likeness-matches/1")
    m.set_defaults(func=cmd_owner_matches)
    e = own.add_parser("evidence", help="the face a match was found on (never the output)")
    e.add_argument("match", type=int)
    e.add_argument("--out", required=True)
    json_option(e, "reelguard.match-evidence/1")
    e.set_defaults(func=cmd_owner_evidence)
    g = own.add_parser("grant", help="let a tenant depict you, for some days")
    g.add_argument("--identity", required=True)
    g.add_argument("--tenant", required=True)
    g.add_argument(
        "--scope", action="append", required=True, choices=["image", "video", "performance"]
    )
    g.add_argument("--days", type=float, required=True)
    json_option(g, "reelguard.grant/1")
    g.set_defaults(func=cmd_owner_grant)
    r = own.add_parser("revoke", help="revoke one of your grants; the next request sees it")
    r.add_argument("grant")
    json_option(r, "reelguard.grant/1")
    r.set_defaults(func=cmd_owner_revoke)
    c = own.add_parser("consent", help="your grants")
    json_option(c, "reelguard.grants/1")
    c.set_defaults(func=cmd_owner_consent)
    t = own.add_parser("takedown", help="file a notice against a signed output")
    t.add_argument("--file", help="the output as found")
    t.add_argument("--manifest-id", help="or its C2PA manifest id")
    t.add_argument("--reason")
    json_option(t, "reelguard.takedown/1")
    t.set_defaults(func=cmd_owner_takedown)
    n = own.add_parser("notices", help="the notices you filed")
    n.add_argument("--limit", type=int, default=100)
    json_option(n, "reelguard.takedowns/1")
    n.set_defaults(func=cmd_takedowns_list)

    tk = sub.add_parser(
        "takedowns", help="takedown notices against your tenant's outputs"
    ).add_subparsers(dest="sub", required=True)
    tl = tk.add_parser("list", help="notices against this tenant (all, for platform admins)")
    tl.add_argument("--limit", type=int, default=100)
    json_option(tl, "reelguard.takedowns/1")
    tl.set_defaults(func=cmd_takedowns_list)
    ta = tk.add_parser("ack", help="acknowledge a notice (recorded with its time)")
    ta.add_argument("notice")
    json_option(ta, "reelguard.takedown/1")
    ta.set_defaults(func=cmd_takedowns_ack)


def add_bind_owner_command(clients_sub) -> None:
    b = clients_sub.add_parser(
        "bind-owner",
        help="let a likeness_owner client speak for enrolled people (after verifying them)",
    )
    b.add_argument("client")
    b.add_argument("identities", nargs="+", help="identity ids")
    json_option(b, "reelguard.likeness-owner/1")
    b.set_defaults(func=cmd_bind_owner)

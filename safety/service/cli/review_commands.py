"""Review from a terminal: a held request's result, and the reviewer's queue — the same
RPCs and rules as the web UI (claims are leases, escalations and appeals go to senior
reviewers, another tenant's tickets read as missing)."""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path

from safety.review.states import STATUSES
from safety.service.cli.connection import EXIT_FAILED, EXIT_HELD, EXIT_OK, stubs
from safety.service.cli.output import emitted, format_verdict, json_option, when
from safety.service.cli.results import receive

DECISIONS = ("approve", "reject", "escalate")


def cmd_result(args) -> int:
    """Stream GetResult; with --wait, ask again every --interval s while it is held."""
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    out = Path(args.out) if args.out else None
    started, last_status = time.monotonic(), ""
    while True:
        stream = rpc.GenerationStub(channel).GetResult(pb.TicketRef(ticket=args.ticket))
        head = []  # up to the first event that says what the result is
        for event in stream:
            head.append(event)
            if event.WhichOneof("event") != "accepted":
                break
        held = head[-1].held if head and head[-1].WhichOneof("event") == "held" else None
        if held is None or not args.wait:  # the output streams on, chunk by chunk
            return receive(itertools.chain(head, stream), out, args, quiet_progress=True)
        stream.cancel()
        if held.status != last_status and not args.json:
            last_status = held.status
            print(f"ticket {args.ticket}: {last_status}, waiting for a reviewer", file=sys.stderr)
        if args.timeout and time.monotonic() - started > args.timeout:
            print(f"reelguard: still {last_status} after {args.timeout:g} s", file=sys.stderr)
            return EXIT_HELD
        time.sleep(args.interval)


def format_item(i) -> str:
    claimer, decider = i.claimed_by_name or i.claimed_by, i.decided_by_name or i.decided_by
    claim = f"  claimed by {claimer}" if i.claimed_by else ""
    decided = f"  {i.decision} by {decider} ({i.reason_code})" if i.decision else ""
    return (
        f"{i.ticket}  {i.status:<9} priority {i.priority:<4} {i.category:<16} tenant "
        f"{i.tenant}  {when(i.created_at)}{claim}{decided}"
    )


def cmd_review_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.ListReviewRequest(
        statuses=args.status or [],
        tenant=args.tenant or "",
        category=args.category or "",
        min_priority=args.min_priority,
        limit=args.limit,
        older_than_s=args.older_than,
    )
    response = rpc.ReviewStub(channel).List(request)
    if not emitted(args, response):
        for item in response.items:
            print(format_item(item))
    return EXIT_OK


def _show(item) -> None:
    print(format_item(item))
    print(f"  prompt: {item.prompt}")
    print("  " + format_verdict(item.verdict).replace("\n", "\n  "))
    if item.notes:
        print(f"  notes: {item.notes}")
    if item.appeal_reason:
        print(f"  appeal: {item.appeal_reason}")


def cmd_review_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    item = rpc.ReviewStub(channel).Get(pb.TicketRef(ticket=args.ticket))
    if not emitted(args, item):
        _show(item)
    return EXIT_OK


def cmd_review_media(args) -> int:
    """Write a held item's media to --out, as it streams (never whole in memory)."""
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    partial = args.out.with_name(args.out.name + ".part")
    size = 0
    try:
        with open(partial, "wb") as f:
            for chunk in rpc.ReviewStub(channel).Media(pb.TicketRef(ticket=args.ticket)):
                f.write(chunk.data)
                size += len(chunk.data)
        partial.replace(args.out)
    finally:
        partial.unlink(missing_ok=True)
    if not emitted(args, {"ticket": args.ticket, "out": str(args.out), "size": size}):
        print(f"{args.ticket}: {size} bytes of held media written to {args.out}")
    return EXIT_OK


def cmd_review_claim(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    item = rpc.ReviewStub(channel).Claim(pb.TicketRef(ticket=args.ticket))
    if not emitted(args, item):
        print(f"claimed {item.ticket} until {when(item.claim_expires)}")
    return EXIT_OK


def cmd_review_decide(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    response = rpc.ReviewStub(channel).Decide(
        pb.DecideRequest(
            tickets=args.tickets,
            decision=args.decision,
            reason_code=args.reason,
            notes=args.notes or "",
            allowlist_content=args.allowlist_content,
            grant_consent=args.grant_consent,
            consent_days=args.consent_days,
        )
    )
    failed = sum(not r.ok for r in response.results)
    if emitted(args, response):
        return EXIT_FAILED if failed else EXIT_OK
    for r in response.results:
        if r.ok:
            print(f"{r.ticket}: {r.item.status}")
        else:
            print(f"{r.ticket}: not decided: {r.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK


def cmd_review_appeal(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    item = rpc.ReviewStub(channel).Appeal(pb.AppealRequest(ticket=args.ticket, reason=args.reason))
    decider = item.decided_by_name or item.decided_by
    if not emitted(args, item):
        print(f"{item.ticket}: {item.status}, for a senior reviewer other than {decider}")
    return EXIT_OK


def cmd_review_golden(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    item = rpc.ReviewStub(channel).AddGolden(pb.TicketRef(ticket=args.ticket))
    if not emitted(args, item):
        print(f"{item.ticket}: a golden copy of {args.ticket}, in the queue as {item.status}")
    return EXIT_OK


def cmd_allowlist_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    request = pb.ListAllowlistRequest(tenant=args.tenant or "", limit=args.limit)
    response = rpc.ReviewStub(channel).ListAllowlist(request)
    if emitted(args, response):
        return EXIT_OK
    for e in response.entries:
        print(
            f"{e.id}  {e.tenant}  {e.subject}/{e.category} <= {e.max_score:.3f}  "
            f"input {e.content_sha256[:12]}  until {when(e.expires_at)}  "
            f"(ticket {e.ticket}, by {e.created_by})"
        )
    return EXIT_OK


def cmd_allowlist_remove(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    e = rpc.ReviewStub(channel).RemoveAllowlist(pb.AllowlistRef(id=args.id))
    if not emitted(args, e):
        print(f"removed {e.id}: {e.tenant} {e.subject}/{e.category} (ticket {e.ticket})")
    return EXIT_OK


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> float:
    """Seconds from `90`, `30m`, `1h` or `2d` (as the web UI's filters read ages)."""
    import argparse

    text = text.strip().lower()
    unit = _UNITS.get(text[-1:], 0)
    try:
        value = float(text[:-1] if unit else text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an age (90, 30m, 1h, 2d)") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: an age is not negative")
    return value * (unit or 1)


def add_review_commands(sub) -> None:
    r = sub.add_parser("result", help="a held request's result: the signed file once approved")
    r.add_argument("ticket")
    r.add_argument("--out", help="where the signed output goes once approved")
    r.add_argument("--wait", action="store_true", help="wait while it is held")
    r.add_argument("--interval", type=float, default=5.0, help="seconds between asks")
    r.add_argument("--timeout", type=float, default=0.0, help="give up after this (0: never)")
    json_option(r, "reelguard.result/1")
    r.set_defaults(func=cmd_result)

    rv = sub.add_parser("review", help="the human review queue (reviewers)").add_subparsers(
        dest="sub", required=True
    )
    ls = rv.add_parser("list", help="open items, highest priority first, then oldest")
    ls.add_argument("--status", action="append", choices=STATUSES, help="default: the open ones")
    ls.add_argument("--tenant")
    ls.add_argument("--category")
    ls.add_argument("--min-priority", type=int, default=0)
    ls.add_argument(
        "--older-than", type=duration, default=0.0, help="an age: 90 (seconds), 30m, 1h, 2d"
    )
    ls.add_argument("--limit", type=int, default=100)
    json_option(ls, "reelguard.review-items/1")
    ls.set_defaults(func=cmd_review_list)
    sh = rv.add_parser("show", help="one item: prompt, scores against thresholds, decisions")
    sh.add_argument("ticket")
    json_option(sh, "reelguard.review-item/1")
    sh.set_defaults(func=cmd_review_show)
    me = rv.add_parser("media", help="save an item's held media (what the web UI plays)")
    me.add_argument("ticket")
    me.add_argument("--out", type=Path, required=True, help="where to write it")
    json_option(me, "reelguard.review-media/1")
    me.set_defaults(func=cmd_review_media)
    cl = rv.add_parser("claim", help="take an item (a lease: it expires if abandoned)")
    cl.add_argument("ticket")
    json_option(cl, "reelguard.review-item/1")
    cl.set_defaults(func=cmd_review_claim)
    de = rv.add_parser("decide", help="approve, reject or escalate (claims the item first)")
    de.add_argument("tickets", nargs="+")
    de.add_argument("--decision", required=True, choices=DECISIONS)
    de.add_argument("--reason", required=True, help="reason code, e.g. false_positive")
    de.add_argument("--notes")
    de.add_argument("--allowlist-content", action="store_true")
    de.add_argument(
        "--grant-consent",
        action="store_true",
        help="approve: grant the tenant consent to depict the matched person (senior reviewers)",
    )
    de.add_argument("--consent-days", type=int, default=0, help="the grant's expiry (default 30)")
    json_option(de, "reelguard.review-decisions/1")
    de.set_defaults(func=cmd_review_decide)
    ap = rv.add_parser("appeal", help="ask for a decided item to be reviewed again")
    ap.add_argument("ticket")
    ap.add_argument("--reason", required=True)
    json_option(ap, "reelguard.review-item/1")
    ap.set_defaults(func=cmd_review_appeal)
    gd = rv.add_parser("golden", help="mix a decided item into the queue as a known answer")
    gd.add_argument("ticket")
    json_option(gd, "reelguard.review-item/1")
    gd.set_defaults(func=cmd_review_golden)

    al = sub.add_parser("allowlist", help="reviewers' content clearances (admins)")
    als = al.add_subparsers(dest="sub", required=True)
    li = als.add_parser("list", help="clearances, newest first")
    li.add_argument("--tenant", help="platform admins: one tenant's")
    li.add_argument("--limit", type=int, default=100)
    json_option(li, "reelguard.clearances/1")
    li.set_defaults(func=cmd_allowlist_list)
    rm = als.add_parser("remove", help="remove a clearance: the content is judged again")
    rm.add_argument("id", type=int)
    json_option(rm, "reelguard.clearance/1")
    rm.set_defaults(func=cmd_allowlist_remove)

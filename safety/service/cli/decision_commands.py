"""`reelguard decisions list|show`: the decision record, for auditors (Decisions.List and
Decisions.Get; auditors and admins see every tenant's, others their own)."""

from __future__ import annotations

import json

from safety.service.cli.connection import EXIT_OK, stubs
from safety.service.cli.output import emitted, json_option, when

LIST_SCHEMA = "reelguard.decisions/1"
SHOW_SCHEMA = "reelguard.decision/1"


def _plain(d) -> dict:
    """One decision as snake_case JSON (enums by name, lower case)."""
    from reelguard.v1 import reelguard_pb2 as pb

    out = {
        "id": d.id,
        "request_id": d.request_id,
        "tenant": d.tenant,
        "stage": pb.Stage.Name(d.stage).lower(),
        "action": pb.Action.Name(d.action).lower(),
        "policy_version": d.policy_version,
        "created_at": d.created_at,
        "specialist": d.specialist,
    }
    if d.evidence_json:
        out["evidence"] = json.loads(d.evidence_json)
    return out


def _line(d: dict) -> str:
    flag = "  [for a specialist]" if d["specialist"] else ""
    return (
        f"{d['id']}  {d['action'].upper():<6} at {d['stage']:<10} tenant {d['tenant']}  "
        f"request {d['request_id'] or '-'}  {when(d['created_at'])}  "
        f"policy {d['policy_version']}{flag}"
    )


def cmd_decisions_list(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.DecisionsStub(channel).List(
        pb.ListDecisionsRequest(tenant=args.tenant, limit=args.limit, specialist=args.specialist)
    )
    decisions = [_plain(d) for d in r.decisions]
    if emitted(args, {"decisions": decisions}):
        return EXIT_OK
    for d in decisions:
        print(_line(d))
    if not decisions:
        print("no decisions")
    return EXIT_OK


def cmd_decisions_show(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    d = _plain(rpc.DecisionsStub(channel).Get(pb.DecisionRef(id=args.decision_id)))
    if emitted(args, d):
        return EXIT_OK
    print(_line(d))
    evidence = d.get("evidence", {})
    for r in evidence.get("reasons", []):
        who = f" {r['identity_name']!r}" if r.get("identity_name") else ""
        print(
            f"  - {r['category']}{who}: score {r.get('score', 0):.3f} vs threshold "
            f"{r.get('threshold', 0):.3f} [{r['check']} on {r['subject']}] {r.get('detail', '')}"
        )
    for c in evidence.get("checks", []):
        if not c.get("ok", True):
            print(f"  ! check {c['name']} did not complete: {c.get('error', '')}")
    if evidence.get("unevaluated"):
        print(f"  not evaluated: {', '.join(evidence['unevaluated'])}")
    for subject, seen in evidence.get("frames_checked", {}).items():
        print(f"  {subject}: {seen['checked']} of {seen['total']} frames checked")
    return EXIT_OK


def add_decision_commands(sub) -> None:
    dc = sub.add_parser("decisions", help="the decision record (auditors)").add_subparsers(
        dest="sub", required=True
    )
    ls = dc.add_parser("list", help="newest decisions first")
    ls.add_argument("--tenant", default="", help="one tenant's (platform-wide callers)")
    ls.add_argument("--limit", type=int, default=100, help="at most this many (<= 1000)")
    ls.add_argument("--specialist", action="store_true", help="only those for a specialist")
    json_option(ls, LIST_SCHEMA)
    ls.set_defaults(func=cmd_decisions_list)
    sh = dc.add_parser("show", help="one decision with its evidence")
    sh.add_argument("decision_id")
    json_option(sh, SHOW_SCHEMA)
    sh.set_defaults(func=cmd_decisions_show)

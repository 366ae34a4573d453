"""`reelguard models`: which model covers each harm category, where its threshold was
measured, or NOT EVALUATED (Policies.Coverage; admins)."""

from __future__ import annotations

from safety.service.cli.connection import EXIT_OK, stubs
from safety.service.cli.output import emitted, json_option


def cmd_models(args) -> int:
    from reelguard.v1 import reelguard_pb2 as pb

    rpc, channel = stubs(args)
    r = rpc.PoliciesStub(channel).Coverage(pb.CoverageRequest(tenant=args.tenant))
    if emitted(args, r):
        return EXIT_OK
    print(f"policy {r.policy_version}")
    for row in r.categories:
        rule = f"{pb.Action.Name(row.action).lower()} at {row.threshold:g}"
        if row.review_threshold:
            rule += f", review from {row.review_threshold:g}"
        if row.required:
            rule += ", required"
        name = f"{row.kind}/{row.category}"
        if not row.evaluated:
            print(f"{name:<24} NOT EVALUATED ({rule})")
        for m in row.models:
            print(f"{name:<24} {m.check} [{m.model_version}] {rule}; measured: {m.calibration}")
        for check in row.uncalibrated:
            print(f"{name:<24} {check} scores it, no calibration declared: not counted")
    return EXIT_OK


def add_models_command(sub) -> None:
    m = sub.add_parser("models", help="which model covers each category, or NOT EVALUATED")
    m.add_argument("--tenant", default="", help="whose policy (default: your own)")
    json_option(m, "reelguard.models/1")
    m.set_defaults(func=cmd_models)

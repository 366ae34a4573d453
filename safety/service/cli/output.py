"""What the CLI prints: verdicts, reports, grants and clients in words, and every
command's `--json` in one style (snake_case keys, enums by lower-case name, a schema name
and version first)."""

from __future__ import annotations

import datetime as dt
import json


def when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if ts else "never"


def format_grant(g) -> str:
    state = "active" if g.active else ("revoked by " + g.revoked_by if g.revoked_at else "expired")
    return (
        f"{g.id}  tenant={g.tenant}  identity={g.identity_id}  scopes={','.join(g.scopes)}  "
        f"expires={when(g.expires_at)}  grantor={g.grantor}  [{state}]"
    )


def format_client(c) -> str:
    state = "revoked" if c.revoked_at else "active"
    cert = f" cert={c.cert_subject!r}" if c.cert_subject else ""
    return f"{c.id}  {c.name!r} tenant={c.tenant} role={c.role}{cert} {state}"


def format_verdict(verdict) -> str:
    from reelguard.v1 import reelguard_pb2 as pb

    lines = [
        f"verdict: {pb.Action.Name(verdict.action)} at {pb.Stage.Name(verdict.stage)} "
        f"(decision {verdict.decision_id}, policy {verdict.policy_version})"
    ]
    for r in verdict.reasons:
        if r.check == "human_review":  # the decision itself, not a score against a threshold
            lines.append(f"  - human review: {r.detail}")
            continue
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


def format_findings(verdict, verbose: bool = False) -> list[str]:
    """The scores under the decision: per check, category and subject, how many frames
    scored, the highest score and when; with `verbose`, every frame's score, labelled."""
    from reelguard.v1 import reelguard_pb2 as pb

    groups: dict[tuple[str, str, str], list] = {}
    for f in verdict.findings:
        groups.setdefault((f.check, f.category, f.subject), []).append(f)
    lines = ["  scores (highest per check, category and subject):"] if groups else []
    for (check, category, subject), found in sorted(groups.items()):
        top = max(found, key=lambda f: f.score)
        at = f" at t={top.frame_time_s:.2f}s" if subject != "prompt" and len(found) > 1 else ""
        frames = f", {len(found)} frames" if len(found) > 1 else ""
        lines.append(
            f"    {check}/{category} on {subject}: {top.score:.3f}{at} (threshold "
            f"{top.threshold:.3f}{frames}) -> {pb.Action.Name(top.action).lower()}"
        )
        if verbose:
            for f in sorted(found, key=lambda f: f.frame_time_s):
                lines.append(f"      t={f.frame_time_s:7.2f}s  {f.score:.3f}  {f.detail}")
    return lines


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
            lines += _review_lines(m.get("human_review"))
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


def _review_lines(review: dict | None) -> list[str]:
    """The human review that released an output, as the manifest records it."""
    if not review:
        return []
    appeal = f", on appeal of {review['appeal_of']}" if review.get("appeal_of") else ""
    lines = [
        f"  human review: {review.get('decision')} ({review.get('reason_code') or '-'}) by "
        f"{review.get('reviewer')} ({review.get('reviewer_role')}) at "
        f"{when(review.get('at') or 0)}, ticket {review.get('ticket')}{appeal}"
    ]
    release = review.get("at_release")
    if release:
        changed = "changed since it was held" if release.get("policy_changed") else "unchanged"
        lines.append(
            f"  at release:   policy {release.get('policy_version')} ({changed}), "
            f"{when(release.get('at') or 0)}"
        )
    return lines


def _ingredient_lines(node: dict, indent: str) -> list[str]:
    lines = []
    for ing in node["ingredients"]:
        child = ing["manifest"]
        signed = f" — signed by {child['signer']}" if child else " — no manifest"
        if child and child.get("repeated"):
            signed += " (its manifest is shown above)"
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


def json_option(parser, schema: str) -> None:
    """`--json` for a command whose result is printed as `schema` ("reelguard.NAME/1")."""
    parser.add_argument("--json", action="store_true", help=f"machine-readable: {schema!r}")
    parser.set_defaults(schema=schema)


def emitted(args, body) -> bool:
    """With --json: print `body` (a protobuf message or a dict) under the command's schema
    and say so; without it, print nothing (the caller prints words)."""
    if not getattr(args, "json", False):
        return False
    plain = body if isinstance(body, dict) else as_plain(body)
    print(json.dumps({"schema": args.schema, **plain}, indent=2, default=str))
    return True


def as_plain(message) -> dict:
    """A protobuf message as the CLI's JSON: proto field names, every field present,
    enums by lower-case name, and the JSON documents it carries (`*_json`) parsed."""
    from google.protobuf.json_format import MessageToDict

    return _lowered(
        message,
        MessageToDict(
            message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        ),
    )


def _lowered(message, plain: dict) -> dict:
    for field in message.DESCRIPTOR.fields:
        name, value = field.name, plain.get(field.name)
        if value is None:
            continue
        repeated = field.is_repeated
        if field.enum_type is not None:
            plain[name] = [v.lower() for v in value] if repeated else value.lower()
        elif field.message_type is not None and not field.message_type.GetOptions().map_entry:
            inner = getattr(message, name)
            if repeated:
                plain[name] = [_lowered(m, v) for m, v in zip(inner, value, strict=True)]
            elif message.HasField(name):
                plain[name] = _lowered(inner, value)
        elif name.endswith("_json") and isinstance(value, str):
            plain[name.removesuffix("_json")] = json.loads(value) if value else None
            del plain[name]
    return plain

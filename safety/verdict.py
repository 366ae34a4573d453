"""Evidence and verdicts: what every check returns and every decision records."""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, replace

# Findings that someone is depicted or named (an enrolled person): only a consent grant
# (scope, expiry, revocation) authorizes them — never a reviewer's content clearance.
LIKENESS_CATEGORIES = ("public_figure", "public_figure_name")


class Action(enum.IntEnum):
    # Values match reelguard.v1.Action; higher is more severe.
    ALLOW = 1
    REVIEW = 2
    BLOCK = 3


class Stage(enum.IntEnum):
    # Values match reelguard.v1.Stage.
    PRE_CHECK = 1
    GENERATING = 2
    POST_CHECK = 3
    SIGNING = 4


@dataclass
class Finding:
    """A score for one category on one subject; the policy fills threshold and action."""

    check: str
    category: str
    subject: str
    score: float
    detail: str = ""
    threshold: float = 0.0
    action: Action = Action.ALLOW
    identity_id: str = ""
    identity_name: str = ""
    frame_time_s: float = 0.0
    box: tuple[int, int, int, int] | None = None  # x, y, width, height
    track_id: int = -1  # a face track in a clip (video likeness)
    track_times_s: list[float] = field(default_factory=list)
    consent: dict | None = None  # the grant that authorizes this likeness, if any
    bank: str = ""  # hash-bank matches: the bank, and the PDQ distance
    distance: int = -1
    allowlisted: str = ""  # the review ticket that cleared this finding, if any
    # sexual_minors within the age model's margin: blocked, and listed for a specialist,
    # who sees scores and hashes (`pdq`: the frame's PDQ hex), never the media.
    specialist: bool = False
    pdq: str = ""
    # What the evidence weighing (safety/moderators/evidence.py) lets this finding do at
    # most: ALLOW for a face read as nudity, REVIEW for one model on one frame.
    at_most: Action | None = None


@dataclass
class CheckRun:
    """Which model ran, and whether it completed; a failed run always blocks."""

    name: str
    model: str
    model_version: str
    stage: Stage
    ok: bool = True
    error: str = ""
    seconds: float = 0.0
    ran: bool = True  # False: stopped before it ran (a decisive block came first)


@dataclass
class Verdict:
    action: Action
    stage: Stage
    policy_version: str
    reasons: list[Finding] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckRun] = field(default_factory=list)
    decision_id: str = ""
    # Harm categories ("visual/violence") that applied but no configured model evaluated.
    unevaluated: list[str] = field(default_factory=list)
    # Per subject: frames checked of those it holds, and their times ("output_frame":
    # {"checked": 21, "total": 240, "times_s": [0.0, 0.31, ...]}); objects, not pairs
    # (c2pa's CBOR turns a list of small ints into bytes).
    frames_checked: dict[str, dict] = field(default_factory=dict)
    # The face crop of each likeness finding (`crop_key`), kept for the person's own door
    # with the decision's match rows; never part of the evidence JSON or the manifest.
    face_crops: dict[str, bytes] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        """A JSON-ready summary (enums as names) for the store and the C2PA assertion."""

        def plain(obj):
            if isinstance(obj, enum.Enum):
                return obj.name.lower()
            if isinstance(obj, dict):
                return {k: plain(v) for k, v in obj.items() if v not in ("", None)}
            if isinstance(obj, list | tuple):
                return [plain(v) for v in obj]
            if isinstance(obj, float):
                return round(obj, 4)
            return obj

        summary = asdict(self)
        summary.pop("face_crops")
        return plain(summary)

    @classmethod
    def from_dict(cls, d: dict) -> Verdict:
        """The inverse of `to_dict` (for held items, whose verdict is stored as JSON)."""

        def finding(f: dict) -> Finding:
            f = dict(f)
            f["action"] = Action[f.get("action", "allow").upper()]
            if f.get("at_most"):
                f["at_most"] = Action[f["at_most"].upper()]
            if f.get("box"):
                f["box"] = tuple(f["box"])
            return Finding(**f)

        def run(c: dict) -> CheckRun:
            return CheckRun(**{**c, "stage": Stage[c["stage"].upper()]})

        return cls(
            action=Action[d["action"].upper()],
            stage=Stage[d["stage"].upper()],
            policy_version=d.get("policy_version", ""),
            reasons=[finding(f) for f in d.get("reasons", [])],
            findings=[finding(f) for f in d.get("findings", [])],
            checks=[run(c) for c in d.get("checks", [])],
            decision_id=d.get("decision_id", ""),
            unevaluated=list(d.get("unevaluated", [])),
            frames_checked=dict(d.get("frames_checked", {})),
        )


def likeness_match(f: Finding) -> bool:
    """A likeness finding the policy counted as the person (at or over its threshold). A
    near miss is someone else's face: never shown to, or kept for, the person it
    resembled."""
    return bool(f.identity_id) and f.category in LIKENESS_CATEGORIES and f.score >= f.threshold


def crop_key(f: Finding) -> str:
    """Which face crop in `Verdict.face_crops` belongs to a likeness finding."""
    return f"{f.subject}|{f.identity_id}|{f.frame_time_s:.3f}"


def combine(pre: Verdict, post: Verdict) -> Verdict:
    """A request's verdict from both checks: the stricter action, all the evidence."""
    decider = post if post.action >= pre.action else pre
    return Verdict(
        action=decider.action,
        stage=decider.stage,
        policy_version=post.policy_version,
        reasons=pre.reasons + post.reasons if pre.action == post.action else decider.reasons,
        findings=pre.findings + post.findings,
        checks=pre.checks + post.checks,
        unevaluated=sorted(set(pre.unevaluated) | set(post.unevaluated)),
        frames_checked={**pre.frames_checked, **post.frames_checked},
        face_crops={**pre.face_crops, **post.face_crops},
    )


def lifted_by(f: Finding) -> str:
    """What a client may be told would lift a block: for a likeness, a consent grant."""
    if f.category in LIKENESS_CATEGORIES and f.consent is None and f.action != Action.ALLOW:
        return (
            "; a consent grant from this person for your tenant and this kind of media "
            "would authorize it (a platform admin records one)"
        )
    return ""


def for_client(verdict: Verdict, scores: bool = False) -> Verdict:
    """What a generation client is told: the action, and per finding that acted (or that
    a consent grant authorized) its check, category, subject, place and person. Never a
    hash bank's name or distance, a near miss, or the detail that states them: those are
    an oracle for walking a picture just past a match. Scores and thresholds only when
    the tenant's policy says so (`disclose_scores`), and never a bank's. The whole
    verdict stays in the decision record, for reviewers and auditors."""

    def told(f: Finding) -> Finding:
        shown = scores and f.distance < 0 and not f.bank
        return replace(
            f,
            score=f.score if shown else 0.0,
            threshold=f.threshold if shown else 0.0,
            detail=f"{f.category} ({f.action.name.lower()}){lifted_by(f)}",
            bank="",
            distance=-1,
            pdq="",
        )

    def relevant(f: Finding) -> bool:
        return f.action != Action.ALLOW or f.consent is not None or (scores and not f.bank)

    return replace(
        verdict,
        reasons=[told(f) for f in verdict.reasons],
        findings=[told(f) for f in verdict.findings if relevant(f)],
    )

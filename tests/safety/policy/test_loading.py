"""Per-tenant policies: validated with file and line, applied per tenant, reloaded live."""

from __future__ import annotations

import grpc
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from safety.policy.loading import PolicyError, PolicySet, load_policy_file
from safety.policy.rules import Policy
from safety.verdict import Action
from tests.support import Running, make_config

STRICT = """name = "strict"

[categories.profanity]
threshold = 0.0
action = "block"
"""


@pytest.mark.parametrize(
    "text, words",
    [
        ("name = 'x'\n[categories.sexual\nthreshold = 1\n", "line 2"),
        ("name = 'x'\ncolour = 'blue'\n", ":2: unknown key 'colour'"),
        (
            "name = 'x'\n\n[categories.sexual]\nthreshold = 1.5\naction = 'block'\n",
            ":4: categories.sexual.threshold must be a number within 0..1",
        ),
        (
            "[categories.violence]\nthreshold = 0.5\naction = 'ban'\n",
            ":3: categories.violence.action must be allow, review or block",
        ),
        (
            "[categories.violence]\nthreshold = 0.5\naction = 'block'\ncolour = 1\n",
            ":4: unknown key 'colour' in categories.violence",
        ),
        (
            "[categories.sexual_minors]\nthreshold = 0.5\naction = 'review'\n",
            ":3: categories.sexual_minors is always blocked",
        ),
        (
            "name = 'x'\n[categories.sexual_minors]\nthreshold = 0.9\naction = 'block'\n",
            ":3: categories.sexual_minors is always blocked",
        ),
        (
            "[categories.sexual_minors]\nthreshold = 0.5\naction = 'block'\n"
            "review_threshold = 0.2\n",
            ":4: categories.sexual_minors is always blocked",
        ),
        (
            "[categories.'text/sexual_minors']\nthreshold = 0.7\naction = 'block'\n",
            ":2: categories.text/sexual_minors is always blocked",
        ),
        (
            "[categories.weapons]\nthreshold = 0.5\naction = 'block'\nrequired = ['audio']\n",
            "required must be",
        ),
        ("name = 'x'\ntraining_mining = 'sometimes'\n", ":2: training_mining must be one of"),
    ],
    ids=[
        "toml-syntax",
        "unknown-top",
        "threshold-range",
        "bad-action",
        "unknown-rule-key",
        "minors-not-block",
        "minors-threshold-raised",
        "minors-review-band",
        "text-minors-threshold-raised",
        "bad-required",
        "bad-training-mining",
    ],
)
def test_invalid_policy_files_name_the_file_and_line(tmp_path, text, words):
    path = tmp_path / "tenant.toml"
    path.write_text(text)
    with pytest.raises(PolicyError) as err:
        load_policy_file(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_tenants_get_their_own_policy_and_a_bad_reload_changes_nothing(tmp_path):
    (tmp_path / "studio.toml").write_text(STRICT)
    (tmp_path / "default.toml").write_text('name = "house"\n')
    policies = PolicySet(Policy(), tmp_path)
    assert policies.for_tenant("studio").name == "strict"
    assert policies.for_tenant("anyone").name == "house"
    before = policies.versions()
    (tmp_path / "broken.toml").write_text("[categories.x]\nthreshold = 'high'\naction = 'block'\n")
    with pytest.raises(PolicyError, match="broken.toml:2"):
        policies.reload()
    assert policies.versions() == before  # the policies in force stay
    (tmp_path / "broken.toml").unlink()
    (tmp_path / "studio.toml").write_text(STRICT.replace("0.0", "0.5"))
    assert policies.reload()["studio"] != before["studio"]
    assert policies.for_tenant("studio").rules["profanity"].threshold == 0.5
    assert policies.for_tenant("studio").rules["profanity"].action == Action.BLOCK


def test_policies_apply_per_tenant_and_reload_through_the_api(tmp_path):
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    (policy_dir / "strict-tenant.toml").write_text(STRICT)
    r = Running(make_config(tmp_path / "data", policy_dir=policy_dir))
    try:

        def check(tenant):
            return r.moderation.Check(pb.CheckRequest(prompt="a sunny meadow", tenant=tenant))

        strict = check("strict-tenant")
        assert strict.action == pb.BLOCK and strict.policy_version.startswith("strict@")
        assert check("other").action == pb.ALLOW
        record = r.service.store.decision(strict.decision_id)
        assert record["policy_version"] == strict.policy_version

        (policy_dir / "strict-tenant.toml").write_text(STRICT.replace('"block"', '"allow"'))
        versions = r.policies.Reload(pb.ReloadPoliciesRequest()).policies
        assert {p.tenant for p in versions} == {"*", "strict-tenant"}
        assert check("strict-tenant").action == pb.ALLOW

        (policy_dir / "strict-tenant.toml").write_text("threshold = [")
        with pytest.raises(grpc.RpcError) as err:
            r.policies.Reload(pb.ReloadPoliciesRequest())
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "strict-tenant.toml" in err.value.details()
        shown = r.policies.Get(pb.GetPolicyRequest(tenant="strict-tenant"))
        assert shown.name == "strict" and any(rule.category == "profanity" for rule in shown.rules)
    finally:
        r.close()


def test_the_configs_policy_table_cannot_soften_sexual_minors_either(tmp_path):
    from safety.service.config import Config

    path = tmp_path / "reelguard.toml"
    path.write_text(
        'face_workers = 0\n[policy]\nname = "lax"\n'
        "[policy.categories.sexual_minors]\nthreshold = 0.99\naction = 'block'\n"
    )
    with pytest.raises(ValueError) as err:
        Config.load(path, env={})
    assert f"{path}:5:" in str(err.value) and "always blocked" in str(err.value)


def test_a_tenants_policy_says_what_its_outputs_allow_for_ai_training(tmp_path):
    """cawg.training-mining on every output: notAllowed by default, per tenant by policy."""
    from signing.verify import Verifier
    from tests.support import output_bytes

    policy_dir = tmp_path / "policies"
    policy_dir.mkdir()
    (policy_dir / "open-studio.toml").write_text('name = "open"\ntraining_mining = "allowed"\n')
    r = Running(make_config(tmp_path / "data", policy_dir=policy_dir, face_workers=0))
    try:
        verifier = Verifier((r.config.keys_dir / "root.pem").read_text())

        def uses(tenant):
            request = pb.GenerateRequest(
                prompt="waves",
                tenant=tenant,
                output=pb.OutputSpec(width=64, height=64, num_frames=4),
            )
            report = verifier.verify_bytes(output_bytes(list(r.generation.Generate(request))))
            (entry,) = [
                a for a in report.manifest["assertions"] if a["label"] == "cawg.training-mining"
            ]
            return {e["use"] for e in entry["data"]["entries"].values()}

        assert uses("open-studio") == {"allowed"}
        assert uses("anyone-else") == {"notAllowed"}
    finally:
        r.close()


def test_a_reload_with_no_policy_directory_says_so(running):
    """It answered OK having re-read nothing: an operator believed a file was in force."""
    with pytest.raises(grpc.RpcError) as err:
        running.policies.Reload(pb.ReloadPoliciesRequest())
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no policy_dir is configured" in err.value.details()

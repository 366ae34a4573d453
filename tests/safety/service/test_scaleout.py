"""The same service with its heavy stages on Ray Serve pools (a local Ray instance)."""

from __future__ import annotations

import numpy as np
import pytest

from reelguard.v1 import reelguard_pb2 as pb
from signing.verify import Verifier
from tests.support import Running, encode, make_config, needs, output_bytes, terminal

pytestmark = needs("ray", extra="ray")


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory, enrol_collins):
    config = make_config(
        tmp_path_factory.mktemp("ray"),
        ray=True,
        ray_local_cpus=8,  # logical CPUs: four pools of 0.5 fit, whatever the machine
        ray_cpus_per_replica=0.5,
        ray_min_replicas=1,
        ray_max_replicas=1,
    )
    r = Running(config)
    enrol_collins(r.identities)
    yield r
    r.close()


def test_generate_end_to_end_through_the_pools(on_ray, coffee):
    events = on_ray.generate("steam over a cup", encode(coffee, "JPEG"), width=96, height=96)
    kind, completed = terminal(events)
    assert kind == "completed"
    generating = [e.progress for e in events if e.WhichOneof("event") == "progress"]
    assert any(p.stage == pb.GENERATING and p.total > 0 for p in generating)
    anchors = (on_ray.config.keys_dir / "root.pem").read_text()
    report = Verifier(anchors).verify_bytes(output_bytes(events), "video/mp4")
    assert report.status == "trusted" and report.moderation["action"] == "allow"
    models = {c.model for c in completed.verdict.checks if c.ok}
    assert {"open_nsfw", "mtcnn+dlib_resnet_v1"} <= models
    assert on_ray.service.intake.backends[0].model_id == "reelguard/kenburns-v1"  # via the pool


def test_the_face_pool_finds_the_enrolled_person(on_ray, astronaut):
    kind, blocked = terminal(on_ray.generate("a portrait", encode(astronaut)))
    assert kind == "blocked"
    assert blocked.verdict.reasons[0].identity_name == "Eileen Collins"


def test_health_probes_reach_the_pools(on_ray):
    assert on_ray.service.health.check_now() == {}


def test_a_clips_frames_come_back_in_order_from_several_calls(on_ray, astronaut, coffee):
    from ray import serve

    from safety.moderators.nudity import NudityModerator
    from safety.service.scaleout import RayFaceEmbedder, fan_out

    clip = [coffee, astronaut, coffee, coffee, astronaut]  # 3 per call: two calls
    found = RayFaceEmbedder(serve.get_app_handle("reelguard-faces"), 3).faces_of_frames(clip)
    assert [len(faces) for faces in found] == [0, 1, 0, 0, 1]
    scores = fan_out(serve.get_app_handle("reelguard-nudity").probability, clip, 2)
    np.testing.assert_allclose(scores, NudityModerator().probabilities(clip), atol=1e-5)


def test_the_signer_pool_signs_no_bytes_of_a_callers_choosing(on_ray):
    """Its health probe once signed whatever an in-cluster caller sent, with our key."""
    from ray import serve

    pool = serve.get_app_handle("reelguard-signer")
    with pytest.raises(TypeError):
        pool.probe.remote(b"a COSE Sig_structure of the attacker's making").result()
    assert pool.probe.remote().result() is None  # signed inside, nothing handed back


def test_the_signer_pool_signs_only_what_a_recorded_decision_authorizes(on_ray, coffee):
    """Every Ray pod holds the cluster token, the workers that parse hostile media
    included: one of them could have its own bytes signed "allow" by the pool. The pool
    now asks the store for the decision first; the outputs the gate allowed still sign
    (test_generate_end_to_end_through_the_pools)."""
    from ray import serve

    from signing.manifest import ManifestSpec

    pool = serve.get_app_handle("reelguard-signer")
    forged = ManifestSpec(
        title="forged.png",
        generator_name="reelguard/kenburns",
        generator_version="1",
        model_id="m",
        moderation={"decision_id": "a-decision-nobody-made", "action": "allow"},
    )
    with pytest.raises(Exception, match="no recorded decision authorizes this signature"):
        pool.sign.remote(forged, encode(coffee), "image/png").result()

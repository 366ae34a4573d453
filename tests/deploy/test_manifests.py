"""deploy/: the Serve config validates against Ray Serve's own schema and names the pools
the code defines; the KubeRay RayService runs that same config on CPU and GPU groups."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from tests.support import needs

pytestmark = needs("ray", extra="ray")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def serve_config() -> dict:
    return yaml.safe_load((DEPLOY / "serve-config.yaml").read_text())


def documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all((DEPLOY / "kuberay" / name).read_text()))


def frontdoor() -> tuple[dict, dict, dict]:
    """The front door's ConfigMap, Deployment and (load-balancing) Service."""
    by_name = {(d["kind"], d["metadata"]["name"]): d for d in documents("frontdoor.yaml")}
    return (
        by_name["ConfigMap", "reelguard-config"],
        by_name["Deployment", "reelguard-frontdoor"],
        by_name["Service", "reelguard"],
    )


def test_the_serve_config_is_valid_and_names_real_pools():
    from ray.serve import schema as serve_schema

    config = serve_schema.ServeDeploySchema.model_validate(serve_config())
    scaleout = importlib.import_module("safety.service.scaleout")
    pools = {}
    for app in config.applications:
        module, attr = app.import_path.split(":")
        assert callable(getattr(importlib.import_module(module), attr)), app.import_path
        (deployment,) = app.deployments
        assert hasattr(scaleout, deployment.name), deployment.name
        pools[deployment.name] = deployment
    assert set(pools) == {"FacePool", "ModeratorPool", "SignerPool", "GeneratorPool"}
    # The cluster scales each pool on the same signal as `reelguard serve --ray` does.
    from safety.service.config import Config

    for app in config.applications:
        (deployment,) = app.deployments
        target = deployment.autoscaling_config["target_ongoing_requests"]
        pool = app.name.removeprefix("reelguard-")
        assert target == Config().ray_pool(pool)["target_ongoing_requests"], app.name
    assert pools["GeneratorPool"].ray_actor_options.num_gpus >= 1
    for cpu_pool in ("FacePool", "ModeratorPool", "SignerPool"):
        assert not pools[cpu_pool].ray_actor_options.num_gpus
        assert pools[cpu_pool].ray_actor_options.num_cpus >= 1
        assert pools[cpu_pool].autoscaling_config["max_replicas"] >= 1


def test_the_builders_build_the_pools_from_a_config_file(tmp_path):
    from ray import serve

    from safety.moderators.plugins import pool_names
    from safety.service import scaleout

    toml = tmp_path / "reelguard.toml"
    toml.write_text(f'data_dir = "{tmp_path}"\nray_generator_gpus = 0\n')
    for name in ("faces", "generator", "signer"):
        app = getattr(scaleout, f"{name}_app")({"config": str(toml)})
        assert isinstance(app, serve.Application)
    for pool in pool_names():  # every moderator plugin that names a pool
        app = scaleout.moderator_app({"config": str(toml), "pool": pool})
        assert isinstance(app, serve.Application)


def test_the_rayservice_runs_the_same_config_on_cpu_and_gpu_groups():
    (service,) = documents("rayservice.yaml")
    assert service["apiVersion"] == "ray.io/v1" and service["kind"] == "RayService"
    embedded = yaml.safe_load(service["spec"]["serveConfigV2"])
    from ray.serve import schema as serve_schema

    serve_schema.ServeDeploySchema.model_validate(embedded)
    assert embedded == serve_config()
    cluster = service["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"]["template"]["spec"]["containers"][0]["image"]
    groups = {g["groupName"]: g for g in cluster["workerGroupSpecs"]}
    gpu = groups["gpu-workers"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert gpu["nvidia.com/gpu"] == "1"
    assert groups["gpu-workers"]["rayStartParams"]["num-gpus"] == "1"
    cpu = groups["cpu-workers"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    assert "nvidia.com/gpu" not in cpu
    for group in groups.values():
        assert group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]


def test_the_front_door_config_is_a_valid_reelguard_config(tmp_path):
    from safety.service.config import Config

    config_map, deployment, service = frontdoor()
    toml = tmp_path / "reelguard.toml"
    toml.write_text(config_map["data"]["reelguard.toml"])
    config = Config.load(toml, env={})
    assert config.ray and not config.ray_deploy and config.ray_address.startswith("ray://")
    ports = {
        p["containerPort"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    assert ports == {int(config.grpc_address.rsplit(":", 1)[1]), 8080, 9464}
    assert {p["port"] for p in service["spec"]["ports"]} == ports


def containers_of(service: dict) -> list[dict]:
    cluster = service["spec"]["rayClusterConfig"]
    pods = [cluster["headGroupSpec"]] + cluster["workerGroupSpecs"]
    return [c for p in pods for c in p["template"]["spec"]["containers"]]


def test_every_ray_process_and_the_front_door_use_token_auth():
    (service,) = documents("rayservice.yaml")
    _, deployment, _ = frontdoor()
    everyone = containers_of(service) + deployment["spec"]["template"]["spec"]["containers"]
    for container in everyone:
        env = {e["name"]: e for e in container.get("env", [])}
        assert env["RAY_AUTH_MODE"]["value"] == "token", container["name"]
        assert env["RAY_AUTH_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "reelguard-ray-token"


def test_only_the_signer_group_holds_the_signing_key():
    (service,) = documents("rayservice.yaml")
    cluster = service["spec"]["rayClusterConfig"]
    groups = {"head": cluster["headGroupSpec"]} | {
        g["groupName"]: g for g in cluster["workerGroupSpecs"]
    }
    with_key = {
        name
        for name, group in groups.items()
        for volume in group["template"]["spec"].get("volumes", [])
        if volume.get("secret", {}).get("secretName") == "reelguard-signing-key"
    }
    assert with_key == {"signer-workers"}
    assert "reelguard-signer" in groups["signer-workers"]["rayStartParams"]["resources"]
    pools = {d["name"]: d for app in serve_config()["applications"] for d in app["deployments"]}
    assert pools["SignerPool"]["ray_actor_options"]["resources"] == {"reelguard-signer": 1}
    for other in ("FacePool", "ModeratorPool", "GeneratorPool"):
        assert "reelguard-signer" not in pools[other]["ray_actor_options"].get("resources", {})


def test_only_the_front_door_and_the_signers_hold_database_credentials():
    """A face or nudity worker (which parses hostile media) holds no database credential:
    it cannot record a decision to sign. The signer group's is its own narrow role."""
    (service,) = documents("rayservice.yaml")
    cluster = service["spec"]["rayClusterConfig"]
    groups = {"head": cluster["headGroupSpec"]} | {
        g["groupName"]: g for g in cluster["workerGroupSpecs"]
    }
    secrets = {
        name: {
            e["valueFrom"]["secretKeyRef"]["name"]
            for c in group["template"]["spec"]["containers"]
            for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        - {"reelguard-ray-token"}
        for name, group in groups.items()
    }
    assert secrets == {
        "head": set(),
        "cpu-workers": set(),
        "gpu-workers": set(),
        "signer-workers": {"reelguard-db-signer"},
    }
    (cluster_db,) = documents("postgres.yaml")
    (role,) = cluster_db["spec"]["managed"]["roles"]
    assert (
        role["name"] == "reelguard_signer"
        and role["passwordSecret"]["name"] == "reelguard-db-signer"
    )
    from safety.store.sql_signing import SIGNER_ROLE

    assert role["name"] == SIGNER_ROLE


def test_only_the_front_door_reaches_the_ray_client_port():
    head, workers = documents("networkpolicy.yaml")
    assert head["spec"]["podSelector"]["matchLabels"]["ray.io/node-type"] == "head"
    by_port = {
        rule["ports"][0]["port"]: rule["from"]
        for rule in head["spec"]["ingress"]
        if "ports" in rule
    }
    assert by_port[10001] == [{"podSelector": {"matchLabels": {"app": "reelguard-frontdoor"}}}]
    assert by_port[8265][0]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "kuberay-operator"
    }
    for policy in (head, workers):
        assert policy["spec"]["policyTypes"] == ["Ingress"]


def test_the_front_door_serves_beyond_loopback_only_over_tls(tmp_path):
    from safety.service.config import Config

    config_map, deployment, _ = frontdoor()
    toml = tmp_path / "reelguard.toml"
    toml.write_text(config_map["data"]["reelguard.toml"])
    config = Config.load(toml, env={})
    assert config.tls_cert and config.tls_key and not config.allow_insecure
    mounts = {
        m["mountPath"]
        for m in deployment["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    }
    assert str(config.tls_cert.parent) in mounts


def test_the_front_doors_scale_out_on_one_postgresql_with_no_volume_of_their_own(tmp_path):
    from safety.service.config import Config

    config_map, deployment, service = frontdoor()
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] >= 2
    assert not any("persistentVolumeClaim" in v for v in pod["volumes"])  # no shared disk
    volumes = {v["name"]: v for v in pod["volumes"]}
    toml = tmp_path / "reelguard.toml"
    toml.write_text(config_map["data"]["reelguard.toml"])
    env = {e["name"]: e for e in container["env"]}
    secret = env["REELGUARD_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    # The database is the CloudNativePG cluster's: its operator writes `<name>-app`.
    (cluster,) = documents("postgres.yaml")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1" and cluster["kind"] == "Cluster"
    assert secret == {"name": f"{cluster['metadata']['name']}-app", "key": "uri"}
    assert cluster["spec"]["instances"] >= 2 and cluster["spec"]["minSyncReplicas"] >= 1
    database = cluster["spec"]["bootstrap"]["initdb"]["database"]
    uri = f"postgresql://{database}:secret@reelguard-db-rw.default:5432/{database}"
    config = Config.load(toml, env={"REELGUARD_DATABASE_URL": uri})
    assert config.database.startswith("postgresql+psycopg://")  # not the embedded SQLite
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert "emptyDir" in volumes[mounts[str(config.data_dir)]]  # the data dir is a cache
    # Every replica signs with the same chain and reads the others' watermarks.
    keys = volumes[mounts[str(config.watermark_key_file.parent)]]
    assert keys["secret"]["secretName"] == "reelguard-signing"
    assert config.signing_key.parent == config.watermark_key_file.parent
    # Ready by standard gRPC health (NOT_SERVING while the database or its change feed is
    # out of reach), on the port the config listens on; the Service selects these pods.
    grpc_port = int(config.grpc_address.rsplit(":", 1)[1])
    assert container["readinessProbe"]["grpc"]["port"] == grpc_port
    assert service["spec"]["selector"] == spec["selector"]["matchLabels"]
    assert spec["template"]["metadata"]["labels"] == spec["selector"]["matchLabels"]
    spread = pod["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "kubernetes.io/hostname"  # losing a node leaves one
    budgets = [d for d in documents("frontdoor.yaml") if d["kind"] == "PodDisruptionBudget"]
    assert budgets[0]["spec"]["minAvailable"] >= 1

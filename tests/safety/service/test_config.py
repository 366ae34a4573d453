from pathlib import Path

import pytest

from safety.service.config import Config
from safety.verdict import Action


def test_file_then_environment(tmp_path: Path):
    path = tmp_path / "reelguard.toml"
    path.write_text(
        'grpc_address = "0.0.0.0:6000"\n'
        "sample_fps = 4\n"
        'prompt_blocklist = ["a", "b"]\n'
        "[policy]\n"
        'name = "t"\n'
        "[policy.categories.sexual]\n"
        'threshold = 0.5\naction = "review"\n'
    )
    cfg = Config.load(path, env={"REELGUARD_SAMPLE_FPS": "6", "REELGUARD_DATA_DIR": "/x"})
    assert cfg.grpc_address == "0.0.0.0:6000"
    assert cfg.sample_fps == 6  # environment wins over the file
    assert cfg.data_dir == Path("/x")
    assert cfg.prompt_blocklist == ["a", "b"]
    assert cfg.policy.rules["sexual"].action == Action.REVIEW


def test_unknown_keys_are_an_error(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("grpc_adress = 'typo'\n")
    with pytest.raises(ValueError, match="grpc_adress"):
        Config.load(path, env={})


def test_each_ray_pool_has_its_own_settings_over_the_shared_ones(tmp_path: Path):
    path = tmp_path / "reelguard.toml"
    path.write_text(
        "ray_max_replicas = 3\n"
        "[ray_pools.faces]\nmax_replicas = 16\nnum_cpus = 2\n"
        "[ray_pools.signer]\ntarget_ongoing_requests = 1\n"
    )
    cfg = Config.load(path, env={})
    assert cfg.ray_pool("faces") == {
        "num_cpus": 2.0,
        "min_replicas": 1,
        "max_replicas": 16,
        "target_ongoing_requests": 2,
    }
    assert cfg.ray_pool("signer")["target_ongoing_requests"] == 1
    assert cfg.ray_pool("generator")["max_replicas"] == 3  # the shared setting
    # The environment replaces the file's tables (JSON there).
    env = Config.load(path, env={"REELGUARD_RAY_POOLS": '{"nudity": {"min_replicas": 2}}'})
    assert env.ray_pool("nudity")["min_replicas"] == 2
    assert env.ray_pool("faces")["max_replicas"] == 3


@pytest.mark.parametrize(
    "table, message",
    [
        ("[ray_pools.face]\nmax_replicas = 2\n", "ray_pools.face: no such pool"),
        ("[ray_pools.faces]\nmax_replica = 2\n", "unknown max_replica"),
        ("[ray_pools.faces]\nmax_replicas = 2.5\n", "must be a whole number"),
        ("[ray_pools.faces]\ntarget_ongoing_requests = 0\n", "must be positive"),
        ('[ray_pools.faces]\nnum_cpus = "two"\n', "num_cpus must be a number: 'two'"),
    ],
)
def test_ray_pool_settings_are_checked_when_loaded(tmp_path: Path, table, message):
    path = tmp_path / "reelguard.toml"
    path.write_text(table)
    with pytest.raises(ValueError, match=message):
        Config.load(path, env={})


def test_a_ray_pool_whose_minimum_exceeds_its_maximum_is_refused():
    cfg = Config(ray_pools={"faces": {"min_replicas": 4, "max_replicas": 2}})
    with pytest.raises(ValueError, match="Ray pool faces: min_replicas 4 and max_replicas 2"):
        cfg.ray_pool("faces")


def test_sampling_under_one_frame_a_second_is_refused(tmp_path: Path):
    import pytest

    with pytest.raises(ValueError, match="sample_fps must be at least 1"):
        Config.load(env={"REELGUARD_SAMPLE_FPS": "0.5"})


def test_a_double_review_share_outside_zero_to_one_is_refused():
    import pytest

    with pytest.raises(ValueError, match="review_double_share is a share"):
        Config.load(env={"REELGUARD_REVIEW_DOUBLE_SHARE": "10"})
    assert Config.load(env={"REELGUARD_REVIEW_DOUBLE_SHARE": "0.1"}).review_double_share == 0.1


def test_every_path_setting_is_a_path_from_the_file_and_the_environment(tmp_path):
    """A hand-kept list of path fields once missed one (watermark_key_file stayed a str
    and `serve` crashed on it): every field typed Path comes back a Path."""
    import dataclasses

    from safety.service.config import Config

    paths = [f.name for f in dataclasses.fields(Config) if "Path" in str(f.type)]
    assert "watermark_key_file" in paths and len(paths) >= 10
    toml = tmp_path / "c.toml"
    toml.write_text("\n".join(f'{name} = "/x/{name}"' for name in paths))
    for cfg in (
        Config.load(toml, env={}),
        Config.load(env={f"REELGUARD_{n.upper()}": f"/x/{n}" for n in paths}),
    ):
        for name in paths:
            assert getattr(cfg, name) == Path(f"/x/{name}"), name


def test_one_database_url_and_its_older_name():
    from safety.service.config import Config

    embedded = Config(data_dir=Path("/d"))
    assert embedded.database == "sqlite:////d/reelguard.sqlite3"
    # A libpq URL (a CloudNativePG Secret's `uri`) is read with the installed driver.
    cnpg = Config(database_url="postgresql://app:pw@db-rw:5432/app")
    assert cnpg.database == "postgresql+psycopg://app:pw@db-rw:5432/app"
    old = Config(review_database_url="postgresql+psycopg://u@h/r")
    assert old.database == "postgresql+psycopg://u@h/r"  # the review database holds all now
    both = Config(database_url="sqlite:////a.db", review_database_url="postgresql://u@h/r")
    with pytest.raises(ValueError, match="name different databases"):
        _ = both.database


def test_a_config_typo_names_the_file_the_line_and_the_nearest_key(tmp_path):
    """It was a traceback: `ValueError: unknown config keys ... web_adress`."""
    from safety.service.config import ConfigError
    from tests.support import cli

    path = tmp_path / "reelguard.toml"
    path.write_text('data_dir = "d"\nweb_adress = "127.0.0.1:8080"\nsample_fps = "two"\n')
    with pytest.raises(ConfigError, match=r"reelguard.toml:2: unknown config key 'web_adress' "):
        Config.load(path)
    r = cli("--config", path, "models")
    assert r.returncode == 64 and "Traceback" not in r.stderr
    assert "(did you mean 'web_address'?)" in r.stderr
    path.write_text('sample_fps = "two"\n')
    r = cli("--config", path, "models")
    assert r.returncode == 64 and "reelguard.toml: sample_fps:" in r.stderr

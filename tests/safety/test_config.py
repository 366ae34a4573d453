from pathlib import Path

import pytest

from safety.config import Config
from safety.verdict import Action


def test_file_then_environment(tmp_path: Path):
    path = tmp_path / "reelguard.toml"
    path.write_text(
        'grpc_address = "0.0.0.0:6000"\n'
        "post_check_frames = 4\n"
        'prompt_blocklist = ["a", "b"]\n'
        "[policy]\n"
        'name = "t"\n'
        "[policy.categories.sexual]\n"
        'threshold = 0.5\naction = "review"\n'
    )
    cfg = Config.load(path, env={"REELGUARD_POST_CHECK_FRAMES": "6", "REELGUARD_DATA_DIR": "/x"})
    assert cfg.grpc_address == "0.0.0.0:6000"
    assert cfg.post_check_frames == 6  # environment wins over the file
    assert cfg.data_dir == Path("/x")
    assert cfg.prompt_blocklist == ["a", "b"]
    assert cfg.policy.rules["sexual"].action == Action.REVIEW


def test_unknown_keys_are_an_error(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("grpc_adress = 'typo'\n")
    with pytest.raises(ValueError, match="grpc_adress"):
        Config.load(path, env={})

"""Enrolling someone already enrolled (a mirrored copy of their photo) warns and names them."""

from __future__ import annotations

import re

from tests.support import cli, encode


def test_enrolling_a_mirrored_copy_of_an_enrolled_photo_warns_and_names_them(
    running, astronaut, tmp_path
):
    env = {"REELGUARD_TOKEN": running.admin_token}
    mirrored = tmp_path / "collins-mirrored.png"
    mirrored.write_bytes(encode(astronaut[:, ::-1].copy()))
    r = cli(
        "--address",
        running.address,
        "identities",
        "enroll",
        "--name",
        "E. Collins",
        mirrored,
        env=env,
    )
    try:
        assert r.returncode == 0, r.stderr
        assert "warning: collins-mirrored.png resembles enrolled 'Eileen Collins'" in r.stderr
        assert "the same person enrolled twice?" in r.stderr
    finally:  # the session's service keeps one Eileen Collins
        for new_id in re.findall(r"\(id (\w+),", r.stdout):
            cli("--address", running.address, "identities", "remove", new_id, env=env)


def test_enrolling_someone_new_warns_of_nothing(running, hopper, tmp_path):
    env = {"REELGUARD_TOKEN": running.admin_token}
    photo = tmp_path / "hopper.png"
    photo.write_bytes(encode(hopper))
    r = cli(
        "--address",
        running.address,
        "identities",
        "enroll",
        "--name",
        "Grace Hopper",
        photo,
        env=env,
    )
    try:
        assert r.returncode == 0 and "warning" not in r.stderr
    finally:
        for new_id in re.findall(r"\(id (\w+),", r.stdout):
            cli("--address", running.address, "identities", "remove", new_id, env=env)

"""Enrolling someone already enrolled (a mirrored copy of their photo) warns and names them."""

from __future__ import annotations

import contextlib
import re

from tests.support import cli, encode


@contextlib.contextmanager
def enrolled(running, name: str, photo):
    """`identities enroll` through the CLI; the session's service gets its people back."""
    env = {"REELGUARD_TOKEN": running.admin_token}
    r = cli("--address", running.address, "identities", "enroll", "--name", name, photo, env=env)
    try:
        yield r
    finally:
        for new_id in re.findall(r"\(id (\w+),", r.stdout):
            cli("--address", running.address, "identities", "remove", new_id, env=env)


def test_enrolling_a_mirrored_copy_of_an_enrolled_photo_warns_and_names_them(
    running, astronaut, tmp_path
):
    mirrored = tmp_path / "collins-mirrored.png"
    mirrored.write_bytes(encode(astronaut[:, ::-1].copy()))
    with enrolled(running, "E. Collins", mirrored) as r:
        assert r.returncode == 0, r.stderr
        assert "warning: collins-mirrored.png resembles enrolled 'Eileen Collins'" in r.stderr
        assert "the same person enrolled twice?" in r.stderr


def test_enrolling_someone_new_warns_of_nothing(running, hopper, tmp_path):
    photo = tmp_path / "hopper.png"
    photo.write_bytes(encode(hopper))
    with enrolled(running, "Grace Hopper", photo) as r:
        assert r.returncode == 0 and "warning" not in r.stderr

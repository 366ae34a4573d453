"""Shared fixtures: real photos of real people, and the real service on a real port."""

from __future__ import annotations

import subprocess
import uuid

import numpy as np
import pytest
import skimage.data
from matplotlib import cbook
from PIL import Image

from reelguard.v1 import reelguard_pb2 as pb
from tests.support import Running, encode, make_config


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """Eileen Collins, a public figure."""
    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    """Grace Hopper: a real person who is not enrolled."""
    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")).convert("RGB"))


@pytest.fixture(scope="session")
def coffee() -> np.ndarray:
    """No face."""
    return skimage.data.coffee()


@pytest.fixture(scope="session")
def enrol_collins(astronaut):
    """Enrol Eileen Collins from the astronaut photo through an Identities stub (a
    `Running` service's `.identities`, or one on a channel of the test's own)."""

    def enrol(identities, **fields) -> pb.Identity:
        request = pb.EnrollRequest(
            name="Eileen Collins", images=[pb.Media(data=encode(astronaut))], **fields
        )
        return identities.Enroll(request)

    return enrol


@pytest.fixture(scope="session")
def running(tmp_path_factory, astronaut) -> Running:
    """The embedded-default service with Eileen Collins enrolled."""
    r = Running(make_config(tmp_path_factory.mktemp("svc"), prompt_blocklist=["forbidden fruit"]))
    r.identities.Enroll(
        pb.EnrollRequest(
            name="Eileen Collins",
            aliases=["Collins"],
            images=[pb.Media(data=encode(astronaut), filename="astronaut.png")],
        )
    )
    yield r
    r.close()


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server for the session, or a skip that says why there is none."""
    from tests.pg import Postgres

    try:
        server = Postgres()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        pytest.skip(f"no PostgreSQL server could start here: {e}")
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """The service's database on each backend: SQLite file, and a fresh PostgreSQL one."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reelguard.sqlite3'}"
    server = request.getfixturevalue("postgres")
    return server.fresh_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="session")
def body_measure():
    """The body measure on the default face detector, as the service wires it."""
    from safety.likeness.checker import DlibFaceEmbedder
    from safety.likeness.known_faces import face_boxes
    from safety.moderators.body import BodyMeasure

    return BodyMeasure(face_boxes(DlibFaceEmbedder()))


@pytest.fixture(scope="session")
def astronaut_head(astronaut) -> np.ndarray:
    """Eileen Collins's head and hair, nothing below the chin: a face, no body."""
    return np.ascontiguousarray(astronaut[10:250, 140:310])


@pytest.fixture(scope="session")
def exposed_body(astronaut, body_measure) -> np.ndarray:
    """A stand-in for exposed skin (no harmful media exists here): the astronaut with
    everything of her below the shoulders painted in her own cheeks' colour, grained."""
    (x, y, w, h), *_ = body_measure._detect([astronaut])[0]
    cheeks = astronaut[y + int(0.4 * h) : y + int(0.6 * h), x + int(0.3 * w) : x + int(0.7 * w)]
    painted = astronaut.copy()
    region = body_measure.person(astronaut)
    region[: y + int(1.4 * h)] = False
    grain = np.random.default_rng(0).normal(0, 6, (int(region.sum()), 3))
    painted[region] = np.clip(cheeks.reshape(-1, 3).mean(0) + grain, 0, 255).astype(np.uint8)
    return painted

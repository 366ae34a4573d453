"""Every store backend, for the conformance tests: in memory, a SQLite file and a fresh
PostgreSQL database."""

from __future__ import annotations

import time

import pytest

from safety.store.memory import MemoryStore
from safety.store.sql import SqlStore


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "memory":
        s = MemoryStore(origin="door#run")
    elif request.param == "sqlite":
        s = SqlStore(f"sqlite:///{tmp_path / 'store.sqlite3'}", origin="door#run")
    else:
        server = request.getfixturevalue("postgres")
        s = SqlStore(server.fresh_database(f"c_{time.time_ns()}"), origin="door#run")
    yield s
    s.close()

"""An identity index built offline from the database (`identities build-index`), then
served: a gallery too large for the front door to rebuild on its own time."""

from __future__ import annotations

import json

import numpy as np

from safety.likeness.identities import open_index
from safety.store.opening import open_store
from tests.support import cli, make_config


def test_build_index_writes_a_compressed_index_the_service_opens_without_rebuilding(tmp_path):
    config = make_config(tmp_path)
    store = open_store(config.database, data_dir=config.data_dir)
    rng = np.random.default_rng(0)
    people = rng.normal(size=(400, 128)).astype(np.float32)
    for i, person in enumerate(people):
        refs = person + rng.normal(size=(5, 128)).astype(np.float32) * 0.05
        store.add_identity(f"p{i}", [], "", [(f"{i}-{j}", ref) for j, ref in enumerate(refs)])
    toml = tmp_path / "reelguard.toml"
    toml.write_text(f'data_dir = "{tmp_path}"\n')

    built = cli("--config", toml, "identities", "build-index", "--kind", "ivfpq")
    assert built.returncode == 0, built.stderr
    assert "2000 vectors (ivfpq)" in built.stdout and "reindex --from-disk" in built.stdout
    assert "indexing" in built.stderr  # the progress bar

    again = cli("--config", toml, "identities", "build-index", "--json")
    assert json.loads(again.stdout) == {
        "schema": "reelguard.identity-index-file/1",
        "path": str(config.index_path),
        "vectors": 2000,
        "kind": "flat",  # 2,000 references: by their count, exact search
    }
    cli("--config", toml, "identities", "build-index", "--kind", "ivfpq")
    before = config.index_path.stat().st_mtime_ns
    index = open_index(config.index_path, store, 128, config.index_flat_max)
    assert config.index_path.stat().st_mtime_ns == before  # the same ids: not rebuilt
    assert index.kind == "ivfpq" and len(index) == 2000
    sims, ids = index.search(people[7], 1)
    assert store.identity_for_vector(int(ids[0, 0]))[1] == "p7" and sims[0, 0] > 0.99


def test_build_index_with_nobody_enrolled_says_so(tmp_path):
    toml = tmp_path / "reelguard.toml"
    toml.write_text(f'data_dir = "{tmp_path}"\n')
    open_store(make_config(tmp_path).database, data_dir=tmp_path)
    built = cli("--config", toml, "identities", "build-index")
    assert built.returncode == 3 and "nothing to index" in built.stderr

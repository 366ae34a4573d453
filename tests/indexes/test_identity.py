import numpy as np
import pytest

from indexes.identity import FaissIdentityIndex


def vectors(n: int, dim: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_finds_each_vector_by_its_stable_id(kind):
    index = FaissIdentityIndex.create(128, kind)
    data = vectors(500)
    ids = np.arange(1000, 1500)
    index.add(ids, data)
    sims, found = index.search(data[:50] * 3.0, k=1)  # scale-invariant: cosine
    assert (found[:, 0] == ids[:50]).mean() >= 0.98
    assert np.allclose(sims[found[:, 0] == ids[:50], 0], 1.0, atol=1e-4)


def test_save_is_atomic_and_round_trips(tmp_path):
    index = FaissIdentityIndex.create(128)
    index.add(np.array([7, 9]), vectors(2))
    path = tmp_path / "ids.faiss"
    index.save(path)
    assert not path.with_suffix(".faiss.tmp").exists()
    loaded = FaissIdentityIndex.open(path, 128)
    assert len(loaded) == 2
    assert loaded.search(vectors(2)[1], 1)[1][0, 0] == 9


def test_corrupt_or_mismatched_index_files_are_loud(tmp_path):
    path = tmp_path / "ids.faiss"
    path.write_bytes(b"not an index")
    with pytest.raises(RuntimeError, match="corrupt"):
        FaissIdentityIndex.open(path, 128)
    FaissIdentityIndex.create(64).save(path)
    with pytest.raises(RuntimeError, match="64-d"):
        FaissIdentityIndex.open(path, 128)


def test_empty_index_search_returns_no_ids():
    sims, ids = FaissIdentityIndex.create(128).search(vectors(1), 1)
    assert ids[0, 0] == -1

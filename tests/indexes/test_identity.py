import numpy as np
import pytest

from indexes.identity import FaissIdentityIndex, kind_for, normalize
from indexes.identity_compressed import vectors_path_for

KINDS = ["flat", "ivf", "ivfpq"]


def vectors(n: int, dim: int = 128, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


@pytest.fixture
def built(tmp_path):
    """An index of `kind` holding n random vectors under ids from 10,000 (an ivfpq one
    keeps its rows in tmp_path)."""

    def make(kind: str, n: int = 2000) -> tuple[FaissIdentityIndex, np.ndarray, np.ndarray]:
        data, ids = vectors(n), np.arange(10_000, 10_000 + n)
        if kind == "flat":
            index = FaissIdentityIndex.create(128)
            index.add(ids, data)
        else:
            rows = vectors_path_for(tmp_path / "ids.faiss")
            index = FaissIdentityIndex.build(128, ids, data, kind, vectors_path=rows)
        return index, ids, data

    return make


@pytest.mark.parametrize("kind", KINDS)
def test_finds_each_vector_by_its_stable_id(built, kind):
    index, ids, data = built(kind)
    assert index.kind == kind and len(index) == len(ids)
    sims, found = index.search(data[:100] * 3.0, k=1)  # scale-invariant: cosine
    assert (found[:, 0] == ids[:100]).mean() >= 0.99
    assert np.allclose(sims[found[:, 0] == ids[:100], 0], 1.0, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_remove_by_id_without_rebuild(built, kind):
    index, ids, data = built(kind)
    assert index.remove(ids[:10]) == 10
    assert len(index) == len(ids) - 10
    _, found = index.search(data[:10], k=1)
    assert not set(found[:, 0]) & set(ids[:10])
    index.add(ids[:1], data[:1])  # and the id can come back
    assert index.search(data[0], 1)[1][0, 0] == ids[0]


def test_flat_grows_into_ivf_past_its_limit():
    index = FaissIdentityIndex.create(128, flat_max=500)
    data = vectors(600)
    index.add(np.arange(400), data[:400])
    assert index.kind == "flat"
    index.add(np.arange(400, 600), data[400:])
    assert index.kind == "ivf" and len(index) == 600
    _, found = index.search(data[::10], 1)
    assert (found[:, 0] == np.arange(0, 600, 10)).mean() >= 0.95
    assert kind_for(10) == "flat" and kind_for(10**6) == "ivf" and kind_for(10**7) == "ivfpq"


def test_replace_swaps_in_another_index(built):
    index, _, _ = built("flat", 10)
    other = FaissIdentityIndex.build(128, np.array([5]), vectors(1, seed=9))
    index.replace(other)
    assert len(index) == 1 and index.search(vectors(1, seed=9), 1)[1][0, 0] == 5


@pytest.mark.parametrize("kind", KINDS)
def test_save_is_atomic_and_round_trips(tmp_path, built, kind):
    index, ids, data = built(kind, 1000)
    path = tmp_path / "ids.faiss"
    index.save(path)
    assert not path.with_suffix(".faiss.tmp").exists()
    loaded = FaissIdentityIndex.open(path, 128)
    assert len(loaded) == 1000 and loaded.kind == kind
    assert loaded.search(data[7], 1)[1][0, 0] == ids[7]


def test_corrupt_or_mismatched_index_files_are_loud(tmp_path):
    path = tmp_path / "ids.faiss"
    path.write_bytes(b"not an index")
    with pytest.raises(RuntimeError, match="corrupt"):
        FaissIdentityIndex.open(path, 128)
    FaissIdentityIndex.create(64).save(path)
    with pytest.raises(RuntimeError, match="64-d"):
        FaissIdentityIndex.open(path, 128)


def test_empty_index_search_returns_no_ids():
    _, ids = FaissIdentityIndex.create(128).search(vectors(1), 1)
    assert ids[0, 0] == -1


def test_normalize():
    assert np.allclose(np.linalg.norm(normalize(vectors(3)), axis=1), 1.0)


@pytest.mark.parametrize("kind", KINDS)
def test_ids_lists_every_vector_id_held(built, kind):
    index, ids, _ = built(kind)
    index.remove(ids[5:7])
    assert np.array_equal(index.ids(), np.delete(ids, [5, 6]))

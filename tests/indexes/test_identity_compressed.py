import numpy as np
import pytest

from indexes.identity import FaissIdentityIndex, normalize
from indexes.identity_compressed import DiskVectors, vectors_path_for


def gallery(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Five references a person, as bench/identity_search.py makes them; and queries:
    fresh views of 200 of those people."""
    rng = np.random.default_rng(seed)
    people = normalize(rng.normal(size=(n // 5, 128)))
    refs = normalize(np.repeat(people, 5, axis=0) + rng.normal(size=(n, 128)) * 0.35 / 11.3)
    views = normalize(people[:200] + rng.normal(size=(200, 128)) * 0.45 / 11.3)
    return refs, views


@pytest.fixture
def compressed(tmp_path):
    refs, views = gallery(20_000)
    path = tmp_path / "ids.faiss"
    index = FaissIdentityIndex.build(
        128, np.arange(20_000), refs, "ivfpq", vectors_path=vectors_path_for(path)
    )
    return index, refs, views, path


def test_similarities_are_exact_cosines_not_code_estimates(compressed):
    # The match threshold compares what search returns: a PQ estimate can be off by
    # more than the margin between a match and a stranger.
    index, refs, views, _ = compressed
    sims, ids = index.search(views, 3)
    assert index.kind == "ivfpq"
    assert np.allclose(sims, np.einsum("qd,qkd->qk", views, refs[ids]), atol=1e-5)
    estimates, _ = index._cpu.codes.search(views, 3)
    assert np.abs(estimates - sims).max() > 1e-3  # the codes alone would not be exact


def test_finds_the_exact_nearest_reference_like_flat_search(compressed):
    index, refs, views, _ = compressed
    exact = FaissIdentityIndex.build(128, np.arange(len(refs)), refs, "flat")
    found, truth = index.search(views, 1)[1][:, 0], exact.search(views, 1)[1][:, 0]
    assert (found == truth).mean() >= 0.99


def test_a_missing_or_short_vectors_file_is_refused_when_loading(compressed):
    # Refused whole at load (the caller rebuilds from the store), not one search at a time.
    index, _, _, path = compressed
    index.save(path)
    rows = vectors_path_for(path)
    data = rows.read_bytes()
    rows.write_bytes(data[: len(data) // 2])
    with pytest.raises(RuntimeError, match="shorter"):
        FaissIdentityIndex.open(path, 128)
    rows.unlink()
    with pytest.raises(RuntimeError, match="missing"):
        FaissIdentityIndex.open(path, 128)


def test_an_ivfpq_index_needs_a_place_for_its_vectors():
    refs, _ = gallery(2000)
    with pytest.raises(ValueError, match="vectors_path"):
        FaissIdentityIndex.build(128, np.arange(2000), refs, "ivfpq")


def test_disk_vectors_are_rows_by_id(tmp_path):
    rows = DiskVectors(tmp_path / "v", 4)
    data = np.arange(20, dtype=np.float32).reshape(5, 4)
    rows.write(np.array([7, 3, 4, 5, 100]), data)  # unsorted, with gaps
    assert np.array_equal(rows.read(np.array([100, 3, 7])), data[[4, 1, 0]])
    assert (tmp_path / "v").stat().st_size == 101 * 16
    with pytest.raises(RuntimeError, match="no vector 101"):
        rows.read(np.array([101]))
    with pytest.raises(ValueError, match="non-negative"):
        rows.write(np.array([-1]), data[:1])

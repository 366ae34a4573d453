import numpy as np
import pytest

from indexes.manifests import VPDQ_ALG, Fingerprint, ManifestRecord, ManifestRepository
from indexes.pdq import to_hex
from safety.store.sql import SqlStore


@pytest.fixture
def store(tmp_path):
    s = SqlStore(f"sqlite:///{tmp_path / 'reelguard.sqlite3'}")
    yield s
    s.close()


RNG = np.random.default_rng(0)


def video(frames: int = 4) -> np.ndarray:
    return RNG.integers(0, 2, (frames, 256))


def record(manifest_id: str, bits: np.ndarray) -> ManifestRecord:
    hashes = [to_hex(b) for b in bits]
    return ManifestRecord(manifest_id, VPDQ_ALG, hashes, b"manifest-" + manifest_id.encode(), "")


def query(bits: np.ndarray, flip: int) -> Fingerprint:
    copy = bits.copy()
    copy[:, :flip] ^= 1  # a re-encode moves each frame's hash a little
    return Fingerprint(VPDQ_ALG, [to_hex(b) for b in copy], [0.0] * len(copy))


def test_a_perturbed_copy_finds_its_manifest_among_many(store):
    videos = {f"{i:032x}": video() for i in range(200)}
    repo = ManifestRepository(store)
    for manifest_id, bits in videos.items():
        repo.remember(record(manifest_id, bits))
    found = repo.lookup(query(videos[f"{57:032x}"], flip=12))
    assert found.record.manifest_id == f"{57:032x}"
    assert found.record.manifest == b"manifest-" + f"{57:032x}".encode()
    assert (found.distance, found.matched_frames) == (12, 1.0)


def test_too_few_matching_frames_is_no_match(store):
    bits = video()
    repo = ManifestRepository(store)
    repo.remember(record("a" * 32, bits))
    mostly_other = np.concatenate([bits[:1], video(3)])  # 1 frame of 4 matches
    assert repo.lookup(query(mostly_other, flip=0)) is None
    assert repo.lookup(query(bits, flip=40)) is None  # every frame beyond 31 bits


def test_more_matching_frames_beat_a_smaller_distance(store):
    bits = video()
    copy = bits.copy()
    copy[:, :20] ^= 1
    repo = ManifestRepository(store)
    repo.remember(record("a" * 32, np.concatenate([copy[:2], video(2)])))  # 2 of 4, exact
    repo.remember(record("b" * 32, bits))  # all 4 frames, 20 bits away
    found = repo.lookup(query(bits, flip=20))
    assert (found.record.manifest_id, found.distance) == ("b" * 32, 20)


def test_a_repository_sees_what_another_one_stored_on_the_same_store(store, tmp_path):
    reader = ManifestRepository(SqlStore(f"sqlite:///{tmp_path / 'reelguard.sqlite3'}"))
    bits = video()
    ManifestRepository(store).remember(record("c" * 32, bits))
    assert reader.lookup(query(bits, flip=3)).record.manifest_id == "c" * 32

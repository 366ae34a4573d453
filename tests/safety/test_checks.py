"""Running the checks: a check past its deadline fails closed and is stopped."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from indexes.identity import FaissIdentityIndex
from media.decode import Frame
from safety.checks import Checks
from safety.job import Clip
from safety.likeness.checker import LikenessChecker
from safety.likeness.face_pool import ProcessEmbedderPool
from safety.verdict import Action, Stage
from tests.safety.likeness.stuck_faces import StuckOnRed


class Returned:
    """Wraps a moderator and says when its score call gave its thread back."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.model, self.model_version = inner.name, inner.model, inner.model_version
        self.categories = inner.categories
        self.calibration = getattr(inner, "calibration", {})
        self.returned = threading.Event()

    def score(self, subject, frames):
        try:
            return self.inner.score(subject, frames)
        finally:
            self.returned.set()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def frames(red: bool) -> list[Frame]:
    pixels = np.zeros((32, 32, 3), np.uint8)
    pixels[0, 0, 0] = 255 if red else 0
    return [Frame(0.0, pixels), Frame(0.5, pixels.copy())]


def test_a_face_check_past_its_deadline_is_killed_and_gives_back_its_thread(running, tmp_path):
    service = running.service
    policy = service.policies.for_tenant("t")
    pool = ProcessEmbedderPool(1, make_embedder=partial(StuckOnRed, str(tmp_path)))
    one_thread = ThreadPoolExecutor(max_workers=1)
    try:
        checker = Returned(
            LikenessChecker(pool, FaissIdentityIndex.create(pool.dim), lambda _: None)
        )
        checks = Checks(
            prompt_moderators=[],
            image_moderators=[checker],
            consent=service.gate.checks.consent,
            submit=one_thread.submit,
            check_timeout_s=1.0,
        )
        first = pool.worker_pids()
        verdict = checks.evaluate(
            Stage.POST_CHECK, None, [Clip("output_frame", frames(True))], "t", "", policy
        )
        assert verdict.action == Action.BLOCK
        assert any("timed out after 1 s" in r.detail for r in verdict.reasons)
        # The stuck call returned (it would otherwise sleep an hour on the only thread) ...
        assert checker.returned.wait(10)
        # ... because its worker was killed; a fresh one took its place.
        (stuck,) = [int(p.name) for p in tmp_path.iterdir()]
        assert stuck in first
        deadline = time.monotonic() + 10
        while alive(stuck) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(stuck)
        assert pool.restarts == 1
        # The same single thread and the new worker serve the next check in time.
        checker.returned.clear()
        verdict = checks.evaluate(
            Stage.POST_CHECK, None, [Clip("output_frame", frames(False))], "t", "", policy
        )
        (likeness,) = verdict.checks
        assert likeness.ok and likeness.seconds < 1.0, likeness
        assert stuck not in pool.worker_pids()
    finally:
        one_thread.shutdown(wait=False, cancel_futures=True)
        pool.close()


class Scored:
    """A moderator that reports one finding after `delay_s`."""

    def __init__(self, name, category, score, delay_s=0.0):
        self.name, self.model, self.model_version = name, "test", "1"
        self.categories, self._finding, self.delay_s = (category,), (category, score), delay_s
        self.calibration = {category: "a test's own scores"}

    def score(self, subject, frames):
        time.sleep(self.delay_s)
        from safety.verdict import Finding

        category, score = self._finding
        return [Finding(self.name, category, subject, score)]


class OneClearance:
    """An AllowlistStore holding one clearance (the seam `Checks` reads through)."""

    def __init__(self, clearance):
        self.rows = [clearance]

    def clearances(self, tenant, content_sha256, now):
        return [c for c in self.rows if c.tenant == tenant and c.content_sha256 == content_sha256]


def test_a_cleared_finding_does_not_stop_the_slower_checks(running):
    """The reviewer cleared `sexual` on this input; a slow hash-bank-like check would
    still block. Stopping early on the cleared finding used to leave that check unrun
    and the verdict ALLOW."""
    from safety.policy.allowlist import Allowlist
    from safety.store.records import Clearance

    service = running.service
    cleared = Clearance(
        "content", "t-1", "reviewer", "sha-of-input", "sexual", "t", subject="input_image"
    )
    policy = service.policies.for_tenant("t")
    pool = ThreadPoolExecutor(max_workers=4)
    try:
        checks = Checks(
            prompt_moderators=[],
            image_moderators=[
                Scored("fast", "sexual", 0.99),
                Scored("slow", "hash_match", 1.0, 0.3),
            ],
            consent=service.gate.checks.consent,
            submit=pool.submit,
            allowlist=Allowlist(OneClearance(cleared)),
        )
        clip = Clip("input_image", frames(False)[:1])
        verdict = checks.evaluate(Stage.PRE_CHECK, None, [clip], "t", "", policy, "sha-of-input")
    finally:
        pool.shutdown()
    assert verdict.action == Action.BLOCK
    assert [r.category for r in verdict.reasons] == ["hash_match"]
    assert all(c.ran for c in verdict.checks)


def test_a_block_does_not_hide_a_match(tmp_path, astronaut):
    """A banked input image is blocked by the hash bank long before faces are embedded;
    the likeness check used to be stopped with the rest, so the decision never said who
    was depicted. It completes now; the checks that were stopped say why."""
    from indexes.hashbank import media_hashes
    from media.decode import decode_image
    from tests.safety.domain import build_domain
    from tests.support import encode

    d = build_domain(tmp_path)
    d.enroller.enroll("Eileen Collins", [], [decode_image(encode(astronaut), max_pixels=10**8)])
    d.banks.create("known")
    d.banks.add("known", media_hashes([astronaut]), "m")
    verdict = d.generate(encode(astronaut)).verdict
    assert verdict.action == Action.BLOCK and verdict.stage == Stage.PRE_CHECK
    assert "hash_match" in {r.category for r in verdict.reasons}
    assert "Eileen Collins" in {f.identity_name for f in verdict.findings}
    likeness = next(c for c in verdict.checks if c.name == "likeness")
    assert likeness.ran and likeness.ok
    for run in verdict.checks:
        assert run.ran or run.error.startswith("stopped: another check blocked (hashbank")
    assert not any("no configured model evaluates" in f.detail for f in verdict.findings)

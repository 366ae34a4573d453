"""The domain on the in-memory store: the gate, its review queue, consent, the allowlist
and likeness, wired as safety/service/app.py wires them but with no server, database,
worker process or Ray. What the gate, review, consent and allowlist tests stand on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from generator.kenburns import KenBurnsGenerator
from generator.performance import PerformanceTransfer
from indexes.hashbank import HashBanks
from indexes.identity import FaissIdentityIndex
from indexes.manifests import ManifestRepository
from safety import auth as roles
from safety.auth import ALL_TENANTS, Principal
from safety.gate import Gate, ReviewSettings
from safety.intake import Intake
from safety.job import OutputSpec
from safety.likeness.checker import DlibFaceEmbedder, LikenessChecker
from safety.likeness.consent import ConsentRegistry
from safety.likeness.identities import Enroller, enrolled_names
from safety.likeness.known_faces import FaceMemory, face_boxes
from safety.likeness.minors import ApparentAge, MinorsCheck, sexual_scores
from safety.moderators.body import BodyMeasure
from safety.moderators.evidence import Evidence
from safety.moderators.plugins import Moderators, Needs, configured
from safety.policy.allowlist import Allowlist
from safety.policy.loading import PolicySet
from safety.service.config import Config
from safety.store.memory import MemoryStore
from safety.store.shared_media import SharedMedia
from signing.authorization import AuthorizedSigner
from signing.keys import init_dev_chain
from signing.manifest import C2paManifestSigner
from signing.signer import KeyFileSigner


@dataclass
class Domain:
    store: MemoryStore
    gate: Gate
    enroller: Enroller
    consent: ConsentRegistry
    banks: HashBanks
    allowlist: Allowlist
    policies: PolicySet
    anchors: str  # the development root the outputs are signed under, PEM
    intake: Intake

    @property
    def review(self):
        return self.gate.review

    def generate(
        self,
        image: bytes,
        tenant: str = "studio-a",
        driving: bytes | None = None,
        prompt: str = "a portrait, slowly zooming",
    ):
        """A Generate request's last event (Completed, Blocked, Held or Failed)."""
        job = self.intake.generate_job(
            uuid.uuid4().hex,
            tenant,
            prompt,
            image,
            OutputSpec(96, 96, 24, 12, 0),
            driving,
        )
        return list(self.gate.generate(job))[-1]


# Who acts, as the front door would authenticate them.
REVIEWER = Principal("rev-1", "reviewer one", ALL_TENANTS, roles.REVIEWER)
OTHER_REVIEWER = Principal("rev-2", "reviewer two", ALL_TENANTS, roles.REVIEWER)
SENIOR = Principal("senior-1", "senior one", ALL_TENANTS, roles.SENIOR_REVIEWER)
OTHER_SENIOR = Principal("senior-2", "senior two", ALL_TENANTS, roles.SENIOR_REVIEWER)


class Models:
    """The models, loaded once per test session: a domain per test shares them."""

    _loaded: tuple | None = None

    @classmethod
    def get(cls):
        if cls._loaded is None:
            embedder = DlibFaceEmbedder(min_face_size=20)
            cls._loaded = (embedder, ApparentAge(), PerformanceTransfer())
        return cls._loaded

    _body: tuple[FaceMemory, BodyMeasure] | None = None

    @classmethod
    def body(cls) -> tuple[FaceMemory, BodyMeasure]:
        if cls._body is None:
            memory = FaceMemory(face_boxes(cls.get()[0]))
            cls._body = (memory, BodyMeasure(memory))
        return cls._body


def build_domain(tmp: Path, **settings) -> Domain:
    """A fresh domain: an empty store, nobody enrolled, the default moderators; `settings`
    are Config fields (prompt_blocklist, policy, review_lease_s ...)."""
    config = Config(data_dir=tmp, **settings)
    store = MemoryStore(origin="domain#test")
    embedder, age, performance = Models.get()
    banks = HashBanks(store)

    needs = Needs(partial(enrolled_names, store), banks)
    moderators = Moderators.build(configured(config), config, needs)
    index = FaissIdentityIndex.create(embedder.dim)
    faces, body = Models.body()
    evidence = Evidence(body, moderators.sexual_signals)
    minors = MinorsCheck(age, [sexual_scores(m) for m in moderators.sexual_signals], body=body)
    likeness = LikenessChecker(embedder, index, store.identity_for_vector, minors, faces)
    chain = init_dev_chain(tmp / "keys")
    consent = ConsentRegistry(store, store)
    allowlist = Allowlist(store)
    policies = PolicySet(config.policy, config.policy_dir)
    gate = Gate(
        prompt_moderators=moderators.text,
        image_moderators=moderators.with_visual(likeness).visual,
        policies=policies,
        consent=consent,
        manifest_signer=AuthorizedSigner(
            C2paManifestSigner(KeyFileSigner(chain.key, chain.chain)), store
        ),
        manifests=ManifestRepository(store),
        store=store,
        work_dir=tmp / "work",
        sampling=config.sampling,
        review=ReviewSettings(
            SharedMedia(store, tmp / "media"),
            banks,
            reject_bank=config.review_reject_bank,
            lease_s=config.review_lease_s,
        ),
        allowlist=allowlist,
        evidence=evidence,
    )
    enroller = Enroller(embedder, index, store, tmp / "identities.faiss", config.face_min_size)
    intake = Intake(config.limits, [KenBurnsGenerator(), performance])
    return Domain(
        store,
        gate,
        enroller,
        consent,
        banks,
        allowlist,
        policies,
        chain.root_cert.read_text(),
        intake,
    )

"""Generation: Generate streams a request through the gate; GetResult follows a held one.

Idempotency keys live here: a retry with the same key replays the first result."""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import GENERATOR_CLIENT, Principal
from safety.errors import (
    Busy,
    InvalidInput,
    NotFound,
)
from safety.job import (
    Accepted,
    Blocked,
    Completed,
    Failed,
    GenerateJob,
    Held,
    OutputSpec,
    Progress,
)
from safety.observability import REQUEST_ID
from safety.review.queue import APPROVED, PENDING, REJECTED
from safety.service.api.convert import (
    client_names,
    output_chunks,
    review_verdict_pb,
    verdict_pb,
)
from safety.service.api.guard import MAY_GENERATE, Servicer, guarded
from safety.store.shared_media import MediaGone
from safety.verdict import Verdict

log = logging.getLogger("reelguard.requests")
CLAIM_MARGIN_S = 60.0  # an idempotency claim's lease past max_generation_s


TERMINAL = ("completed", "blocked", "failed", "held")


class GenerationServicer(Servicer, rpc.GenerationServicer):
    @guarded(*MAY_GENERATE)
    def Generate(self, request: pb.GenerateRequest, context, caller: Principal):
        tenant, key = caller.tenant_for(request.tenant), request.idempotency_key
        # The call's request id (the client's x-request-id, or minted by the guard): the
        # one Accepted returns and every log line of this request carries.
        request_id = REQUEST_ID.get() or uuid.uuid4().hex
        yield from self._generate(request, context, caller, tenant, key, request_id)

    def _generate(self, request, context, caller, tenant: str, key: str, request_id: str):
        if key:
            previous = self._claim(tenant, key, request, request_id)
            if previous is not None:
                yield from self._replay(previous)
                return
        finished = False
        try:
            # A slot first: over a ceiling the caller hears so before any decoding.
            with self.service.admission.slot(tenant):
                job = self._job(request, request_id, tenant)
                # The RPC ending for any reason (done, cancelled, deadline) stops generating.
                context.add_callback(job.cancel.set)
                for event in self._events(job, caller, keep_output=bool(key)):
                    final = event.WhichOneof("event") in TERMINAL
                    if final:
                        _log_outcome(event, tenant, caller.client_id)
                    # A request cut short by its client is not a result to replay.
                    if key and final and not job.cancel.is_set():
                        self.service.store.finish_idempotency(
                            tenant,
                            key,
                            event.SerializeToString(),
                            self._kept(request_id),
                            self.service.claim_owner,
                        )
                        finished = True
                    yield event
        finally:
            if key and not finished:
                self.service.store.release_idempotency(tenant, key, self.service.claim_owner)

    def _claim(self, tenant: str, key: str, request: pb.GenerateRequest, request_id: str):
        """None if this request now owns the key; else the earlier request's record."""
        body = pb.GenerateRequest()
        body.CopyFrom(request)
        body.ClearField("idempotency_key")
        digest = hashlib.sha256(body.SerializeToString(deterministic=True)).hexdigest()
        # The claim outlives any generation this front door lets run (then it fails).
        lease_s = self.service.config.max_generation_s + CLAIM_MARGIN_S
        record = self.service.store.claim_idempotency(
            tenant, key, digest, request_id, self.service.claim_owner, lease_s
        )
        if record is None:
            return None
        if record.request_sha256 != digest:
            raise InvalidInput(
                f"idempotency key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        if record.terminal is None:
            raise Busy(f"a request with idempotency key {key!r} is still running; retry later")
        return record

    def _replay(self, record):
        """The earlier request's result again: same request id, output and verdict."""
        terminal = pb.GenerateEvent.FromString(record.terminal)
        yield pb.GenerateEvent(accepted=pb.Accepted(request_id=record.request_id))
        if terminal.WhichOneof("event") == "completed":
            yield from self._media_events(
                record.output_path, "send the request again with a new idempotency key"
            )
        yield terminal

    def _kept(self, request_id: str) -> str:
        key = f"outputs/{request_id}.mp4"
        return key if self.service.review.media.exists(key) else ""

    def _media_events(self, key: str, remedy: str):
        """A kept or released output as output chunks, from any front door."""
        try:
            path = self.service.review.media.path(key)
        except MediaGone:
            raise NotFound(f"the output is no longer kept; {remedy}") from None
        yield from _chunks(path)

    def _job(self, request: pb.GenerateRequest, request_id: str, tenant: str) -> GenerateJob:
        o = request.output
        return self.service.intake.generate_job(
            request_id,
            tenant,
            request.prompt,
            request.image.data if request.HasField("image") else None,
            OutputSpec(o.width, o.height, o.fps, o.num_frames, o.seed),
            request.driving_video.data if request.HasField("driving_video") else None,
        )

    def _events(self, job: GenerateJob, caller: Principal, keep_output: bool = False):
        def told(verdict):
            return verdict_pb(self.told(caller, job.tenant, verdict))

        for event in self.service.gate.generate(job):
            if isinstance(event, Accepted):
                yield pb.GenerateEvent(accepted=pb.Accepted(request_id=event.request_id))
            elif isinstance(event, Progress):
                yield pb.GenerateEvent(
                    progress=pb.Progress(
                        stage=int(event.stage),
                        done=event.done,
                        total=event.total,
                        message=event.message,
                    )
                )
            elif isinstance(event, Completed):
                if keep_output:  # a retry with the same idempotency key gets this file
                    self.service.review.media.keep(f"outputs/{job.request_id}.mp4", event.path)
                yield from _chunks(event.path)
                yield pb.GenerateEvent(
                    completed=pb.Completed(
                        mime_type=event.mime_type,
                        size=event.size,
                        sha256=event.sha256,
                        verdict=told(event.verdict),
                    )
                )
            elif isinstance(event, Blocked):
                yield pb.GenerateEvent(blocked=pb.Blocked(verdict=told(event.verdict)))
            elif isinstance(event, Failed):
                yield pb.GenerateEvent(failed=pb.Failed(stage=int(event.stage), error=event.error))
            elif isinstance(event, Held):
                yield pb.GenerateEvent(
                    held=pb.Held(ticket=event.ticket, verdict=told(event.verdict), status=PENDING)
                )

    @guarded(*MAY_GENERATE)
    def GetResult(self, request: pb.TicketRef, context, caller: Principal):
        item = self.service.review.get_for(request.ticket, caller)
        evidence = self.told(caller, item.tenant, Verdict.from_dict(item.verdict))
        # Reviewers and auditors see who decided; a generation client, that a person did.
        reviewer = (
            client_names(self.service.store)(item.decided_by)
            if item.decided_by and caller.role != GENERATOR_CLIENT
            else ""
        )
        yield pb.GenerateEvent(accepted=pb.Accepted(request_id=item.request_id))
        if item.status == APPROVED:
            yield from self._media_events(
                item.signed_path, "it was deleted from the database; ask an admin"
            )
            yield pb.GenerateEvent(
                completed=pb.Completed(
                    mime_type=item.mime_type,
                    size=self.service.review.media.size(item.signed_path),
                    sha256=item.signed_sha256,
                    verdict=review_verdict_pb(item, evidence, reviewer),
                )
            )
        elif item.status == REJECTED:
            yield pb.GenerateEvent(
                blocked=pb.Blocked(verdict=review_verdict_pb(item, evidence, reviewer))
            )
        else:
            yield pb.GenerateEvent(
                held=pb.Held(ticket=item.ticket, verdict=verdict_pb(evidence), status=item.status)
            )


def _log_outcome(event: pb.GenerateEvent, tenant: str, client: str) -> None:
    """One line per request's outcome, found by its request id (on every line): the
    verdict, its stage and decision; never the prompt or the media."""
    kind = event.WhichOneof("event")
    body = getattr(event, kind)
    has = "verdict" in body.DESCRIPTOR.fields_by_name and body.HasField("verdict")
    verdict = body.verdict if has else None
    stage = pb.Stage.Name(verdict.stage if verdict else getattr(body, "stage", 0)).lower()
    decision = verdict.decision_id if verdict else ""
    log.info(
        "request %s at %s (decision %s)",
        kind,
        stage,
        decision or "-",
        extra={"event": "outcome", "outcome": kind, "stage": stage, "decision_id": decision,
               "tenant": tenant, "client": client, "request_id": REQUEST_ID.get()},
    )  # fmt: skip


def _chunks(path: Path):
    """A file as output chunks, a block at a time (never the whole video in memory)."""
    for chunk in output_chunks(path):
        yield pb.GenerateEvent(output_chunk=chunk)

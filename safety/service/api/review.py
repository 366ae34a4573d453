"""The review queue and decision records, for reviewers and auditors."""

from __future__ import annotations

import logging

from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.auth import (
    ADMIN,
    ALL_TENANTS,
    GENERATOR_CLIENT,
    SENIOR_REVIEWER,
    Principal,
)
from safety.errors import (
    Busy,
    Forbidden,
    InvalidInput,
    NotFound,
)
from safety.observability import REQUEST_ID
from safety.review.queue import OPEN
from safety.service.api.convert import (
    allowlist_entry_pb,
    client_names,
    decision_pb,
    output_chunks,
    review_item_pb,
)
from safety.service.api.guard import ADMIN_ONLY, MAY_READ, REVIEWERS, Servicer, guarded
from safety.store.shared_media import MediaGone
from safety.verdict import Verdict

log = logging.getLogger("reelguard.requests")


class ReviewServicer(Servicer, rpc.ReviewServicer):
    @guarded(*REVIEWERS)
    def List(self, request: pb.ListReviewRequest, context, caller: Principal):
        items = self.service.review.list(
            tuple(request.statuses) or OPEN,
            request.tenant if caller.tenant == ALL_TENANTS else caller.tenant,
            request.category,
            request.min_priority,
            min(request.limit or 100, 1000),
            request.older_than_s,
        )
        names = client_names(self.service.store)
        return pb.ListReviewResponse(items=[review_item_pb(i, names) for i in items])

    @guarded(*REVIEWERS)
    def Get(self, request: pb.TicketRef, context, caller: Principal):
        item = self.service.review.get_for(request.ticket, caller)
        return review_item_pb(item, client_names(self.service.store))

    @guarded(*REVIEWERS)
    def Claim(self, request: pb.TicketRef, context, caller: Principal):
        self.service.review.get_for(request.ticket, caller)
        item = self.service.review.claim(request.ticket, caller)
        _log_review("claim", item, caller)
        return review_item_pb(item, client_names(self.service.store))

    @guarded(*REVIEWERS)
    def Decide(self, request: pb.DecideRequest, context, caller: Principal):
        if not request.tickets:
            raise InvalidInput("name at least one ticket")
        results = []
        for ticket in request.tickets:
            try:
                item = self.service.review.claim_and_decide(
                    ticket,
                    caller,
                    request.decision,
                    request.reason_code,
                    request.notes,
                    request.allowlist_content,
                    request.grant_consent,
                    request.consent_days,
                )
                _log_review(request.decision, item, caller)
                named = review_item_pb(item, client_names(self.service.store))
                results.append(pb.DecideResult(ticket=ticket, ok=True, item=named))
            except (InvalidInput, NotFound, Busy, Forbidden) as e:
                if len(request.tickets) == 1:
                    raise  # one ticket: its error is the call's status
                results.append(pb.DecideResult(ticket=ticket, ok=False, error=str(e)))
        return pb.DecideResponse(results=results)

    @guarded(*REVIEWERS)
    def Media(self, request: pb.TicketRef, context, caller: Principal):
        """The held media, a block at a time, to a reviewer who may see the item."""
        item = self.service.review.get_for(request.ticket, caller)
        try:
            path = self.service.review.media.path(item.held_path)
        except (MediaGone, ValueError):
            raise NotFound("the held media was deleted after the retention period") from None
        yield from output_chunks(path)

    @guarded(*REVIEWERS, GENERATOR_CLIENT)
    def Appeal(self, request: pb.AppealRequest, context, caller: Principal):
        self.service.review.get_for(request.ticket, caller)
        item = self.service.review.appeal(request.ticket, caller, request.reason)
        _log_review("appeal", item, caller)
        return review_item_pb(item, client_names(self.service.store))

    @guarded(SENIOR_REVIEWER, ADMIN)
    def AddGolden(self, request: pb.TicketRef, context, caller: Principal):
        item = self.service.review.add_golden(request.ticket, caller)
        _log_review("golden", item, caller)
        return review_item_pb(item, client_names(self.service.store))

    @guarded(*ADMIN_ONLY)
    def ListAllowlist(self, request: pb.ListAllowlistRequest, context, caller: Principal):
        rows = self.service.allowlist.entries(
            caller, request.tenant, min(request.limit or 100, 1000)
        )
        return pb.ListAllowlistResponse(entries=[allowlist_entry_pb(c) for c in rows])

    @guarded(*ADMIN_ONLY)
    def RemoveAllowlist(self, request: pb.AllowlistRef, context, caller: Principal):
        removed = self.service.allowlist.remove(request.id, caller)
        return allowlist_entry_pb(removed)


class DecisionsServicer(Servicer, rpc.DecisionsServicer):
    @guarded(*MAY_READ)
    def Get(self, request: pb.DecisionRef, context, caller: Principal):
        record = self.service.store.decision(request.id)
        # Another tenant's record reads exactly like a missing one: ids leak nothing.
        if record is None or not caller.sees(record["tenant"]):
            raise NotFound(f"no decision {request.id!r}")
        if "evidence" in record:  # the whole verdict: as the caller may read it
            verdict = self.told(caller, record["tenant"], Verdict.from_dict(record["evidence"]))
            record = {**record, "evidence": verdict.to_dict()}
        return decision_pb(record)

    @guarded(*MAY_READ)
    def List(self, request: pb.ListDecisionsRequest, context, caller: Principal):
        tenant = request.tenant if caller.tenant == ALL_TENANTS else caller.tenant
        limit = min(request.limit or 100, 1000)
        return pb.ListDecisionsResponse(
            decisions=[
                decision_pb(r)
                for r in self.service.store.decisions(tenant, limit, specialist=request.specialist)
            ]
        )


def _log_review(action: str, item, caller: Principal) -> None:
    """One line per review action, found by the held request's id (the one its client
    got back); the reviewer's own call is `call_id`. No prompt, no notes."""
    log.info(
        "review %s of ticket %s: now %s",
        action,
        item.ticket,
        item.status,
        extra={"event": "review", "action": action, "ticket": item.ticket,
               "status": item.status, "tenant": item.tenant, "client": caller.client_id,
               "decision_id": item.decision_id, "request_id": item.request_id,
               "call_id": REQUEST_ID.get()},
    )  # fmt: skip

"""The gRPC front door: every servicer, gRPC health and reflection on one server.

The servicers (one module per service area beside this one) are thin: they validate,
call domain code, and let `guard.py` map domain errors to statuses in one place, so a
bad request gets INVALID_ARGUMENT with a message a person can act on and the server
keeps serving.
"""

from __future__ import annotations

import logging
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

from reelguard.channel import grpc_options, server_credentials
from reelguard.v1 import reelguard_pb2 as pb
from reelguard.v1 import reelguard_pb2_grpc as rpc
from safety.service.api.admin import (
    ClientsServicer,
    ConsentServicer,
    HashBanksServicer,
    IdentitiesServicer,
    PoliciesServicer,
)
from safety.service.api.checking import ModerationServicer, ProvenanceServicer
from safety.service.api.generation import GenerationServicer
from safety.service.api.likeness import LikenessServicer
from safety.service.api.review import DecisionsServicer, ReviewServicer
from safety.service.api.shedding import ShedWhenFull
from safety.service.app import Service

log = logging.getLogger(__name__)

SERVICE_NAMES = [
    pb.DESCRIPTOR.services_by_name[n].full_name
    for n in (
        "Generation",
        "Moderation",
        "Provenance",
        "Identities",
        "Consent",
        "HashBanks",
        "Policies",
        "Decisions",
        "Clients",
        "Review",
        "Likeness",
    )
]


def _listen(server: grpc.Server, config, address: str) -> int:
    """Bind with TLS when a certificate is configured (mTLS with a client CA), else
    plaintext — on loopback only, unless the config allows insecure transport."""
    config.require_safe_transport(address, "gRPC")
    if not config.tls_cert:
        return server.add_insecure_port(address)
    if not config.tls_key:
        raise ValueError("tls_cert is set but tls_key is not")
    return server.add_secure_port(
        address, server_credentials(config.tls_cert, config.tls_key, config.tls_client_ca)
    )


# gRPC reflection's stable name (grpcurl and Postman ask it first). grpcio-reflection
# serves only v1alpha, whose messages are v1's field for field: v1 is the same servicer
# under the v1 name.
REFLECTION_V1 = "grpc.reflection.v1.ServerReflection"


def _enable_reflection_v1(service_names: list[str], server: grpc.Server) -> None:
    servicer = reflection.ReflectionServicer(service_names)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(REFLECTION_V1, {"ServerReflectionInfo": handler}),)
    )


# Threads for RPCs that hold no slot (admin, review, health probes, refusals).
SPARE_RPC_THREADS = 8


def start_server(service: Service, address: str | None = None, max_workers: int | None = None):
    """Start serving; returns (server, bound port). Health reports SERVING once up.

    Every admitted generation and media check holds a gRPC thread for as long as it
    runs, so the server has a thread for each slot and spares beside them: streams
    filling every slot never leave a Check or an admin call waiting for a thread."""
    cfg = service.config
    workers = max_workers or cfg.max_generations + cfg.max_media_checks + SPARE_RPC_THREADS
    shedding = ShedWhenFull(
        {"generation": service.admission, "media": service.media_admission}, service.metrics
    )
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
        interceptors=[shedding],  # on the polling thread: refusals before a worker's work
        # No SO_REUSEPORT (gRPC's default on Linux): a second server on a taken address
        # would silently share its requests, each on its own database. It fails to bind.
        options=[*grpc_options(service.config.max_message_bytes), ("grpc.so_reuseport", 0)],
    )
    rpc.add_GenerationServicer_to_server(GenerationServicer(service), server)
    rpc.add_ModerationServicer_to_server(ModerationServicer(service), server)
    rpc.add_ProvenanceServicer_to_server(ProvenanceServicer(service), server)
    rpc.add_IdentitiesServicer_to_server(IdentitiesServicer(service), server)
    rpc.add_ConsentServicer_to_server(ConsentServicer(service), server)
    rpc.add_HashBanksServicer_to_server(HashBanksServicer(service), server)
    rpc.add_PoliciesServicer_to_server(PoliciesServicer(service), server)
    rpc.add_DecisionsServicer_to_server(DecisionsServicer(service), server)
    rpc.add_ClientsServicer_to_server(ClientsServicer(service), server)
    rpc.add_ReviewServicer_to_server(ReviewServicer(service), server)
    rpc.add_LikenessServicer_to_server(LikenessServicer(service), server)
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflected = [
        *SERVICE_NAMES,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
        REFLECTION_V1,
    ]
    reflection.enable_server_reflection(reflected, server)
    _enable_reflection_v1(reflected, server)
    where = address or service.config.grpc_address
    try:
        port = _listen(server, service.config, where)
    except RuntimeError:  # grpc: "Failed to bind"
        port = 0
    if port == 0:
        raise RuntimeError(
            f"cannot listen on {where}: the address is taken (another reelguard serve?) "
            "or not this machine's"
        )
    server.start()
    for name in ["", *SERVICE_NAMES]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    def publish(short_name: str, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse
        name = f"{pb.DESCRIPTOR.package}.{short_name}" if short_name else ""
        health_servicer.set(name, status.SERVING if serving else status.NOT_SERVING)

    service.health.on_change(publish)
    service.health.start()
    log.info("listening on %s", address or service.config.grpc_address)
    return server, port

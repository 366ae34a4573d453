from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Action(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTION_UNSPECIFIED: _ClassVar[Action]
    ALLOW: _ClassVar[Action]
    REVIEW: _ClassVar[Action]
    BLOCK: _ClassVar[Action]

class Stage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STAGE_UNSPECIFIED: _ClassVar[Stage]
    PRE_CHECK: _ClassVar[Stage]
    GENERATING: _ClassVar[Stage]
    POST_CHECK: _ClassVar[Stage]
    SIGNING: _ClassVar[Stage]
ACTION_UNSPECIFIED: Action
ALLOW: Action
REVIEW: Action
BLOCK: Action
STAGE_UNSPECIFIED: Stage
PRE_CHECK: Stage
GENERATING: Stage
POST_CHECK: Stage
SIGNING: Stage

class Media(_message.Message):
    __slots__ = ("data", "mime_type", "filename")
    DATA_FIELD_NUMBER: _ClassVar[int]
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    mime_type: str
    filename: str
    def __init__(self, data: _Optional[bytes] = ..., mime_type: _Optional[str] = ..., filename: _Optional[str] = ...) -> None: ...

class BoundingBox(_message.Message):
    __slots__ = ("x", "y", "width", "height")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    x: int
    y: int
    width: int
    height: int
    def __init__(self, x: _Optional[int] = ..., y: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("check", "category", "subject", "score", "threshold", "action", "detail", "identity_id", "identity_name", "frame_time_s", "box", "consent", "track_id", "track_times_s", "bank", "distance", "specialist", "pdq")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_NAME_FIELD_NUMBER: _ClassVar[int]
    FRAME_TIME_S_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    CONSENT_FIELD_NUMBER: _ClassVar[int]
    TRACK_ID_FIELD_NUMBER: _ClassVar[int]
    TRACK_TIMES_S_FIELD_NUMBER: _ClassVar[int]
    BANK_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    SPECIALIST_FIELD_NUMBER: _ClassVar[int]
    PDQ_FIELD_NUMBER: _ClassVar[int]
    check: str
    category: str
    subject: str
    score: float
    threshold: float
    action: Action
    detail: str
    identity_id: str
    identity_name: str
    frame_time_s: float
    box: BoundingBox
    consent: ConsentBasis
    track_id: int
    track_times_s: _containers.RepeatedScalarFieldContainer[float]
    bank: str
    distance: int
    specialist: bool
    pdq: str
    def __init__(self, check: _Optional[str] = ..., category: _Optional[str] = ..., subject: _Optional[str] = ..., score: _Optional[float] = ..., threshold: _Optional[float] = ..., action: _Optional[_Union[Action, str]] = ..., detail: _Optional[str] = ..., identity_id: _Optional[str] = ..., identity_name: _Optional[str] = ..., frame_time_s: _Optional[float] = ..., box: _Optional[_Union[BoundingBox, _Mapping]] = ..., consent: _Optional[_Union[ConsentBasis, _Mapping]] = ..., track_id: _Optional[int] = ..., track_times_s: _Optional[_Iterable[float]] = ..., bank: _Optional[str] = ..., distance: _Optional[int] = ..., specialist: _Optional[bool] = ..., pdq: _Optional[str] = ...) -> None: ...

class ConsentBasis(_message.Message):
    __slots__ = ("grant_id", "scope", "expires_at", "grantor")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    scope: str
    expires_at: float
    grantor: str
    def __init__(self, grant_id: _Optional[str] = ..., scope: _Optional[str] = ..., expires_at: _Optional[float] = ..., grantor: _Optional[str] = ...) -> None: ...

class CheckRun(_message.Message):
    __slots__ = ("name", "model", "model_version", "ok", "error", "seconds", "stage", "not_run")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    NOT_RUN_FIELD_NUMBER: _ClassVar[int]
    name: str
    model: str
    model_version: str
    ok: bool
    error: str
    seconds: float
    stage: Stage
    not_run: bool
    def __init__(self, name: _Optional[str] = ..., model: _Optional[str] = ..., model_version: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., seconds: _Optional[float] = ..., stage: _Optional[_Union[Stage, str]] = ..., not_run: _Optional[bool] = ...) -> None: ...

class FramesChecked(_message.Message):
    __slots__ = ("subject", "checked", "total")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    subject: str
    checked: int
    total: int
    def __init__(self, subject: _Optional[str] = ..., checked: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class Verdict(_message.Message):
    __slots__ = ("action", "reasons", "findings", "checks", "policy_version", "decision_id", "stage", "unevaluated_categories", "frames_checked")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    UNEVALUATED_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    FRAMES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    action: Action
    reasons: _containers.RepeatedCompositeFieldContainer[Finding]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    checks: _containers.RepeatedCompositeFieldContainer[CheckRun]
    policy_version: str
    decision_id: str
    stage: Stage
    unevaluated_categories: _containers.RepeatedScalarFieldContainer[str]
    frames_checked: _containers.RepeatedCompositeFieldContainer[FramesChecked]
    def __init__(self, action: _Optional[_Union[Action, str]] = ..., reasons: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ..., checks: _Optional[_Iterable[_Union[CheckRun, _Mapping]]] = ..., policy_version: _Optional[str] = ..., decision_id: _Optional[str] = ..., stage: _Optional[_Union[Stage, str]] = ..., unevaluated_categories: _Optional[_Iterable[str]] = ..., frames_checked: _Optional[_Iterable[_Union[FramesChecked, _Mapping]]] = ...) -> None: ...

class OutputSpec(_message.Message):
    __slots__ = ("width", "height", "fps", "num_frames", "seed")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    NUM_FRAMES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    fps: int
    num_frames: int
    seed: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[int] = ..., num_frames: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class GenerateRequest(_message.Message):
    __slots__ = ("prompt", "image", "driving_video", "tenant", "idempotency_key", "output")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DRIVING_VIDEO_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    image: Media
    driving_video: Media
    tenant: str
    idempotency_key: str
    output: OutputSpec
    def __init__(self, prompt: _Optional[str] = ..., image: _Optional[_Union[Media, _Mapping]] = ..., driving_video: _Optional[_Union[Media, _Mapping]] = ..., tenant: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., output: _Optional[_Union[OutputSpec, _Mapping]] = ...) -> None: ...

class Accepted(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class Progress(_message.Message):
    __slots__ = ("stage", "done", "total", "message")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    stage: Stage
    done: int
    total: int
    message: str
    def __init__(self, stage: _Optional[_Union[Stage, str]] = ..., done: _Optional[int] = ..., total: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class OutputChunk(_message.Message):
    __slots__ = ("data", "offset")
    DATA_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    offset: int
    def __init__(self, data: _Optional[bytes] = ..., offset: _Optional[int] = ...) -> None: ...

class Completed(_message.Message):
    __slots__ = ("mime_type", "size", "sha256", "verdict")
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    mime_type: str
    size: int
    sha256: str
    verdict: Verdict
    def __init__(self, mime_type: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ...) -> None: ...

class Blocked(_message.Message):
    __slots__ = ("verdict",)
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    verdict: Verdict
    def __init__(self, verdict: _Optional[_Union[Verdict, _Mapping]] = ...) -> None: ...

class Failed(_message.Message):
    __slots__ = ("stage", "error")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    stage: Stage
    error: str
    def __init__(self, stage: _Optional[_Union[Stage, str]] = ..., error: _Optional[str] = ...) -> None: ...

class Held(_message.Message):
    __slots__ = ("ticket", "verdict", "status")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ticket: str
    verdict: Verdict
    status: str
    def __init__(self, ticket: _Optional[str] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ..., status: _Optional[str] = ...) -> None: ...

class GenerateEvent(_message.Message):
    __slots__ = ("accepted", "progress", "output_chunk", "completed", "blocked", "failed", "held")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CHUNK_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    accepted: Accepted
    progress: Progress
    output_chunk: OutputChunk
    completed: Completed
    blocked: Blocked
    failed: Failed
    held: Held
    def __init__(self, accepted: _Optional[_Union[Accepted, _Mapping]] = ..., progress: _Optional[_Union[Progress, _Mapping]] = ..., output_chunk: _Optional[_Union[OutputChunk, _Mapping]] = ..., completed: _Optional[_Union[Completed, _Mapping]] = ..., blocked: _Optional[_Union[Blocked, _Mapping]] = ..., failed: _Optional[_Union[Failed, _Mapping]] = ..., held: _Optional[_Union[Held, _Mapping]] = ...) -> None: ...

class TicketRef(_message.Message):
    __slots__ = ("ticket",)
    TICKET_FIELD_NUMBER: _ClassVar[int]
    ticket: str
    def __init__(self, ticket: _Optional[str] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("prompt", "media", "tenant")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    media: Media
    tenant: str
    def __init__(self, prompt: _Optional[str] = ..., media: _Optional[_Union[Media, _Mapping]] = ..., tenant: _Optional[str] = ...) -> None: ...

class SignRequest(_message.Message):
    __slots__ = ("media", "ingredients", "tenant", "generator_name", "generator_version", "model_id", "digital_source_type")
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    INGREDIENTS_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_NAME_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DIGITAL_SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    media: Media
    ingredients: _containers.RepeatedCompositeFieldContainer[Media]
    tenant: str
    generator_name: str
    generator_version: str
    model_id: str
    digital_source_type: str
    def __init__(self, media: _Optional[_Union[Media, _Mapping]] = ..., ingredients: _Optional[_Iterable[_Union[Media, _Mapping]]] = ..., tenant: _Optional[str] = ..., generator_name: _Optional[str] = ..., generator_version: _Optional[str] = ..., model_id: _Optional[str] = ..., digital_source_type: _Optional[str] = ...) -> None: ...

class SignResponse(_message.Message):
    __slots__ = ("verdict", "signed")
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_FIELD_NUMBER: _ClassVar[int]
    verdict: Verdict
    signed: Media
    def __init__(self, verdict: _Optional[_Union[Verdict, _Mapping]] = ..., signed: _Optional[_Union[Media, _Mapping]] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("media",)
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    media: Media
    def __init__(self, media: _Optional[_Union[Media, _Mapping]] = ...) -> None: ...

class ValidationStatus(_message.Message):
    __slots__ = ("code", "explanation", "url", "kind")
    CODE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    code: str
    explanation: str
    url: str
    kind: str
    def __init__(self, code: _Optional[str] = ..., explanation: _Optional[str] = ..., url: _Optional[str] = ..., kind: _Optional[str] = ...) -> None: ...

class VerifyReport(_message.Message):
    __slots__ = ("status", "summary", "signer", "issuer", "actions", "ingredients", "moderation_json", "failures", "report_json", "recovered_manifest")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[VerifyReport.Status]
        TRUSTED: _ClassVar[VerifyReport.Status]
        VALID_UNTRUSTED: _ClassVar[VerifyReport.Status]
        INVALID: _ClassVar[VerifyReport.Status]
        NO_MANIFEST: _ClassVar[VerifyReport.Status]
    STATUS_UNSPECIFIED: VerifyReport.Status
    TRUSTED: VerifyReport.Status
    VALID_UNTRUSTED: VerifyReport.Status
    INVALID: VerifyReport.Status
    NO_MANIFEST: VerifyReport.Status
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    SIGNER_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    INGREDIENTS_FIELD_NUMBER: _ClassVar[int]
    MODERATION_JSON_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    REPORT_JSON_FIELD_NUMBER: _ClassVar[int]
    RECOVERED_MANIFEST_FIELD_NUMBER: _ClassVar[int]
    status: VerifyReport.Status
    summary: str
    signer: str
    issuer: str
    actions: _containers.RepeatedScalarFieldContainer[str]
    ingredients: _containers.RepeatedScalarFieldContainer[str]
    moderation_json: str
    failures: _containers.RepeatedCompositeFieldContainer[ValidationStatus]
    report_json: str
    recovered_manifest: str
    def __init__(self, status: _Optional[_Union[VerifyReport.Status, str]] = ..., summary: _Optional[str] = ..., signer: _Optional[str] = ..., issuer: _Optional[str] = ..., actions: _Optional[_Iterable[str]] = ..., ingredients: _Optional[_Iterable[str]] = ..., moderation_json: _Optional[str] = ..., failures: _Optional[_Iterable[_Union[ValidationStatus, _Mapping]]] = ..., report_json: _Optional[str] = ..., recovered_manifest: _Optional[str] = ...) -> None: ...

class RecheckRequest(_message.Message):
    __slots__ = ("media", "tolerance")
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    media: Media
    tolerance: float
    def __init__(self, media: _Optional[_Union[Media, _Mapping]] = ..., tolerance: _Optional[float] = ...) -> None: ...

class ScoreRecheck(_message.Message):
    __slots__ = ("check", "category", "recorded", "rechecked", "reproduces")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    RECHECKED_FIELD_NUMBER: _ClassVar[int]
    REPRODUCES_FIELD_NUMBER: _ClassVar[int]
    check: str
    category: str
    recorded: float
    rechecked: float
    reproduces: bool
    def __init__(self, check: _Optional[str] = ..., category: _Optional[str] = ..., recorded: _Optional[float] = ..., rechecked: _Optional[float] = ..., reproduces: _Optional[bool] = ...) -> None: ...

class RecheckReport(_message.Message):
    __slots__ = ("decision_id", "recorded_action", "rechecked_action", "reproduces", "frames", "scores", "refused", "replayed", "held_action", "held_rechecked_action")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDED_ACTION_FIELD_NUMBER: _ClassVar[int]
    RECHECKED_ACTION_FIELD_NUMBER: _ClassVar[int]
    REPRODUCES_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    REPLAYED_FIELD_NUMBER: _ClassVar[int]
    HELD_ACTION_FIELD_NUMBER: _ClassVar[int]
    HELD_RECHECKED_ACTION_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    recorded_action: str
    rechecked_action: str
    reproduces: bool
    frames: int
    scores: _containers.RepeatedCompositeFieldContainer[ScoreRecheck]
    refused: _containers.RepeatedScalarFieldContainer[str]
    replayed: _containers.RepeatedScalarFieldContainer[str]
    held_action: str
    held_rechecked_action: str
    def __init__(self, decision_id: _Optional[str] = ..., recorded_action: _Optional[str] = ..., rechecked_action: _Optional[str] = ..., reproduces: _Optional[bool] = ..., frames: _Optional[int] = ..., scores: _Optional[_Iterable[_Union[ScoreRecheck, _Mapping]]] = ..., refused: _Optional[_Iterable[str]] = ..., replayed: _Optional[_Iterable[str]] = ..., held_action: _Optional[str] = ..., held_rechecked_action: _Optional[str] = ...) -> None: ...

class TrustListRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TrustAnchors(_message.Message):
    __slots__ = ("trust_anchors_pem", "tsa_anchors_pem", "subjects", "sha256")
    TRUST_ANCHORS_PEM_FIELD_NUMBER: _ClassVar[int]
    TSA_ANCHORS_PEM_FIELD_NUMBER: _ClassVar[int]
    SUBJECTS_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    trust_anchors_pem: str
    tsa_anchors_pem: str
    subjects: _containers.RepeatedScalarFieldContainer[str]
    sha256: str
    def __init__(self, trust_anchors_pem: _Optional[str] = ..., tsa_anchors_pem: _Optional[str] = ..., subjects: _Optional[_Iterable[str]] = ..., sha256: _Optional[str] = ...) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("name", "aliases", "images", "external_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    images: _containers.RepeatedCompositeFieldContainer[Media]
    external_id: str
    def __init__(self, name: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., images: _Optional[_Iterable[_Union[Media, _Mapping]]] = ..., external_id: _Optional[str] = ...) -> None: ...

class Reference(_message.Message):
    __slots__ = ("vector_id", "image_sha256", "created_at")
    VECTOR_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    vector_id: int
    image_sha256: str
    created_at: float
    def __init__(self, vector_id: _Optional[int] = ..., image_sha256: _Optional[str] = ..., created_at: _Optional[float] = ...) -> None: ...

class Identity(_message.Message):
    __slots__ = ("id", "name", "aliases", "reference_count", "external_id", "created_at", "references", "grants", "warnings")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REFERENCES_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    aliases: _containers.RepeatedScalarFieldContainer[str]
    reference_count: int
    external_id: str
    created_at: float
    references: _containers.RepeatedCompositeFieldContainer[Reference]
    grants: _containers.RepeatedCompositeFieldContainer[ConsentGrant]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., aliases: _Optional[_Iterable[str]] = ..., reference_count: _Optional[int] = ..., external_id: _Optional[str] = ..., created_at: _Optional[float] = ..., references: _Optional[_Iterable[_Union[Reference, _Mapping]]] = ..., grants: _Optional[_Iterable[_Union[ConsentGrant, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class IdentityRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListIdentitiesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListIdentitiesResponse(_message.Message):
    __slots__ = ("identities",)
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    identities: _containers.RepeatedCompositeFieldContainer[Identity]
    def __init__(self, identities: _Optional[_Iterable[_Union[Identity, _Mapping]]] = ...) -> None: ...

class ReloadIndexRequest(_message.Message):
    __slots__ = ("rebuild",)
    REBUILD_FIELD_NUMBER: _ClassVar[int]
    rebuild: bool
    def __init__(self, rebuild: _Optional[bool] = ...) -> None: ...

class ReloadIndexResponse(_message.Message):
    __slots__ = ("vectors", "kind")
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    vectors: int
    kind: str
    def __init__(self, vectors: _Optional[int] = ..., kind: _Optional[str] = ...) -> None: ...

class ConsentGrant(_message.Message):
    __slots__ = ("id", "tenant", "identity_id", "scopes", "grantor", "created_at", "expires_at", "revoked_at", "revoked_by", "active", "basis")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant: str
    identity_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    grantor: str
    created_at: float
    expires_at: float
    revoked_at: float
    revoked_by: str
    active: bool
    basis: str
    def __init__(self, id: _Optional[str] = ..., tenant: _Optional[str] = ..., identity_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., grantor: _Optional[str] = ..., created_at: _Optional[float] = ..., expires_at: _Optional[float] = ..., revoked_at: _Optional[float] = ..., revoked_by: _Optional[str] = ..., active: _Optional[bool] = ..., basis: _Optional[str] = ...) -> None: ...

class GrantRequest(_message.Message):
    __slots__ = ("tenant", "identity_id", "scopes", "expires_at", "grantor")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    GRANTOR_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    identity_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    expires_at: float
    grantor: str
    def __init__(self, tenant: _Optional[str] = ..., identity_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., expires_at: _Optional[float] = ..., grantor: _Optional[str] = ...) -> None: ...

class RevokeRequest(_message.Message):
    __slots__ = ("grant_id", "revoked_by")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    REVOKED_BY_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    revoked_by: str
    def __init__(self, grant_id: _Optional[str] = ..., revoked_by: _Optional[str] = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("tenant", "identity_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    identity_id: str
    def __init__(self, tenant: _Optional[str] = ..., identity_id: _Optional[str] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants",)
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[ConsentGrant]
    def __init__(self, grants: _Optional[_Iterable[_Union[ConsentGrant, _Mapping]]] = ...) -> None: ...

class LikenessMatch(_message.Message):
    __slots__ = ("id", "request_id", "decision_id", "identity_id", "tenant", "action", "stage", "subject", "score", "grant_id", "frame_time_s", "created_at", "has_evidence")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    FRAME_TIME_S_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    HAS_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    id: int
    request_id: str
    decision_id: str
    identity_id: str
    tenant: str
    action: Action
    stage: str
    subject: str
    score: float
    grant_id: str
    frame_time_s: float
    created_at: float
    has_evidence: bool
    def __init__(self, id: _Optional[int] = ..., request_id: _Optional[str] = ..., decision_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., tenant: _Optional[str] = ..., action: _Optional[_Union[Action, str]] = ..., stage: _Optional[str] = ..., subject: _Optional[str] = ..., score: _Optional[float] = ..., grant_id: _Optional[str] = ..., frame_time_s: _Optional[float] = ..., created_at: _Optional[float] = ..., has_evidence: _Optional[bool] = ...) -> None: ...

class ListMatchesRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListMatchesResponse(_message.Message):
    __slots__ = ("matches", "identity_ids")
    MATCHES_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    matches: _containers.RepeatedCompositeFieldContainer[LikenessMatch]
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, matches: _Optional[_Iterable[_Union[LikenessMatch, _Mapping]]] = ..., identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MatchRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class OwnerGrantRequest(_message.Message):
    __slots__ = ("identity_id", "tenant", "scopes", "days")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    DAYS_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    tenant: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    days: float
    def __init__(self, identity_id: _Optional[str] = ..., tenant: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., days: _Optional[float] = ...) -> None: ...

class OwnerRevokeRequest(_message.Message):
    __slots__ = ("grant_id",)
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    def __init__(self, grant_id: _Optional[str] = ...) -> None: ...

class OwnerGrantsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TakedownRequest(_message.Message):
    __slots__ = ("media", "manifest_id", "reason")
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    media: Media
    manifest_id: str
    reason: str
    def __init__(self, media: _Optional[_Union[Media, _Mapping]] = ..., manifest_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class TakedownNotice(_message.Message):
    __slots__ = ("id", "identity_id", "filed_by", "tenant", "manifest_id", "output_sha256", "pdq_hex", "watermark", "bank", "reason", "status", "filed_at", "removed_at", "acknowledged_at", "acknowledged_by", "repeat_offences")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    FILED_BY_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    MANIFEST_ID_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_SHA256_FIELD_NUMBER: _ClassVar[int]
    PDQ_HEX_FIELD_NUMBER: _ClassVar[int]
    WATERMARK_FIELD_NUMBER: _ClassVar[int]
    BANK_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FILED_AT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_AT_FIELD_NUMBER: _ClassVar[int]
    ACKNOWLEDGED_BY_FIELD_NUMBER: _ClassVar[int]
    REPEAT_OFFENCES_FIELD_NUMBER: _ClassVar[int]
    id: str
    identity_id: str
    filed_by: str
    tenant: str
    manifest_id: str
    output_sha256: str
    pdq_hex: _containers.RepeatedScalarFieldContainer[str]
    watermark: str
    bank: str
    reason: str
    status: str
    filed_at: float
    removed_at: float
    acknowledged_at: float
    acknowledged_by: str
    repeat_offences: int
    def __init__(self, id: _Optional[str] = ..., identity_id: _Optional[str] = ..., filed_by: _Optional[str] = ..., tenant: _Optional[str] = ..., manifest_id: _Optional[str] = ..., output_sha256: _Optional[str] = ..., pdq_hex: _Optional[_Iterable[str]] = ..., watermark: _Optional[str] = ..., bank: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., filed_at: _Optional[float] = ..., removed_at: _Optional[float] = ..., acknowledged_at: _Optional[float] = ..., acknowledged_by: _Optional[str] = ..., repeat_offences: _Optional[int] = ...) -> None: ...

class ListTakedownsRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ListTakedownsResponse(_message.Message):
    __slots__ = ("notices",)
    NOTICES_FIELD_NUMBER: _ClassVar[int]
    notices: _containers.RepeatedCompositeFieldContainer[TakedownNotice]
    def __init__(self, notices: _Optional[_Iterable[_Union[TakedownNotice, _Mapping]]] = ...) -> None: ...

class TakedownRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class BindOwnerRequest(_message.Message):
    __slots__ = ("client_id", "identity_ids")
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    client_id: str
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, client_id: _Optional[str] = ..., identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BindOwnerResponse(_message.Message):
    __slots__ = ("identity_ids",)
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class HashBank(_message.Message):
    __slots__ = ("name", "max_distance", "description", "entries", "csam")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    CSAM_FIELD_NUMBER: _ClassVar[int]
    name: str
    max_distance: int
    description: str
    entries: int
    csam: bool
    def __init__(self, name: _Optional[str] = ..., max_distance: _Optional[int] = ..., description: _Optional[str] = ..., entries: _Optional[int] = ..., csam: _Optional[bool] = ...) -> None: ...

class CreateBankRequest(_message.Message):
    __slots__ = ("name", "max_distance", "description", "csam")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_DISTANCE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CSAM_FIELD_NUMBER: _ClassVar[int]
    name: str
    max_distance: int
    description: str
    csam: bool
    def __init__(self, name: _Optional[str] = ..., max_distance: _Optional[int] = ..., description: _Optional[str] = ..., csam: _Optional[bool] = ...) -> None: ...

class AddToBankRequest(_message.Message):
    __slots__ = ("bank", "media", "pdq_hex", "note")
    BANK_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    PDQ_HEX_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    bank: str
    media: Media
    pdq_hex: _containers.RepeatedScalarFieldContainer[str]
    note: str
    def __init__(self, bank: _Optional[str] = ..., media: _Optional[_Union[Media, _Mapping]] = ..., pdq_hex: _Optional[_Iterable[str]] = ..., note: _Optional[str] = ...) -> None: ...

class AddToBankResponse(_message.Message):
    __slots__ = ("entry_ids", "pdq_hex")
    ENTRY_IDS_FIELD_NUMBER: _ClassVar[int]
    PDQ_HEX_FIELD_NUMBER: _ClassVar[int]
    entry_ids: _containers.RepeatedScalarFieldContainer[int]
    pdq_hex: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, entry_ids: _Optional[_Iterable[int]] = ..., pdq_hex: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveFromBankRequest(_message.Message):
    __slots__ = ("entry_id",)
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    entry_id: int
    def __init__(self, entry_id: _Optional[int] = ...) -> None: ...

class RemoveFromBankResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBanksRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBanksResponse(_message.Message):
    __slots__ = ("banks",)
    BANKS_FIELD_NUMBER: _ClassVar[int]
    banks: _containers.RepeatedCompositeFieldContainer[HashBank]
    def __init__(self, banks: _Optional[_Iterable[_Union[HashBank, _Mapping]]] = ...) -> None: ...

class PolicyVersion(_message.Message):
    __slots__ = ("tenant", "version")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    version: str
    def __init__(self, tenant: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ReloadPoliciesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadPoliciesResponse(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[PolicyVersion]
    def __init__(self, policies: _Optional[_Iterable[_Union[PolicyVersion, _Mapping]]] = ...) -> None: ...

class GetPolicyRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class PolicyRule(_message.Message):
    __slots__ = ("category", "threshold", "action", "required", "review_threshold")
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    REVIEW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    category: str
    threshold: float
    action: Action
    required: _containers.RepeatedScalarFieldContainer[str]
    review_threshold: float
    def __init__(self, category: _Optional[str] = ..., threshold: _Optional[float] = ..., action: _Optional[_Union[Action, str]] = ..., required: _Optional[_Iterable[str]] = ..., review_threshold: _Optional[float] = ...) -> None: ...

class GetPolicyResponse(_message.Message):
    __slots__ = ("name", "version", "rules")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    rules: _containers.RepeatedCompositeFieldContainer[PolicyRule]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., rules: _Optional[_Iterable[_Union[PolicyRule, _Mapping]]] = ...) -> None: ...

class CoverageRequest(_message.Message):
    __slots__ = ("tenant",)
    TENANT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    def __init__(self, tenant: _Optional[str] = ...) -> None: ...

class ModelCoverage(_message.Message):
    __slots__ = ("check", "model", "model_version", "calibration")
    CHECK_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    check: str
    model: str
    model_version: str
    calibration: str
    def __init__(self, check: _Optional[str] = ..., model: _Optional[str] = ..., model_version: _Optional[str] = ..., calibration: _Optional[str] = ...) -> None: ...

class CategoryCoverage(_message.Message):
    __slots__ = ("kind", "category", "evaluated", "threshold", "review_threshold", "action", "required", "models", "uncalibrated")
    KIND_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    REVIEW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    UNCALIBRATED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    category: str
    evaluated: bool
    threshold: float
    review_threshold: float
    action: Action
    required: bool
    models: _containers.RepeatedCompositeFieldContainer[ModelCoverage]
    uncalibrated: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[str] = ..., category: _Optional[str] = ..., evaluated: _Optional[bool] = ..., threshold: _Optional[float] = ..., review_threshold: _Optional[float] = ..., action: _Optional[_Union[Action, str]] = ..., required: _Optional[bool] = ..., models: _Optional[_Iterable[_Union[ModelCoverage, _Mapping]]] = ..., uncalibrated: _Optional[_Iterable[str]] = ...) -> None: ...

class CoverageResponse(_message.Message):
    __slots__ = ("policy_version", "categories")
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    policy_version: str
    categories: _containers.RepeatedCompositeFieldContainer[CategoryCoverage]
    def __init__(self, policy_version: _Optional[str] = ..., categories: _Optional[_Iterable[_Union[CategoryCoverage, _Mapping]]] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("id", "request_id", "tenant", "stage", "action", "policy_version", "created_at", "evidence_json", "specialist")
    ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    POLICY_VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_JSON_FIELD_NUMBER: _ClassVar[int]
    SPECIALIST_FIELD_NUMBER: _ClassVar[int]
    id: str
    request_id: str
    tenant: str
    stage: Stage
    action: Action
    policy_version: str
    created_at: float
    evidence_json: str
    specialist: bool
    def __init__(self, id: _Optional[str] = ..., request_id: _Optional[str] = ..., tenant: _Optional[str] = ..., stage: _Optional[_Union[Stage, str]] = ..., action: _Optional[_Union[Action, str]] = ..., policy_version: _Optional[str] = ..., created_at: _Optional[float] = ..., evidence_json: _Optional[str] = ..., specialist: _Optional[bool] = ...) -> None: ...

class DecisionRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListDecisionsRequest(_message.Message):
    __slots__ = ("tenant", "limit", "specialist")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SPECIALIST_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    limit: int
    specialist: bool
    def __init__(self, tenant: _Optional[str] = ..., limit: _Optional[int] = ..., specialist: _Optional[bool] = ...) -> None: ...

class ListDecisionsResponse(_message.Message):
    __slots__ = ("decisions",)
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    def __init__(self, decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ...) -> None: ...

class Client(_message.Message):
    __slots__ = ("id", "name", "tenant", "role", "cert_subject", "created_at", "revoked_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CERT_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    tenant: str
    role: str
    cert_subject: str
    created_at: float
    revoked_at: float
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., tenant: _Optional[str] = ..., role: _Optional[str] = ..., cert_subject: _Optional[str] = ..., created_at: _Optional[float] = ..., revoked_at: _Optional[float] = ...) -> None: ...

class CreateClientRequest(_message.Message):
    __slots__ = ("name", "tenant", "role", "cert_subject", "no_token")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    CERT_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    NO_TOKEN_FIELD_NUMBER: _ClassVar[int]
    name: str
    tenant: str
    role: str
    cert_subject: str
    no_token: bool
    def __init__(self, name: _Optional[str] = ..., tenant: _Optional[str] = ..., role: _Optional[str] = ..., cert_subject: _Optional[str] = ..., no_token: _Optional[bool] = ...) -> None: ...

class CreateClientResponse(_message.Message):
    __slots__ = ("client", "token")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    client: Client
    token: str
    def __init__(self, client: _Optional[_Union[Client, _Mapping]] = ..., token: _Optional[str] = ...) -> None: ...

class ClientRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListClientsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListClientsResponse(_message.Message):
    __slots__ = ("clients",)
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    clients: _containers.RepeatedCompositeFieldContainer[Client]
    def __init__(self, clients: _Optional[_Iterable[_Union[Client, _Mapping]]] = ...) -> None: ...

class ReviewItem(_message.Message):
    __slots__ = ("ticket", "request_id", "tenant", "prompt", "category", "priority", "status", "claimed_by", "claim_expires", "verdict", "decision", "reason_code", "notes", "decided_by", "created_at", "appeal_reason", "claimed_by_name", "decided_by_name")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_BY_FIELD_NUMBER: _ClassVar[int]
    CLAIM_EXPIRES_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    APPEAL_REASON_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_BY_NAME_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_NAME_FIELD_NUMBER: _ClassVar[int]
    ticket: str
    request_id: str
    tenant: str
    prompt: str
    category: str
    priority: int
    status: str
    claimed_by: str
    claim_expires: float
    verdict: Verdict
    decision: str
    reason_code: str
    notes: str
    decided_by: str
    created_at: float
    appeal_reason: str
    claimed_by_name: str
    decided_by_name: str
    def __init__(self, ticket: _Optional[str] = ..., request_id: _Optional[str] = ..., tenant: _Optional[str] = ..., prompt: _Optional[str] = ..., category: _Optional[str] = ..., priority: _Optional[int] = ..., status: _Optional[str] = ..., claimed_by: _Optional[str] = ..., claim_expires: _Optional[float] = ..., verdict: _Optional[_Union[Verdict, _Mapping]] = ..., decision: _Optional[str] = ..., reason_code: _Optional[str] = ..., notes: _Optional[str] = ..., decided_by: _Optional[str] = ..., created_at: _Optional[float] = ..., appeal_reason: _Optional[str] = ..., claimed_by_name: _Optional[str] = ..., decided_by_name: _Optional[str] = ...) -> None: ...

class ListReviewRequest(_message.Message):
    __slots__ = ("statuses", "tenant", "category", "min_priority", "limit", "older_than_s")
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MIN_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    OLDER_THAN_S_FIELD_NUMBER: _ClassVar[int]
    statuses: _containers.RepeatedScalarFieldContainer[str]
    tenant: str
    category: str
    min_priority: int
    limit: int
    older_than_s: float
    def __init__(self, statuses: _Optional[_Iterable[str]] = ..., tenant: _Optional[str] = ..., category: _Optional[str] = ..., min_priority: _Optional[int] = ..., limit: _Optional[int] = ..., older_than_s: _Optional[float] = ...) -> None: ...

class ListReviewResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ReviewItem]
    def __init__(self, items: _Optional[_Iterable[_Union[ReviewItem, _Mapping]]] = ...) -> None: ...

class DecideRequest(_message.Message):
    __slots__ = ("tickets", "decision", "reason_code", "notes", "allowlist_content", "grant_consent", "consent_days")
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_CODE_FIELD_NUMBER: _ClassVar[int]
    NOTES_FIELD_NUMBER: _ClassVar[int]
    ALLOWLIST_CONTENT_FIELD_NUMBER: _ClassVar[int]
    GRANT_CONSENT_FIELD_NUMBER: _ClassVar[int]
    CONSENT_DAYS_FIELD_NUMBER: _ClassVar[int]
    tickets: _containers.RepeatedScalarFieldContainer[str]
    decision: str
    reason_code: str
    notes: str
    allowlist_content: bool
    grant_consent: bool
    consent_days: int
    def __init__(self, tickets: _Optional[_Iterable[str]] = ..., decision: _Optional[str] = ..., reason_code: _Optional[str] = ..., notes: _Optional[str] = ..., allowlist_content: _Optional[bool] = ..., grant_consent: _Optional[bool] = ..., consent_days: _Optional[int] = ...) -> None: ...

class DecideResult(_message.Message):
    __slots__ = ("ticket", "ok", "error", "item")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ITEM_FIELD_NUMBER: _ClassVar[int]
    ticket: str
    ok: bool
    error: str
    item: ReviewItem
    def __init__(self, ticket: _Optional[str] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., item: _Optional[_Union[ReviewItem, _Mapping]] = ...) -> None: ...

class DecideResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[DecideResult]
    def __init__(self, results: _Optional[_Iterable[_Union[DecideResult, _Mapping]]] = ...) -> None: ...

class AppealRequest(_message.Message):
    __slots__ = ("ticket", "reason")
    TICKET_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ticket: str
    reason: str
    def __init__(self, ticket: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class AllowlistEntry(_message.Message):
    __slots__ = ("id", "tenant", "content_sha256", "subject", "category", "max_score", "expires_at", "ticket", "created_by", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MAX_SCORE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TICKET_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    tenant: str
    content_sha256: str
    subject: str
    category: str
    max_score: float
    expires_at: float
    ticket: str
    created_by: str
    created_at: float
    def __init__(self, id: _Optional[int] = ..., tenant: _Optional[str] = ..., content_sha256: _Optional[str] = ..., subject: _Optional[str] = ..., category: _Optional[str] = ..., max_score: _Optional[float] = ..., expires_at: _Optional[float] = ..., ticket: _Optional[str] = ..., created_by: _Optional[str] = ..., created_at: _Optional[float] = ...) -> None: ...

class ListAllowlistRequest(_message.Message):
    __slots__ = ("tenant", "limit")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    limit: int
    def __init__(self, tenant: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListAllowlistResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[AllowlistEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[AllowlistEntry, _Mapping]]] = ...) -> None: ...

class AllowlistRef(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class BackendRequest(_message.Message):
    __slots__ = ("prompt", "image_png", "width", "height", "fps", "num_frames", "seed", "driving_frames_png", "request_id")
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PNG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FPS_FIELD_NUMBER: _ClassVar[int]
    NUM_FRAMES_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    DRIVING_FRAMES_PNG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    prompt: str
    image_png: bytes
    width: int
    height: int
    fps: int
    num_frames: int
    seed: int
    driving_frames_png: _containers.RepeatedScalarFieldContainer[bytes]
    request_id: str
    def __init__(self, prompt: _Optional[str] = ..., image_png: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., fps: _Optional[int] = ..., num_frames: _Optional[int] = ..., seed: _Optional[int] = ..., driving_frames_png: _Optional[_Iterable[bytes]] = ..., request_id: _Optional[str] = ...) -> None: ...

class BackendDone(_message.Message):
    __slots__ = ("mime_type",)
    MIME_TYPE_FIELD_NUMBER: _ClassVar[int]
    mime_type: str
    def __init__(self, mime_type: _Optional[str] = ...) -> None: ...

class BackendEvent(_message.Message):
    __slots__ = ("progress", "chunk", "done")
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    progress: Progress
    chunk: OutputChunk
    done: BackendDone
    def __init__(self, progress: _Optional[_Union[Progress, _Mapping]] = ..., chunk: _Optional[_Union[OutputChunk, _Mapping]] = ..., done: _Optional[_Union[BackendDone, _Mapping]] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class BackendInfo(_message.Message):
    __slots__ = ("name", "version", "model_id", "digital_source_type", "accepts", "needs")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    DIGITAL_SOURCE_TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCEPTS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    model_id: str
    digital_source_type: str
    accepts: _containers.RepeatedScalarFieldContainer[str]
    needs: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., model_id: _Optional[str] = ..., digital_source_type: _Optional[str] = ..., accepts: _Optional[_Iterable[str]] = ..., needs: _Optional[_Iterable[str]] = ...) -> None: ...

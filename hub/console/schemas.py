"""The JSON API's request and response models (they make its OpenAPI description).

Every string in a response has been through :func:`hub.console.render.safe`: no Individual Number, except
``RevealOut.number``, which only the reveal call returns, after its access record was committed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "API_ERRORS",
    "ActionIn",
    "ActionOut",
    "ActionResultOut",
    "AdapterGaugeOut",
    "ApprovalDecisionIn",
    "ApprovalIn",
    "ApprovalOut",
    "AuditRecordOut",
    "AuditSearchOut",
    "DeadLetterGroupOut",
    "DeadLetterOut",
    "DeadLetterSummaryOut",
    "ErrorOut",
    "FlowRowOut",
    "FlowsOut",
    "HealthCheckOut",
    "HealthOut",
    "RevealIn",
    "RevealOut",
    "SealedOut",
    "TraceOut",
    "VerifyOut",
]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorOut(_Out):
    """Why a call failed."""

    detail: str


API_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut, "description": "no or unknown credentials"},
    403: {"model": ErrorOut, "description": "the role or the association scope does not allow it (recorded)"},
}
"""Answers every API call may give."""


class FlowRowOut(_Out):
    """One flow on one adapter."""

    flow: str
    adapter: str
    received: int
    routed: int
    completed: int
    failed: int
    per_second: float = Field(description="messages per second over the last full minute")
    in_flight: int
    total_completed: int = Field(description="over every sample kept")
    total_failed: int
    last_seen: datetime | None


class AdapterGaugeOut(_Out):
    """An adapter's queue as last observed."""

    adapter: str
    observed_at: datetime
    queue_depth: int | None
    consumers: int | None
    in_flight: int | None


class FlowsOut(_Out):
    """The flows view."""

    window_minutes: int
    flows: list[FlowRowOut]
    adapters: list[AdapterGaugeOut]
    last_sample_at: datetime | None


class DeadLetterGroupOut(_Out):
    """A failure group (same exception, stage and message type)."""

    fingerprint: str
    label: str
    count: int
    occurrences: int
    first_failed_at: datetime
    last_failed_at: datetime


class DeadLetterSummaryOut(_Out):
    """A dead letter in a list."""

    id: int
    message_type: str
    source_queue: str
    reason_code: str
    status: str
    fingerprint: str
    occurrences: int
    first_failed_at: datetime
    last_failed_at: datetime


class SealedOut(_Out):
    """A sealed number in a body, by position (reveal it with its index)."""

    index: int
    path: str
    recipient: str


class DeadLetterOut(DeadLetterSummaryOut):
    """One dead letter: failure, headers and redacted body."""

    message_id: str | None
    correlation_id: str | None
    group_label: str
    reason_text: str
    exception_type: str
    stage: str
    attempts: int
    replay_count: int
    last_operator: str | None
    discard_reason: str | None
    headers: dict[str, str]
    body: str
    body_kind: str
    sealed: list[SealedOut]
    erased_at: datetime | None = Field(
        None, description="when retention destroyed its sealed numbers (it can no longer be replayed)"
    )
    erasure_note: str | None = Field(None, description="what retention destroyed (counts only)")


Reason = Annotated[
    str,
    Field(min_length=3, max_length=1_000, pattern=r"\S", description="why: goes to the access record"),
]


class ActionIn(BaseModel):
    """A replay or discard: by ids, or a whole failure group."""

    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(default_factory=list, max_length=500)
    group: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[a-p]{1,64}$")
    reason: Reason
    rate: float = Field(10.0, gt=0, le=100, description="messages per second at most (replay)")
    limit: int = Field(50, ge=1, le=500, description="dead letters at most")
    dry_run: bool = False
    approval_id: str | None = Field(
        None,
        pattern=r"^apr-[a-z]{12}$",
        description="an approved request naming exactly these ids: needed for dead letters carrying numbers",
    )


class ActionResultOut(_Out):
    """One dead letter's part in an action."""

    dead_letter_id: int
    outcome: str
    detail: str


class ActionOut(_Out):
    """What a replay or discard did."""

    operation: str
    operation_id: str
    dry_run: bool
    counts: dict[str, int]
    results: list[ActionResultOut]
    error: str | None


class RevealIn(BaseModel):
    """Which sealed number of a dead letter to reveal, under which approved request (it holds the why)."""

    model_config = ConfigDict(extra="forbid")

    sealed_index: int = Field(ge=1, le=100_000)
    approval_id: str = Field(
        pattern=r"^apr-[a-z]{12}$", description="the approved request for this very number (four eyes)"
    )


_Reason = Annotated[str, Field(min_length=10, max_length=1_000, pattern=r"\S")]


class RevealRequestIn(BaseModel):
    """A request to reveal one sealed number of a dead letter, and why (a federation admin approves it)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["reveal_number"]
    dead_letter_id: int = Field(ge=1, le=2**53, description="the dead letter")
    sealed_index: int = Field(ge=1, le=100_000, description="which sealed number")
    reason: _Reason


class DeadLettersRequestIn(BaseModel):
    """A request to replay or discard dead letters carrying numbers, and why (a second person approves it)."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["replay_dead_letters", "discard_dead_letters"]
    ids: list[Annotated[int, Field(ge=1, le=2**53)]] = Field(
        min_length=1, max_length=500, description="the dead letters, by id"
    )
    reason: _Reason


ApprovalIn = Annotated[RevealRequestIn | DeadLettersRequestIn, Field(discriminator="action")]
"""A request for a privileged action: what exactly, and why (a second person approves it)."""


class ApprovalDecisionIn(BaseModel):
    """A second person's decision on a request."""

    model_config = ConfigDict(extra="forbid")

    approve: bool
    note: str | None = Field(None, max_length=1_000)


class ApprovalOut(_Out):
    """A request and its decision (ids and names only)."""

    approval_id: str
    action: str
    target: dict[str, Any]
    reason: str
    status: str
    requested_by: str
    requested_org: str
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    used_at: datetime | None = None
    expired: bool = False


class RevealOut(_Out):
    """The one revealed number (recorded before it was sent)."""

    dead_letter_id: int
    path: str
    number: str
    recorded_at: datetime


class AuditRecordOut(_Out):
    """An access record as the console shows it (hashes and chain ids cut to ten characters)."""

    at: datetime
    actor: str
    action: str
    outcome: str
    message_id: str | None
    correlation_id: str | None
    message_type: str | None
    source: str | None
    destination: str | None
    purpose: str | None
    legal_basis: str | None
    reason: str | None
    subjects: int
    subject_sample: list[str]
    details: dict[str, str]
    chain: str
    seq: int
    hash: str


class AuditSearchOut(_Out):
    """Access records found."""

    records: list[AuditRecordOut]
    more: bool


class TraceOut(_Out):
    """Every step of one correlation, oldest first."""

    correlation_id: str
    steps: list[AuditRecordOut]


class VerifyOut(_Out):
    """The access record's verification."""

    ok: bool
    checked_at: datetime
    records_checked: int
    chains: int
    checkpoints: int
    uncovered_records: int
    problems: list[str]


class HealthCheckOut(_Out):
    """One check."""

    name: str
    kind: str
    status: str = Field(description="ok, warn or fail")
    detail: str


class HealthOut(_Out):
    """Everything the console checks."""

    status: str
    checks: list[HealthCheckOut]

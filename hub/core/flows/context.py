"""What a handler gets to do its work: the unit of work, the sealing service, the policy, who it is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel

from contracts.envelope import Envelope, Party, Purpose, new_envelope
from contracts.ids import stable_id
from contracts.purpose_table import PurposeTable, default_table
from contracts.registry import payload_dict
from contracts.sealing import Sealer, Unsealer
from hub.core.rules.legal_basis import LegalBasisTable
from hub.core.rules.policy import NumberPolicy
from hub.ports.store import UnitOfWork

__all__ = ["Cause", "CauseIds", "HandlerContext", "answer_pension", "derived_id", "reply"]

_NAMESPACE = uuid.UUID("0f6f0a52-6c1e-4b7e-9f2a-72656e6b6569")


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Dependencies of a handler, bound to one unit of work.

    Attributes:
        uow: the open unit of work (vault, access record, inbox, outbox).
        sealer: seals numbers for a destination adapter.
        unsealer: opens numbers adapters sealed for the hub.
        policy: the number policy.
        actor: who acts, as written in the access record (``hub:<worker>``).
        legal_basis: the legal-basis table of the information-provision network (empty: refuse every query).
        purposes: the purpose table: which uses of a number which grounds and actors permit.
    """

    uow: UnitOfWork
    sealer: Sealer
    unsealer: Unsealer
    policy: NumberPolicy
    actor: str
    legal_basis: LegalBasisTable = field(default_factory=LegalBasisTable.empty)
    purposes: PurposeTable = field(default_factory=default_table)


def derived_id(cause: uuid.UUID, label: str) -> uuid.UUID:
    """A message id derived from its cause, so that handling a message twice produces the same ids."""
    return stable_id(_NAMESPACE, f"{cause}/{label}")


class Cause(Protocol):
    """What a message caused by another takes from its cause: an :class:`Envelope` is one."""

    @property
    def message_id(self) -> uuid.UUID:
        """The cause's message id (the new message's causation id, and the seed of its own id)."""
        ...

    @property
    def correlation_id(self) -> uuid.UUID:
        """The flow both messages belong to."""
        ...

    @property
    def actor(self) -> str | None:
        """On whose behalf the flow runs."""
        ...


@dataclass(frozen=True, slots=True)
class CauseIds:
    """A cause known by its ids only (an operator's answer to a message handled long ago, say)."""

    message_id: uuid.UUID
    correlation_id: uuid.UUID
    actor: str | None


def reply(
    cause: Cause,
    *,
    message_type: str,
    payload: BaseModel,
    label: str,
    purpose: Purpose,
    destination: Party = "pension",
) -> Envelope:
    """A message caused by ``cause``, with an id derived from it (handling twice gives the same id).

    The one way the hub makes a message caused by another. It runs on behalf of the same actor as its
    cause, in the same flow (correlation id); ``label`` tells apart the messages one cause produces.
    """
    return new_envelope(
        message_type=message_type,
        schema_version=1,
        source="hub",
        destination=destination,
        purpose=purpose,
        payload=payload_dict(payload),
        correlation_id=cause.correlation_id,
        causation_id=cause.message_id,
        message_id=derived_id(cause.message_id, label),
        actor=cause.actor,
    )


def answer_pension(
    cause: Envelope, *, message_type: str, payload: BaseModel, code: str, label: str = "pension"
) -> Envelope:
    """The pension system's answer to ``cause`` (a :func:`reply`): purpose ``code``, the cause's basis."""
    return reply(
        cause,
        message_type=message_type,
        payload=payload,
        label=label,
        purpose=Purpose(code=code, legal_basis=cause.purpose.legal_basis),
    )

"""What a handler gets to do its work: the unit of work, the sealing service, the policy, who it is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from contracts.envelope import Envelope, Party, Purpose, new_envelope
from contracts.ids import stable_id
from contracts.purpose_table import PurposeTable, default_table
from contracts.registry import payload_dict
from contracts.sealing import Sealer, Unsealer
from hub.core.rules.legal_basis import LegalBasisTable
from hub.core.rules.policy import NumberPolicy
from hub.ports.store import UnitOfWork

__all__ = ["HandlerContext", "derived_id"]

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


def reply(
    cause: Envelope,
    *,
    message_type: str,
    payload: Any,
    label: str,
    purpose: Purpose,
    destination: Party = "pension",
) -> Envelope:
    """A message caused by ``cause``, with an id derived from it (handling twice gives the same id).

    It runs on behalf of the same actor as its cause.
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

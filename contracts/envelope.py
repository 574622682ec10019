"""The common envelope every renkei message travels in.

The envelope says who sent what to whom, for which purpose and on which legal basis; the payload is
validated separately against the model registered for ``(message_type, schema_version)``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from contracts.base import ContractModel
from contracts.ids import new_id
from contracts.text import NumberFreeText

__all__ = ["ACTOR_PATTERN", "Envelope", "LegalBasis", "Party", "Purpose", "new_envelope"]

Party = Literal[
    "pension", "jlis", "intermediate_server", "eltax", "nta", "implementing_bodies", "hub", "operator"
]
ACTOR_PATTERN = r"^[a-z][a-z0-9_-]{0,15}$"
"""An actor code: ``federation`` or a 構成組合's code (the purpose table's ``[[actor]]`` list)."""


class LegalBasis(ContractModel):
    """One legal basis of an exchange, for example 番号法 第9条 別表 or 住基法 第30条の9."""

    law: NumberFreeText = Field(min_length=1, max_length=120, description="the statute, e.g. 番号法, 住基法")
    article: NumberFreeText = Field(min_length=1, max_length=60, description="article, e.g. 第30条の9")
    item: NumberFreeText | None = Field(None, max_length=60, description="item or table row, e.g. 別表 84")


class Purpose(ContractModel):
    """Why the message exists: the administrative task (事務) and its legal bases."""

    code: str = Field(min_length=1, max_length=80, pattern=r"^[a-z][a-z0-9_.]*$")
    legal_basis: tuple[LegalBasis, ...] = Field(min_length=1)


class Envelope(ContractModel):
    """Header and payload of one message.

    Attributes:
        message_id: unique id of this message; the idempotency key of every consumer.
        correlation_id: id shared by every message of one business exchange (one inquiry cycle).
        causation_id: id of the message that caused this one, if any.
        actor: the body on whose behalf the message runs: ``federation`` (市町村連合会) or a 構成組合's code
            (the purpose table's actor list). Taken from the pension system's files and carried by every
            message of the flow. ``None`` only on messages written before actors existed (the documented
            default of schema version 1): the hub establishes the actor of such a message from its flow, or
            refuses it (a pension request without one); it never defaults to the federation's rights.
        payload: raw payload; validated against the registry by :func:`contracts.registry.decode`.
    """

    message_id: uuid.UUID
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None
    message_type: str = Field(min_length=1, max_length=120, pattern=r"^[a-z][a-z0-9_.]*$")
    schema_version: int = Field(ge=1, le=1000)
    source: Party
    destination: Party
    purpose: Purpose
    actor: str | None = Field(None, pattern=ACTOR_PATTERN)
    created_at: AwareDatetime
    payload: dict[str, Any]


def new_envelope(
    *,
    message_type: str,
    schema_version: int,
    source: Party,
    destination: Party,
    purpose: Purpose,
    payload: dict[str, Any],
    correlation_id: uuid.UUID | None = None,
    causation_id: uuid.UUID | None = None,
    message_id: uuid.UUID | None = None,
    actor: str | None = None,
) -> Envelope:
    """Build an envelope with a fresh message id and the current time."""
    mid = message_id or new_id()
    return Envelope(
        message_id=mid,
        correlation_id=correlation_id or mid,
        causation_id=causation_id,
        message_type=message_type,
        schema_version=schema_version,
        source=source,
        destination=destination,
        purpose=purpose,
        actor=actor,
        created_at=datetime.now(UTC),
        payload=payload,
    )

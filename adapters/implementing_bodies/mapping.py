"""Contracts <-> wire records: the only place where Individual Numbers change form in this adapter.

Numbers sealed for ``implementing_bodies`` are opened into the claims of a forwarding, each bound to the
forwarding's message id and its field (:func:`~contracts.messages.implementing_bodies.claimant_number_field`,
:func:`~contracts.messages.implementing_bodies.deceased_number_field`), so a number sealed for another
recipient, message or field does not open. A forwarding under any purpose but the claim forwarding's is
refused before a number is opened. No number comes back in a receipt, so nothing is sealed here.
"""

from __future__ import annotations

import uuid
from typing import Final

from adapters.implementing_bodies.errors import IbMappingError, IbPurposeRefused
from adapters.implementing_bodies.wire import ForwardingFile, ReceiptFile, WireClaim
from contracts.envelope import Purpose
from contracts.ids import stable_id
from contracts.individual_number import IndividualNumber
from contracts.messages.implementing_bodies import (
    ClaimForwarding,
    ForwardingReceipt,
    ReturnedClaim,
    claimant_number_field,
    deceased_number_field,
)
from contracts.purposes import IB_CLAIM_FORWARDING
from contracts.sealing import Unsealer
from contracts.validation import validated

__all__ = ["check_purpose", "forwarding_file", "message_id_of", "receipt_payload"]

_NAMESPACE: Final = uuid.UUID("1b0d1e50-6f6e-5e57-9f3e-72656e6b6569")


def message_id_of(file_name: str) -> uuid.UUID:
    """The deterministic message id of the envelope built from the file ``file_name``."""
    return stable_id(_NAMESPACE, file_name)


def check_purpose(purpose: Purpose) -> None:
    """Refuse a forwarding under any purpose but the claim forwarding's.

    Raises:
        IbPurposeRefused: the purpose is not ``implementing_bodies.claim_forwarding``.
    """
    if purpose.code != IB_CLAIM_FORWARDING:
        raise IbPurposeRefused(
            "the other implementing bodies receive numbers only for forwarded claims "
            "(implementing_bodies.claim_forwarding)"
        )


def forwarding_file(
    message_id: uuid.UUID, purpose: Purpose, forwarding: ClaimForwarding, unsealer: Unsealer
) -> ForwardingFile:
    """The claims of a forwarding, in record order, numbers opened.

    Raises:
        IbPurposeRefused: the message's purpose is not the claim forwarding's (checked first).
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    check_purpose(purpose)

    def opened(sealed: str | None, field: str) -> IndividualNumber | None:
        return None if sealed is None else unsealer.unseal(sealed, message_id=message_id, field=field)

    claims = tuple(
        WireClaim(
            record_seq=c.record_seq,
            kind=c.kind,
            received_on=c.received_on,
            basic_pension_number=c.basic_pension_number,
            pages=tuple((p.name, p.sha256) for p in c.pages),
            individual_number=opened(c.individual_number, claimant_number_field(c.record_seq)),
            deceased_individual_number=opened(
                c.deceased_individual_number, deceased_number_field(c.record_seq)
            ),
            deceased_basic_pension_number=c.deceased_basic_pension_number,
        )
        for c in forwarding.claims
    )
    return ForwardingFile(forwarding.batch_id, forwarding.forwarded_by, forwarding.destination, claims)


def receipt_payload(receipt: ReceiptFile) -> ForwardingReceipt:
    """The receipt message of a receipt file.

    Raises:
        IbMappingError: the receipt parses but breaks the contract (a claim named twice, say).
    """
    return validated(
        lambda: ForwardingReceipt(
            forwarding=receipt.forwarding,
            batch_id=receipt.batch_id,
            destination=receipt.destination,
            received_on=receipt.received_on,
            accepted=receipt.accepted,
            returned=tuple(ReturnedClaim(record_seq=s, field=f, reason=r) for s, f, r in receipt.returned),
        ),
        "the receipt",
        IbMappingError,
    )

"""Contracts <-> NTA wire records: the only place where Individual Numbers change form in the adapter.

Numbers sealed for ``nta`` are opened into the slips of a submission, each bound to the submission's message
id and its field (the payment report's fields, :func:`~contracts.messages.eltax.recipient_number_field` and
its neighbours), so a number sealed for another recipient, message or field does not open. A submission
under any purpose but the withholding slip's is refused before a number is opened. No number comes back from
the Agency, so nothing is sealed here. Plain values live in local variables and in the wire records only;
nothing here logs, and errors name fields, never values.

What the slip says that the contract does not, and the other way round (``docs/formats/nta.md``):

* the contract's three ``sections`` are the slip's first three groups of amounts (第1号・第4号, 第2号・第5号,
  第3号・第6号); the fourth, 第7号適用分, stays empty;
* every person is 区分 ``00`` (resident): the contract carries no residence of a spouse or dependant, and no
  count of non-resident relatives (item 50 stays empty);
* the first two deductible dependants and the first two under 16 are named, in the contract's order; all
  are counted (items 39, 40, 44, 49);
* the readings (フリガナ) of the spouse are not in the contract and stay empty, as the standard allows;
* ``special_widow`` is item 47 (ひとり親・特別寡婦), ``widow`` item 48.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Final, TypeVar

from adapters.nta.errors import NtaMappingError, NtaPurposeRefused
from adapters.nta.receipt import ReceiptFile
from adapters.nta.slip import (
    DEPENDANT_SLOTS,
    MINOR_SLOTS,
    SlipFile,
    SlipMinor,
    SlipPayer,
    SlipPerson,
    SlipRecord,
)
from adapters.statutory import recipient_fields, section_amounts
from contracts.envelope import Purpose
from contracts.ids import stable_id
from contracts.individual_number import IndividualNumber
from contracts.messages.eltax import (
    DependantKind,
    SubmissionRecord,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.messages.nta import NtaReceipt, NtaWithholdingSlipSubmission, SlipError
from contracts.purposes import NTA_WITHHOLDING_SLIP
from contracts.sealing import Unsealer
from contracts.validation import validated

__all__ = ["RESIDENT", "check_purpose", "message_id_of", "receipt_payload", "slip_file"]

RESIDENT: Final = "resident"
"""The 区分 of every person on a slip renkei writes (``00``): the contract carries no residence."""
_NAMESPACE: Final = uuid.UUID("6e746100-5e1b-5c0a-9f3e-72656e6b6569")
T = TypeVar("T")


def message_id_of(file_name: str) -> uuid.UUID:
    """The deterministic message id of the envelope built from the file ``file_name`` (never number-like)."""
    return stable_id(_NAMESPACE, file_name)


def check_purpose(purpose: Purpose) -> None:
    """Refuse a submission under any purpose but the withholding slip's.

    Raises:
        NtaPurposeRefused: the purpose is not ``nta.withholding_slip``.
    """
    if purpose.code != NTA_WITHHOLDING_SLIP:
        raise NtaPurposeRefused(
            "the Agency receives numbers only for the withholding slip (nta.withholding_slip)"
        )


def _slip(r: SubmissionRecord, message_id: uuid.UUID, unsealer: Unsealer) -> SlipRecord:
    def opened(sealed: str | None, field: str) -> IndividualNumber | None:
        return None if sealed is None else unsealer.unseal(sealed, message_id=message_id, field=field)

    seq = r.record_seq
    dependants: list[SlipPerson] = []
    minors: list[SlipMinor] = []
    for k, d in enumerate(r.dependants):
        if d.kind is DependantKind.UNDER_16:
            if len(minors) < MINOR_SLOTS:  # the contract gives them no number; the slip has no item for one
                minors.append(SlipMinor(d.name, d.kana_name, RESIDENT))
        elif len(dependants) < DEPENDANT_SLOTS:  # only those named are opened
            number = opened(d.individual_number, report_dependant_number_field(seq, k))
            dependants.append(SlipPerson(d.name, d.kana_name, RESIDENT, number))
    spouse = None
    if r.spouse is not None:
        spouse = SlipPerson(
            r.spouse.name, None, RESIDENT, opened(r.spouse.individual_number, spouse_number_field(seq))
        )
    return SlipRecord(
        sections=(*(section_amounts(s) for s in r.sections), None),
        single_parent=r.deductions.special_widow,
        **recipient_fields(r),
        individual_number=opened(r.individual_number, recipient_number_field(seq)),
        spouse=spouse,
        dependants=tuple(dependants),
        minors=tuple(minors),
    )


def slip_file(
    message_id: uuid.UUID, purpose: Purpose, submission: NtaWithholdingSlipSubmission, unsealer: Unsealer
) -> SlipFile:
    """The slips of a submission, in record order, numbers opened.

    Raises:
        NtaPurposeRefused: the message's purpose is not the withholding slip's (checked first).
        NtaMappingError: two records share a record_seq.
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    check_purpose(purpose)
    if len({r.record_seq for r in submission.records}) != len(submission.records):
        raise NtaMappingError("the submission repeats a record_seq")
    payer = submission.payer
    if payer.corporate_number is None:  # the contract requires it; kept here for the type
        raise NtaMappingError("the submission does not name the payer's corporate number")
    wire_payer = SlipPayer(
        name=payer.name,
        address=payer.address,
        corporate_number=payer.corporate_number,
        phone=payer.phone,
        reference_number=payer.reference_number,
    )
    records = tuple(_slip(r, message_id, unsealer) for r in submission.records)
    return SlipFile(wire_payer, submission.tax_year, records)


def _validated(build: Callable[[], T], what: str) -> T:
    """Run ``build``; a pydantic error becomes :class:`NtaMappingError` naming locations only."""
    return validated(build, what, NtaMappingError)


def receipt_payload(receipt: ReceiptFile) -> NtaReceipt:
    """The receipt message of a receipt file.

    Raises:
        NtaMappingError: the receipt parses but breaks the contract.
    """
    return _validated(
        lambda: NtaReceipt(
            submission=receipt.submission,
            tax_year=receipt.tax_year,
            received_on=receipt.received_on,
            status=receipt.status,
            slips=receipt.slips,
            errors=tuple(SlipError(line=line, field=item, code=code) for line, item, code in receipt.errors),
        ),
        "the receipt",
    )

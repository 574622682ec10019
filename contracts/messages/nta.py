"""The National Tax Agency (国税庁): the withholding slips of public pensions (公的年金等の源泉徴収票).

A payer of public pensions submits a withholding slip for each recipient to the tax office by 31 January
of the following year (所得税法 第226条第3項), electronically or on optical disc once its slips pass the
threshold (同法 第228条の4). The slip carries the recipient's, the spouse's and the deductible dependants'
Individual Numbers (番号法 第9条第4項, 個人番号関係事務)::

    pension ──WithholdingSlipRequested──▶ hub ──NtaWithholdingSlipSubmission──▶ nta adapter ──▶ 国税庁
    pension ◀──NtaOutcomes────────────── hub ◀──NtaReceipt──────────────────── nta adapter ◀── 国税庁

A slip says what the payment report to the municipality says (the same recipient, amounts, deductions,
spouse and dependants), so the records are the payment report's (:mod:`contracts.messages.eltax`); only the
destination, the purpose and the rules of the slip differ:

* the slip names a dependant under 16 (16歳未満扶養親族) without a number: the hub seals none for them;
* the payer's 法人番号 is an item of the slip: a request without it is refused at the hub's door.

The Agency acknowledges a whole file (受信通知): accepted, or rejected with the errors found, each naming the
slip's line and the item at fault, never a value. No number comes back.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.envelope import LegalBasis, Purpose
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    MAX_RECORDS,
    DependantKind,
    PaymentReportPayer,
    PaymentReportRecord,
    ReceiptStatus,
    SubmissionRecord,
)
from contracts.purposes import NTA_WITHHOLDING_SLIP
from contracts.registry import register

__all__ = [
    "WITHHOLDING_SLIP_PURPOSE",
    "NtaOutcomes",
    "NtaReceipt",
    "NtaWithholdingSlipSubmission",
    "SlipError",
    "WithholdingSlipRequested",
]

WITHHOLDING_SLIP_PURPOSE: Final = Purpose(
    code=NTA_WITHHOLDING_SLIP,
    legal_basis=(
        LegalBasis(law="所得税法", article="第226条第3項", item="公的年金等の源泉徴収票の提出"),
        LegalBasis(
            law="行政手続における特定の個人を識別するための番号の利用等に関する法律",
            article="第9条",
            item="個人番号関係事務",
        ),
    ),
)
"""Withholding slips and their receipts: the only purpose under which the Agency receives numbers."""


def _payer_has_corporate_number(payer: PaymentReportPayer) -> None:
    if payer.corporate_number is None:
        raise ValueError("a withholding slip names the payer's corporate number (法人番号)")


@register("pension.withholding_slip.requested", 1)
class WithholdingSlipRequested(ContractModel):
    """A chunk of the year's withholding slips, from the pension system (usage numbers only)."""

    chunk: ChunkInfo
    tax_year: int = Field(ge=2019, le=2100, description="年分: the year the payments were made")
    payer: PaymentReportPayer
    records: tuple[PaymentReportRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _slip_payer(self) -> WithholdingSlipRequested:
        _payer_has_corporate_number(self.payer)
        return self


@register("nta.withholding_slip.submission", 1)
class NtaWithholdingSlipSubmission(ContractModel):
    """A chunk of withholding slips for the NTA adapter, which writes them as one file.

    Numbers are sealed for ``nta`` under the payment report's fields
    (:func:`contracts.messages.eltax.recipient_number_field` and its neighbours). A dependant under 16
    carries none: the slip has no item for it.
    """

    chunk: ChunkInfo
    tax_year: int = Field(ge=2019, le=2100)
    payer: PaymentReportPayer
    records: tuple[SubmissionRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _slip_rules(self) -> NtaWithholdingSlipSubmission:
        _payer_has_corporate_number(self.payer)
        for record in self.records:
            if any(
                d.kind is DependantKind.UNDER_16 and d.individual_number is not None
                for d in record.dependants
            ):
                raise ValueError("a withholding slip names a dependant under 16 without a number")
        return self


class SlipError(ContractModel):
    """One error the Agency found: the slip's line (none for the file as a whole), the item, a code."""

    line: int | None = Field(None, ge=1, description="the slip's line in the file")
    field: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    code: str = Field(pattern=r"^E[0-9]{3}$")


class _SlipReceipt(ContractModel):
    """What the Agency said about one submitted file: it takes or refuses a file as a whole."""

    submission: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    tax_year: int = Field(ge=2019, le=2100)
    received_on: date
    status: ReceiptStatus
    slips: int = Field(ge=0, le=MAX_RECORDS, description="the slips the file held")
    errors: tuple[SlipError, ...] = Field((), max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _rejected_says_why(self) -> _SlipReceipt:
        if (self.status is ReceiptStatus.REJECTED) != bool(self.errors):
            raise ValueError("a rejected file names its errors, and an accepted one has none")
        return self


@register("nta.receipt", 1)
class NtaReceipt(_SlipReceipt):
    """The Agency's acknowledgement of one submitted file (受信通知), as the NTA adapter read it."""


@register("pension.nta.outcomes", 1)
class NtaOutcomes(_SlipReceipt):
    """What the Agency said about one submitted file, for the pension system (no number, ever)."""

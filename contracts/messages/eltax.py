"""eLTAX: the payment reports (公的年金等支払報告書) and the special collection (年金特徴) of resident tax.

Payment reports, each January (地方税法 第317条の6)::

    pension ──PaymentReportRequested──▶ hub ──EltaxPaymentReportSubmission──▶ eltax adapter ──▶ eLTAX
    pension ◀──EltaxOutcomes─────────── hub ◀──EltaxReceipt────────────────── eltax adapter ◀── eLTAX

Special collection, through the year (地方税法 第321条の7の2 ff.), notices in both directions::

    pension ──TokuchoNoticeRequested──▶ hub ──EltaxTokuchoNotice──▶ eltax adapter ──▶ municipalities
    pension ◀──EltaxOutcomes────────── hub ◀──EltaxReceipt───────── eltax adapter ◀── (receipts)
    pension ◀──TokuchoInstructions──── hub ◀──EltaxTokuchoInbound── eltax adapter ◀── municipalities

The pension system speaks usage numbers only. The hub adds the Individual Numbers (個人番号付加), sealed
for the eLTAX adapter; numbers arriving in municipalities' notices are sealed for the hub by the adapter at
once. The 年金証書記号番号 and 基礎年金番号 do travel to eLTAX: the layouts carry them.

The special collection contracts live in :mod:`contracts.messages.eltax_tokucho` and are re-exported here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final, Literal

from pydantic import Field, field_validator, model_validator

from contracts.base import ContractModel
from contracts.envelope import LegalBasis, Purpose
from contracts.messages.common import ChunkInfo, NumberFreeText, PlainText, holds_no_number
from contracts.messages.eltax_tokucho import (
    CATEGORIES,
    FROM_FEDERATION,
    FROM_MUNICIPALITIES,
    EltaxTokuchoInbound,
    EltaxTokuchoNotice,
    EltaxTokuchoRecord,
    InstructionKind,
    NumberCheck,
    Sex,
    TokuchoAmounts,
    TokuchoInstruction,
    TokuchoInstructions,
    TokuchoNoticeCode,
    TokuchoNoticeRequested,
    TokuchoRecord,
)
from contracts.purposes import ELTAX_PAYMENT_REPORT, ELTAX_TOKUCHO_NOTICE, ELTAX_TOKUCHO_TARGET_NOTICE
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "CATEGORIES",
    "FROM_FEDERATION",
    "FROM_MUNICIPALITIES",
    "NOTICE_PURPOSE",
    "PAYMENT_REPORT_PURPOSE",
    "TARGET_NOTICE_PURPOSE",
    "DependantKind",
    "EltaxDocument",
    "EltaxOutcomeRecord",
    "EltaxOutcomes",
    "EltaxPaymentReportSubmission",
    "EltaxReceipt",
    "EltaxTokuchoInbound",
    "EltaxTokuchoNotice",
    "EltaxTokuchoRecord",
    "InstructionKind",
    "NumberCheck",
    "PaymentAmounts",
    "PaymentReportDeductions",
    "PaymentReportPayer",
    "PaymentReportRecord",
    "PaymentReportRequested",
    "ReceiptError",
    "ReceiptRecord",
    "ReceiptStatus",
    "ReportDependant",
    "ReportSpouse",
    "SealedDependant",
    "SealedSpouse",
    "Sex",
    "SubmissionRecord",
    "TokuchoAmounts",
    "TokuchoInstruction",
    "TokuchoInstructions",
    "TokuchoNoticeCode",
    "TokuchoNoticeRequested",
    "TokuchoRecord",
    "notice_number_field",
    "purpose_of_notice",
    "recipient_number_field",
    "report_dependant_number_field",
    "spouse_number_field",
]

MAX_RECORDS = 50_000
_MUNICIPALITY = r"^[0-9]{5,6}$"
_FULLWIDTH_KANA = r"^[ァ-ヴー・\u3000]+$"
_LOCAL_TAX = "地方税法"

PAYMENT_REPORT_PURPOSE: Final = Purpose(
    code=ELTAX_PAYMENT_REPORT,
    legal_basis=(
        LegalBasis(law=_LOCAL_TAX, article="第317条の6", item="公的年金等支払報告書の提出"),
        LegalBasis(
            law="行政手続における特定の個人を識別するための番号の利用等に関する法律",
            article="第9条",
            item="個人番号関係事務",
        ),
    ),
)
"""Payment reports and their receipts: the only purpose under which eLTAX receives report numbers."""
TARGET_NOTICE_PURPOSE: Final = Purpose(
    code=ELTAX_TOKUCHO_TARGET_NOTICE,
    legal_basis=(LegalBasis(law=_LOCAL_TAX, article="第321条の7の4", item="年金保険者の市町村への通知"),),
)
"""The target notice (00), which carries numbers where the layout has them."""
NOTICE_PURPOSE: Final = Purpose(
    code=ELTAX_TOKUCHO_NOTICE,
    legal_basis=(LegalBasis(law=_LOCAL_TAX, article="第321条の7の2", item="公的年金からの特別徴収"),),
)
"""Every other notice of the special collection, in either direction (no numbers to eLTAX)."""


def purpose_of_notice(code: TokuchoNoticeCode) -> Purpose:
    """The purpose a notice travels under."""
    return TARGET_NOTICE_PURPOSE if code is TokuchoNoticeCode.TARGET else NOTICE_PURPOSE


def recipient_number_field(record_seq: int) -> str:
    """The field a recipient's number is sealed under in a submission (bound to its message id)."""
    return f"records.{record_seq}.individual_number"


def spouse_number_field(record_seq: int) -> str:
    """The field a spouse's number is sealed under in a submission."""
    return f"records.{record_seq}.spouse.individual_number"


def report_dependant_number_field(record_seq: int, index: int) -> str:
    """The field the number of the dependant at ``index`` (from 0) is sealed under in a submission."""
    return f"records.{record_seq}.dependants.{index}.individual_number"


def notice_number_field(record_seq: int) -> str:
    """The field a number is sealed under in a notice (to eLTAX for eLTAX, from eLTAX for the hub)."""
    return f"records.{record_seq}.individual_number"


class DependantKind(StrEnum):
    """控除対象扶養親族 の区分 ([I] renkei's codes, pending the eLTAX specification)."""

    ELDERLY = "elderly"
    """老人扶養親族 (70 or over)."""
    SPECIFIC = "specific"
    """特定扶養親族 (19 to 22)."""
    OTHER = "other"
    UNDER_16 = "under_16"
    """16歳未満扶養親族: not deductible, reported with their number all the same."""


class PaymentReportPayer(ContractModel):
    """The payer (提出義務者): the federation."""

    name: PlainText = Field(min_length=1, max_length=30)
    address: PlainText = Field(min_length=1, max_length=60)
    phone: str | None = Field(None, pattern=r"^[0-9-]{1,15}$")
    corporate_number: str | None = Field(None, pattern=r"^[0-9]{13}$", description="法人番号")
    reference_number: str | None = Field(None, pattern=r"^[0-9A-Za-z]{1,10}$", description="整理番号1")

    @field_validator("phone")
    @classmethod
    def _phone_is_not_a_number(cls, value: str | None) -> str | None:
        # Fifteen digits and hyphens leave room for twelve digits in a row (a validator, not a new type, so
        # that the published schema keeps its shape).
        return None if value is None else holds_no_number(value)


class PaymentAmounts(ContractModel):
    """The amounts of one 所得税法 第203条の3 section (第1号, 第2号 or 第3号 適用分), in yen."""

    paid: int | None = Field(None, ge=0, lt=10**10)
    unpaid: int | None = Field(None, ge=0, lt=10**10)
    withheld: int | None = Field(None, ge=0, lt=10**10)
    unwithheld: int | None = Field(None, ge=0, lt=10**10)


class PaymentReportDeductions(ContractModel):
    """What the recipient declared (扶養親族等申告書); the dependant counts follow from the dependants."""

    special_disabled: bool = False
    other_disabled: bool = False
    spouse_status: Literal[1, 2, 3] | None = Field(None, description="控除対象配偶者の有無等")
    disabled_special_count: int | None = Field(None, ge=0, le=99)
    disabled_special_cohabiting: int | None = Field(None, ge=0, le=99)
    disabled_other_count: int | None = Field(None, ge=0, le=99)
    social_insurance: int | None = Field(None, ge=0, lt=10**10)
    widow: bool = False
    special_widow: bool = False


class ReportSpouse(ContractModel):
    """The spouse named on the declaration, by usage number (the hub adds the number)."""

    usage_number: UsageNumber
    name: PlainText = Field(min_length=1, max_length=30)


class ReportDependant(ContractModel):
    """A dependant named on the declaration, by a usage number of kind ``dependant``."""

    usage_number: UsageNumber
    name: PlainText = Field(min_length=1, max_length=30)
    kana_name: str = Field(min_length=1, max_length=30, pattern=_FULLWIDTH_KANA)
    kind: DependantKind

    @model_validator(mode="after")
    def _dependant_key(self) -> ReportDependant:
        if self.usage_number.kind is not UsageNumberKind.DEPENDANT:
            raise ValueError("a dependant is known by a usage number of kind dependant")
        return self


class _ReportRecordBase(ContractModel):
    """What a payment report says about one recipient, numbers aside."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber = Field(description="the recipient's 年金証書記号番号, also 受給者番号")
    destination_municipality_code: str = Field(pattern=_MUNICIPALITY, description="1月1日 住所地")
    correction: Literal[0, 1, 2, 3] = Field(0, description="訂正表示")
    name: PlainText = Field(min_length=1, max_length=30)
    kana_name: str = Field(min_length=1, max_length=60, pattern=_FULLWIDTH_KANA)
    address: PlainText = Field(min_length=1, max_length=60)
    abroad: bool = False
    birth_date: date
    sections: tuple[PaymentAmounts | None, PaymentAmounts | None, PaymentAmounts | None] = (None, None, None)
    deductions: PaymentReportDeductions = PaymentReportDeductions()
    remarks: NumberFreeText | None = Field(None, min_length=1, max_length=100, description="摘要")

    @model_validator(mode="after")
    def _recipient_key(self) -> _ReportRecordBase:
        if self.usage_number.kind is not UsageNumberKind.PENSION_CERTIFICATE:
            raise ValueError("a recipient is known by the pension certificate usage number")
        return self


def _at_most_four(dependants: tuple[ReportDependant, ...] | tuple[SealedDependant, ...]) -> None:
    minors = sum(d.kind is DependantKind.UNDER_16 for d in dependants)
    if minors > 4 or len(dependants) - minors > 4:
        raise ValueError("a report names at most four deductible dependants and four under 16")


class PaymentReportRecord(_ReportRecordBase):
    """One recipient's report as the pension system sends it: no number, anyone named by usage number."""

    spouse: ReportSpouse | None = None
    dependants: tuple[ReportDependant, ...] = Field((), max_length=8)

    @model_validator(mode="after")
    def _dependants_fit(self) -> PaymentReportRecord:
        _at_most_four(self.dependants)
        return self


@register("pension.payment_report.requested", 1)
class PaymentReportRequested(ContractModel):
    """A chunk of the year's payment reports, from the pension system (usage numbers only)."""

    chunk: ChunkInfo
    tax_year: int = Field(ge=2019, le=2100, description="年分: the year the payments were made")
    payer: PaymentReportPayer
    records: tuple[PaymentReportRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class SealedSpouse(ContractModel):
    """The spouse as eLTAX receives it: a name and the number, sealed for the eLTAX adapter."""

    name: PlainText = Field(min_length=1, max_length=30)
    individual_number: SealedNumber | None = None


class SealedDependant(ContractModel):
    """A dependant as eLTAX receives it (no usage number: the report does not need it)."""

    name: PlainText = Field(min_length=1, max_length=30)
    kana_name: str = Field(min_length=1, max_length=30, pattern=_FULLWIDTH_KANA)
    kind: DependantKind
    individual_number: SealedNumber | None = None


class SubmissionRecord(_ReportRecordBase):
    """One recipient's report with the numbers the hub added, sealed for the eLTAX adapter.

    Sealed under ``records.<seq>.individual_number``, ``records.<seq>.spouse.individual_number`` and
    ``records.<seq>.dependants.<k>.individual_number``. A number the vault does not hold is left out.
    """

    individual_number: SealedNumber | None = None
    spouse: SealedSpouse | None = None
    dependants: tuple[SealedDependant, ...] = Field((), max_length=8)

    @model_validator(mode="after")
    def _dependants_fit(self) -> SubmissionRecord:
        _at_most_four(self.dependants)
        return self


@register("eltax.payment_report.submission", 1)
class EltaxPaymentReportSubmission(ContractModel):
    """A chunk of payment reports for the eLTAX adapter, which writes one file per municipality."""

    chunk: ChunkInfo
    tax_year: int = Field(ge=2019, le=2100)
    payer: PaymentReportPayer
    records: tuple[SubmissionRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


# -- receipts: what eLTAX says about what the federation sent ----------------------------------------------


class EltaxDocument(StrEnum):
    """The kinds of file the federation submits through eLTAX."""

    PAYMENT_REPORT = "payment_report"
    """公的年金等支払報告書 (CSV, 法定資料の種類 331)."""
    TOKUCHO_NOTICE = "tokucho_notice"
    """A special collection notice (fixed length); its code is in ``notice_code``."""


class ReceiptStatus(StrEnum):
    """Whether eLTAX (the municipality) took a file or a record."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ReceiptError(ContractModel):
    """One error of a record or a file: the layout field at fault and an error code (never a value)."""

    field: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    code: str = Field(pattern=r"^E[0-9]{3}$")


class ReceiptRecord(ContractModel):
    """What eLTAX says about one record of a submitted file."""

    line: int = Field(ge=1, description="the record's position among the file's data records")
    usage_number: UsageNumber | None = Field(None, description="受給者番号 / 共済年金証書記号番号 echoed")
    status: ReceiptStatus
    errors: tuple[ReceiptError, ...] = Field((), max_length=100)


class _FileReceipt(ContractModel):
    """Which submitted file eLTAX answered, and what it said about the file as a whole.

    The fields both the adapter's receipt and the pension system's outcomes begin with; each message
    adds its own records.
    """

    submission: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    document: EltaxDocument
    notice_code: TokuchoNoticeCode | None = None
    municipality_code: str = Field(pattern=_MUNICIPALITY)
    received_on: date
    file_status: ReceiptStatus
    file_errors: tuple[ReceiptError, ...] = Field((), max_length=100)


@register("eltax.receipt", 1)
class EltaxReceipt(_FileReceipt):
    """eLTAX's receipt of one submitted file (受付結果), as the eLTAX adapter read it."""

    records: tuple[ReceiptRecord, ...] = Field((), max_length=MAX_RECORDS)


class EltaxOutcomeRecord(ContractModel):
    """The outcome of one record for the pension system, by usage number."""

    line: int = Field(ge=1)
    usage_number: UsageNumber
    status: ReceiptStatus
    errors: tuple[ReceiptError, ...] = Field((), max_length=100)


@register("pension.eltax.outcomes", 1)
class EltaxOutcomes(_FileReceipt):
    """What eLTAX said about one submitted file, for the pension system (no number, ever)."""

    records: tuple[EltaxOutcomeRecord, ...] = Field((), max_length=MAX_RECORDS)
    unmatched_lines: tuple[int, ...] = Field(
        (), max_length=MAX_RECORDS, description="receipt lines without a usage number to report them by"
    )

"""The intermediate server (中間サーバー / 情報提供ネットワークシステム): codes, queries, 副本 and provision.

Institutions never exchange the Individual Number on this network; each holds its own code (符号) for a
person. The hub keeps the federation's codes in its store, speaks to the intermediate server adapter by
団体内統合宛名番号 (``atena_no``, an opaque per-subject number) and code, and to the pension system by usage
number only. Legs::

    符号取得   pension ─CodeAcquisitionRequested──▶ hub ─IsCodeAcquisitionRequest──▶ adapter ─▶ 中間サーバー
              pension ◀─CodeAcquisitionCompleted── hub ◀─IsCodeAcquisitionResult─── adapter ◀─
    情報照会   pension ─InfoQueryRequested────────▶ hub ─IsInfoQueryRequest────────▶ adapter ─▶
              pension ◀─InfoQueryAnswered───────── hub ◀─IsInfoQueryResult───────── adapter ◀─ (late)
    副本登録   pension ─DuplicateDataChanged──────▶ hub ─IsDuplicateRegister───────▶ adapter ─▶
              pension ◀─DuplicateDataRegistered─── hub ◀─IsDuplicateResult───────── adapter ◀─
    情報提供   pension ◀─ProvisionNoticed────────── hub ◀─IsProvisionNotice───────── adapter ◀─
    refusal   hub ─InfoQueryRefused─▶ hub (always dead-lettered: the operator's trail of a refused query)

The only Individual Number here travels sealed for the adapter (code acquisition). Codes, 宛名番号 and
record identification numbers are shaped so that none can pass for a twelve-digit number.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from contracts.base import ContractModel
from contracts.individual_number import is_valid_individual_number
from contracts.messages.common import NumberFreeText, PlainText
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber

__all__ = [
    "AtenaNumber",
    "CodeAcquisitionCompleted",
    "CodeAcquisitionOutcome",
    "CodeAcquisitionRecord",
    "CodeAcquisitionRequested",
    "CodeStatus",
    "DuplicateChangeRecord",
    "DuplicateDataChanged",
    "DuplicateDataRegistered",
    "DuplicateOperation",
    "DuplicateOutcome",
    "DuplicateStatus",
    "InfoKind",
    "InfoQueryAnswer",
    "InfoQueryAnswered",
    "InfoQueryRecord",
    "InfoQueryRefused",
    "InfoQueryRequested",
    "IsCodeAcquisitionRecord",
    "IsCodeAcquisitionRequest",
    "IsCodeAcquisitionResult",
    "IsCodeResultRecord",
    "IsDuplicateRecord",
    "IsDuplicateRegister",
    "IsDuplicateResult",
    "IsDuplicateResultRecord",
    "IsError",
    "IsInfoQueryRecord",
    "IsInfoQueryRequest",
    "IsInfoQueryResult",
    "IsInfoQueryResultRecord",
    "IsProvisionNotice",
    "IsProvisionNoticeRecord",
    "LocalTaxInfo",
    "OrgCode",
    "PensionDuplicateData",
    "PensionKind",
    "PersonCode",
    "ProvisionNoticed",
    "ProvisionOutcome",
    "QueryStatus",
    "RecordId",
    "RefusedQuery",
    "ResidentRecordInfo",
    "SpiCode",
    "TableBasis",
]

MAX_RECORDS = 10_000
_BATCH = r"^[A-Za-z0-9_.-]{1,64}$"

SpiCode = Annotated[str, StringConstraints(pattern=r"^TM[0-9]{14}$")]
"""特定個人情報名コード: ``TM`` and fourteen digits."""
AtenaNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{15}$")]
"""団体内統合宛名番号: fifteen digits, zero-padded; the hub's opaque per-subject key on this network."""
PersonCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{8,64}$")]
"""符号 (情報提供用個人識別符号) as this network hands it out: capital letters only."""


def _not_a_number(value: str) -> str:
    # A record id of exactly twelve digits with a valid check digit would pass for an Individual Number.
    # (Only the whole value: ids are hex and decimal by construction, and twelve digits inside a longer one
    # would refuse a good record once in about a thousand.)
    if is_valid_individual_number(value):
        raise ValueError("a record identification number must not have the form of an Individual Number")
    return value


RecordId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{4,32}$"), AfterValidator(_not_a_number)]
"""レコード識別番号 of a query or a 副本 record; unique on the network."""
OrgCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{6}$")]
"""情報提供者機関コード / 情報照会者機関コード; six digits for a municipality (全国地方公共団体コード)."""
JimuCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{2,15}$")]
Ref = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class InfoKind(StrEnum):
    """The information the pension system asks municipalities for."""

    RESIDENT_RECORD = "resident_record"
    """住民票関係情報: items of the 住民票 other than the 基本4情報 (世帯, 続柄)."""
    LOCAL_TAX = "local_tax"
    """地方税関係情報: 市町村民税 amounts and their basis."""


class IsError(StrEnum):
    """The intermediate server's own errors (domain.md §2.3, §6.2)."""

    CODE_NOT_ACQUIRED = "code_not_acquired"
    """「…は符号が未取得です。」"""
    DUPLICATE_RECORD_ID = "duplicate_record_id"
    """「「レコード識別番号」が既に存在しています。」"""
    QUERY_NOT_PERMITTED = "query_not_permitted"
    """「…の照会は許可されていません。」"""
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    NO_DATA = "no_data"
    RECORD_NOT_FOUND = "record_not_found"
    """An update or delete of a 副本 record the server does not hold."""


class TableBasis(ContractModel):
    """A row of the legal-basis table in both numberings: 命令 第2条の表 (current) and 別表第二 (legacy)."""

    current_item: int = Field(ge=1, le=300, description="命令 第2条の表の項番, e.g. 84")
    current_article: str = Field(pattern=r"^第[0-9]{1,3}条$", description="detailing article, e.g. 第86条")
    legacy_item: int | None = Field(None, ge=1, le=300, description="old 番号法 別表第二の項番, e.g. 59")


# --- 符号取得 -----------------------------------------------------------------------------------------------


class CodeAcquisitionRecord(ContractModel):
    """One person the pension system wants a code for."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber


@register("pension.code_acquisition.requested", 1)
class CodeAcquisitionRequested(ContractModel):
    """The pension system asks the hub to hold a code for each person (usage numbers only)."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[CodeAcquisitionRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class IsCodeAcquisitionRecord(ContractModel):
    """One person to acquire a code for: 宛名番号 and the number, sealed for the adapter."""

    record_seq: int = Field(ge=0)
    atena_no: AtenaNumber
    individual_number: SealedNumber


@register("intermediate_server.code_acquisition.request", 1)
class IsCodeAcquisitionRequest(ContractModel):
    """符号取得要求, as the hub sends it to the intermediate server adapter."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[IsCodeAcquisitionRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class IsCodeResultRecord(ContractModel):
    """The network's answer for one person: the code, or why there is none."""

    record_seq: int = Field(ge=0)
    atena_no: AtenaNumber
    acquired: bool
    code: PersonCode | None = None
    message_ja: NumberFreeText | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _code_iff_acquired(self) -> IsCodeResultRecord:
        if self.acquired != (self.code is not None):
            raise ValueError("a code is present exactly when it was acquired")
        return self


@register("intermediate_server.code_acquisition.result", 1)
class IsCodeAcquisitionResult(ContractModel):
    """符号取得結果, from the adapter to the hub."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[IsCodeResultRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class CodeStatus(StrEnum):
    """Whether the hub now holds a code for the person."""

    ACQUIRED = "acquired"
    ALREADY_HELD = "already_held"
    """The hub held a code already and did not ask again."""
    FAILED = "failed"
    NO_NUMBER = "no_number"
    """The hub holds no Individual Number for the person: nothing could be asked."""
    UNKNOWN_PERSON = "unknown_person"
    NOT_PERMITTED = "not_permitted"
    """The purpose table does not permit sending this person's number for a code (a 扶養控除対象者 only)."""


class CodeAcquisitionOutcome(ContractModel):
    """One person's code status, by usage number (the code itself never leaves the hub)."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    status: CodeStatus


@register("pension.code_acquisition.completed", 1)
class CodeAcquisitionCompleted(ContractModel):
    """Code statuses for the pension system."""

    batch_id: str = Field(pattern=_BATCH)
    answered_by: Literal["intermediate_server", "hub"]
    records: tuple[CodeAcquisitionOutcome, ...] = Field(min_length=1, max_length=MAX_RECORDS)


# --- 情報照会 -----------------------------------------------------------------------------------------------


class InfoQueryRecord(ContractModel):
    """One query of the pension system: whom, what, from which municipality, for which task and basis."""

    record_seq: int = Field(ge=0)
    query_ref: Ref = Field(description="the pension system's own id of the query, echoed in the answer")
    usage_number: UsageNumber
    info_kind: InfoKind
    spi_code: SpiCode
    jimu_code: JimuCode = Field(description="the administrative task (事務) of the legal-basis table")
    basis: TableBasis
    provider_org_code: OrgCode
    tax_year: int | None = Field(None, ge=2000, le=2100, description="課税年度 (地方税関係情報)")


@register("pension.info_query.requested", 1)
class InfoQueryRequested(ContractModel):
    """Queries from the pension system (usage numbers only)."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[InfoQueryRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class IsInfoQueryRecord(ContractModel):
    """One query as the network sees it: record id, 宛名番号 and code, never a usage number."""

    record_seq: int = Field(ge=0)
    record_id: RecordId
    atena_no: AtenaNumber
    code: PersonCode
    spi_code: SpiCode
    jimu_code: JimuCode
    basis: TableBasis
    provider_org_code: OrgCode
    tax_year: int | None = Field(None, ge=2000, le=2100)


@register("intermediate_server.info_query.request", 1)
class IsInfoQueryRequest(ContractModel):
    """情報照会要求, as the hub sends it to the adapter."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[IsInfoQueryRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class QueryStatus(StrEnum):
    """How a query ended."""

    ANSWERED = "answered"
    NO_DATA = "no_data"
    ERROR = "error"


class LocalTaxInfo(ContractModel):
    """地方税関係情報: 市町村民税 of one tax year."""

    tax_year: int = Field(ge=2000, le=2100)
    taxable: bool = Field(description="課税区分: false for 非課税")
    per_capita_levy: int = Field(ge=0, le=10_000_000, description="市町村民税均等割額 (円)")
    income_levy: int = Field(ge=0, le=1_000_000_000, description="市町村民税所得割額（定額減税前） (円)")


class ResidentRecordInfo(ContractModel):
    """住民票関係情報: the household (世帯) as the 住民票 records it."""

    household_head: bool = Field(description="世帯主か")
    relationship: PlainText = Field(min_length=1, max_length=20, description="世帯主との続柄")
    household_size: int = Field(ge=1, le=99, description="世帯員数")


class IsInfoQueryResultRecord(ContractModel):
    """The network's answer to one query, matched by record identification number."""

    record_id: RecordId
    provider_org_code: OrgCode
    status: QueryStatus
    error: IsError | None = None
    message_ja: NumberFreeText | None = Field(None, max_length=200)
    provider_name: PlainText | None = Field(None, max_length=60)
    provided_at: AwareDatetime | None = None
    non_disclosure: bool = False
    local_tax: LocalTaxInfo | None = None
    resident_record: ResidentRecordInfo | None = None

    @model_validator(mode="after")
    def _status_has_its_facts(self) -> IsInfoQueryResultRecord:
        if (self.status is QueryStatus.ERROR) != (self.error is not None):
            raise ValueError("an error code is present exactly when the status is error")
        if self.status is not QueryStatus.ANSWERED and (self.local_tax or self.resident_record):
            raise ValueError("only an answered query carries information")
        return self


@register("intermediate_server.info_query.result", 1)
class IsInfoQueryResult(ContractModel):
    """情報照会結果 (or the errors of a 受付), from the adapter to the hub."""

    records: tuple[IsInfoQueryResultRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class InfoQueryAnswer(ContractModel):
    """One answer for the pension system, by usage number and the pension system's query ref."""

    query_ref: Ref
    usage_number: UsageNumber
    info_kind: InfoKind
    spi_code: SpiCode
    provider_org_code: OrgCode
    status: QueryStatus
    error: IsError | None = None
    message_ja: NumberFreeText | None = Field(None, max_length=200)
    record_id: RecordId | None = None
    provided_at: AwareDatetime | None = None
    non_disclosure: bool = False
    local_tax: LocalTaxInfo | None = None
    resident_record: ResidentRecordInfo | None = None


@register("pension.info_query.answered", 1)
class InfoQueryAnswered(ContractModel):
    """Answers for the pension system. ``hub``: refused or unaskable before anything left the hub."""

    answered_by: Literal["intermediate_server", "hub"]
    records: tuple[InfoQueryAnswer, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class RefusedQuery(ContractModel):
    """A query the legal-basis table does not allow; the person appears by audit-scope token only."""

    query_ref: Ref
    subject_token: NumberFreeText | None = Field(None, max_length=64)
    spi_code: SpiCode
    jimu_code: JimuCode
    basis: TableBasis
    provider_org_code: OrgCode
    reason: NumberFreeText = Field(min_length=1, max_length=300)


@register("hub.info_query.refused", 1)
class InfoQueryRefused(ContractModel):
    """Queries refused by the legal-basis table, sent by the hub to itself to be dead-lettered."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[RefusedQuery, ...] = Field(min_length=1, max_length=MAX_RECORDS)


# --- 副本登録 -----------------------------------------------------------------------------------------------


class DuplicateOperation(StrEnum):
    """処理区分 of a 副本 change."""

    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"


class PensionKind(StrEnum):
    """年金種別 of the 年金給付関係情報 the federation provides."""

    RETIREMENT = "retirement"
    DISABILITY = "disability"
    SURVIVOR = "survivor"


class PensionDuplicateData(ContractModel):
    """副本データ: the federation's 年金給付関係情報 of one person."""

    pension_kind: PensionKind
    annual_amount: int = Field(ge=0, le=100_000_000, description="年金額 (円)")
    suspended: bool = Field(description="支給停止")
    entitled_from: date = Field(description="受給権発生日")
    entitlement_ended_on: date | None = Field(None, description="受給権消滅日")


class DuplicateChangeRecord(ContractModel):
    """One change of the federation's 副本, from the pension system."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    operation: DuplicateOperation
    record_id: RecordId = Field(description="レコード識別番号 of the 副本 record (the pension system's key)")
    spi_code: SpiCode
    dataset_item_code: str = Field(pattern=r"^[0-9A-Z]{1,16}$", description="データセットの識別項目コード")
    spi_version: int = Field(ge=1, le=99, description="特定個人情報の版番号")
    publication_start: date = Field(description="公開開始日")
    publication_end: date | None = Field(None, description="公開終了日")
    data: PensionDuplicateData | None = None

    @model_validator(mode="after")
    def _data_unless_delete(self) -> DuplicateChangeRecord:
        if (self.operation is DuplicateOperation.DELETE) == (self.data is not None):
            raise ValueError("insert and update carry data; delete carries none")
        if self.publication_end is not None and self.publication_end < self.publication_start:
            raise ValueError("publication ends before it starts")
        return self


@register("pension.duplicate_data.changed", 1)
class DuplicateDataChanged(ContractModel):
    """Changes of the 副本 from the pension system (usage numbers only)."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[DuplicateChangeRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class IsDuplicateRecord(ContractModel):
    """One 副本 change as the network sees it (DBM elements), by 宛名番号."""

    record_seq: int = Field(ge=0)
    operation: DuplicateOperation
    record_id: RecordId
    atena_no: AtenaNumber
    spi_code: SpiCode
    dataset_item_code: str = Field(pattern=r"^[0-9A-Z]{1,16}$")
    spi_version: int = Field(ge=1, le=99)
    publication_start: date
    publication_end: date | None = None
    data: PensionDuplicateData | None = None


@register("intermediate_server.duplicate.register", 1)
class IsDuplicateRegister(ContractModel):
    """副本登録 (情報提供データベース管理), as the hub sends it to the adapter."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[IsDuplicateRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class DuplicateStatus(StrEnum):
    """How a 副本 change ended."""

    REGISTERED = "registered"
    ERROR = "error"


class IsDuplicateResultRecord(ContractModel):
    """The network's answer to one 副本 change (it echoes the 宛名番号 the change named)."""

    record_seq: int = Field(ge=0)
    record_id: RecordId
    atena_no: AtenaNumber
    operation: DuplicateOperation
    status: DuplicateStatus
    error: IsError | None = None
    message_ja: NumberFreeText | None = Field(None, max_length=200)


@register("intermediate_server.duplicate.result", 1)
class IsDuplicateResult(ContractModel):
    """副本登録結果, from the adapter to the hub."""

    batch_id: str = Field(pattern=_BATCH)
    records: tuple[IsDuplicateResultRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class DuplicateOutcome(ContractModel):
    """One 副本 change's result for the pension system."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    record_id: RecordId
    operation: DuplicateOperation
    status: DuplicateStatus
    error: IsError | None = None
    message_ja: NumberFreeText | None = Field(None, max_length=200)


@register("pension.duplicate_data.registered", 1)
class DuplicateDataRegistered(ContractModel):
    """Results of 副本 changes for the pension system."""

    batch_id: str = Field(pattern=_BATCH)
    answered_by: Literal["intermediate_server", "hub"]
    records: tuple[DuplicateOutcome, ...] = Field(min_length=1, max_length=MAX_RECORDS)


# --- 情報提供 -----------------------------------------------------------------------------------------------


class IsProvisionNoticeRecord(ContractModel):
    """The network served another institution from the federation's 副本."""

    provision_id: RecordId = Field(description="the network's id of the provision (提供記録番号)")
    record_id: RecordId = Field(description="レコード識別番号 of the 副本 record that was provided")
    atena_no: AtenaNumber
    requester_org_code: OrgCode
    requester_name: PlainText = Field(min_length=1, max_length=60)
    spi_code: SpiCode
    jimu_name: PlainText = Field(min_length=1, max_length=120)
    basis: TableBasis
    requested_at: AwareDatetime
    provided_at: AwareDatetime
    non_disclosure: bool = False


@register("intermediate_server.provision.notice", 1)
class IsProvisionNotice(ContractModel):
    """情報提供の通知, from the adapter to the hub."""

    records: tuple[IsProvisionNoticeRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class ProvisionOutcome(ContractModel):
    """One provision of the federation's data, by usage number."""

    usage_number: UsageNumber
    provision_id: RecordId
    record_id: RecordId
    requester_name: PlainText = Field(min_length=1, max_length=60)
    spi_code: SpiCode
    provided_at: AwareDatetime
    non_disclosure: bool = False


@register("pension.provision.noticed", 1)
class ProvisionNoticed(ContractModel):
    """Provisions of the federation's data, for the pension system."""

    records: tuple[ProvisionOutcome, ...] = Field(min_length=1, max_length=MAX_RECORDS)

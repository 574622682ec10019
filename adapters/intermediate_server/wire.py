"""The intermediate server's files: code acquisition, queries, answers, 副本 and provision notices.

**Modelled on public facts, pending the official 中間サーバー interface specification.** The column
names of the query result follow a municipal tool that reads the real 情報照会結果 CSV: 宛名番号
(zero-padded to 15 digits), 情報提供者機関コード, 照会ステータス（明細単位） (``09`` = normal end),
照会ステータス（特定個人情報名単位） (``01`` = normal), 照会処理結果メッセージ（明細単位）,
市町村民税均等割額, 市町村民税所得割額（定額減税前）. The 副本 columns follow the element names of a
public DBM (副本登録) payload (RecordIdentificationNumber, IntegratedAddressNumber, ...).
Everything else (the control line, the other files, the codes ``E1``...) is renkei's own. See
``docs/formats/intermediate_server.md``.

One module holds every layout, so that it can be replaced when the specification is in hand; the engine is
:mod:`adapters.intermediate_server._csv`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, TypeVar

from adapters.intermediate_server._csv import Column, FileHeader, Kind, Layout, parse_file, write_file
from contracts.individual_number import IndividualNumber
from contracts.messages.intermediate_server import DuplicateOperation, IsError, PensionKind

__all__ = [
    "ACCEPTANCE",
    "ANSWER",
    "CODE_REQUEST",
    "CODE_RESULT",
    "DUPLICATE_REQUEST",
    "DUPLICATE_RESULT",
    "LAYOUTS",
    "NOTICE",
    "QUERY",
    "AcceptanceRow",
    "AnswerRow",
    "CodeRequestRow",
    "CodeResultRow",
    "DuplicateRequestRow",
    "DuplicateResultRow",
    "FileHeader",
    "NoticeRow",
    "QueryRow",
    "markdown_table",
    "parse",
    "write",
]

ERROR_CODES: Final = (
    ("E1", IsError.CODE_NOT_ACQUIRED),
    ("E2", IsError.DUPLICATE_RECORD_ID),
    ("E3", IsError.QUERY_NOT_PERMITTED),
    ("E4", IsError.RECORD_NOT_FOUND),
    ("E5", IsError.PROVIDER_UNAVAILABLE),
)
ACCEPTED: Final = "accepted"
REGISTERED: Final = "registered"
DETAIL_NORMAL_END: Final = "09"
SPI_NORMAL, SPI_NO_DATA = "01", "02"
R = TypeVar("R")

_ATENA = Column("団体内統合宛名番号", "atena_no", Kind.PATTERN, pattern=r"[0-9]{15}")
_RECORD_SEQ = Column("要求明細番号", "record_seq", Kind.INT)
_RECORD_ID = Column("レコード識別番号", "record_id", Kind.PATTERN, pattern=r"[0-9A-Z]{4,32}")
_CODE = Column("符号", "code", Kind.PATTERN, pattern=r"[A-Z]{8,64}")
_SPI = Column("特定個人情報名コード", "spi_code", Kind.PATTERN, pattern=r"TM[0-9]{14}")
_ORG = r"[0-9A-Z]{6}"
_ITEM = Column("命令項番", "current_item", Kind.INT)
_ARTICLE = Column("命令条", "current_article", Kind.TEXT, max_len=8)
_LEGACY = Column("別表第二項番", "legacy_item", Kind.INT, required=False)
_MESSAGE = Column("照会処理結果メッセージ（明細単位）", "message", Kind.TEXT, required=False)


@dataclass(frozen=True, slots=True)
class CodeRequestRow:
    """符号取得要求: one person, by 宛名番号 and Individual Number (the only number on this network)."""

    record_seq: int
    atena_no: str
    individual_number: IndividualNumber


@dataclass(frozen=True, slots=True)
class CodeResultRow:
    """符号取得結果: the code, or a message saying why there is none."""

    record_seq: int
    atena_no: str
    acquired: bool
    code: str | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class QueryRow:
    """情報照会要求: one query, by 宛名番号 and code."""

    record_seq: int
    record_id: str
    atena_no: str
    code: str
    spi_code: str
    jimu_code: str
    current_item: int
    current_article: str
    legacy_item: int | None
    provider_org_code: str
    tax_year: int | None = None


@dataclass(frozen=True, slots=True)
class AcceptanceRow:
    """情報照会受付結果: accepted (the answer follows later) or refused with the network's error."""

    record_id: str
    status: str | IsError
    message: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerRow:
    """情報照会結果: one answer, with data when the item was found."""

    atena_no: str
    record_id: str
    provider_org_code: str
    provider_name: str
    detail_status: str
    spi_status: str
    message: str | None = None
    provided_at: datetime | None = None
    non_disclosure: bool = False
    tax_year: int | None = None
    taxable: bool | None = None
    per_capita_levy: int | None = None
    income_levy: int | None = None
    household_head: bool | None = None
    relationship: str | None = None
    household_size: int | None = None


@dataclass(frozen=True, slots=True)
class DuplicateRequestRow:
    """副本登録要求 (DBM): one insert, update or delete of a 副本 record."""

    record_seq: int
    operation: DuplicateOperation
    record_id: str
    atena_no: str
    spi_code: str
    dataset_item_code: str
    spi_version: int
    publication_start: date
    publication_end: date | None = None
    pension_kind: PensionKind | None = None
    annual_amount: int | None = None
    suspended: bool | None = None
    entitled_from: date | None = None
    entitlement_ended_on: date | None = None


@dataclass(frozen=True, slots=True)
class DuplicateResultRow:
    """副本登録結果: registered, or the network's error."""

    record_seq: int
    record_id: str
    atena_no: str
    operation: DuplicateOperation
    status: str | IsError
    message: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """情報提供通知: the network served another institution from the federation's 副本."""

    provision_id: str
    record_id: str
    atena_no: str
    requester_org_code: str
    requester_name: str
    spi_code: str
    jimu_name: str
    current_item: int
    current_article: str
    legacy_item: int | None
    requested_at: datetime
    provided_at: datetime
    non_disclosure: bool = False


_TAX = ("tax_year", "taxable", "per_capita_levy", "income_levy")
_RESIDENT = ("household_head", "relationship", "household_size")
_DATA = ("pension_kind", "annual_amount", "suspended", "entitled_from")


def _code_check(row: CodeResultRow) -> tuple[str, str] | None:
    if row.acquired != (row.code is not None):
        return "符号", "is present exactly when the code was acquired"
    return None


def _answer_check(row: AnswerRow) -> tuple[str, str] | None:
    tax = [getattr(row, n) is not None for n in _TAX]
    resident = [getattr(row, n) is not None for n in _RESIDENT]
    if row.spi_status == SPI_NO_DATA and (any(tax) or any(resident)):
        return "照会ステータス（特定個人情報名単位）", "says no data, yet the record carries data"
    if (
        row.spi_status == SPI_NORMAL
        and not (all(tax) and not any(resident))
        and not (all(resident) and not any(tax))
    ):
        return (
            "照会ステータス（特定個人情報名単位）",
            "says normal, yet the record lacks one complete set of data",
        )
    if row.spi_status in (SPI_NORMAL, SPI_NO_DATA) and row.provided_at is None:
        return "提供日時", "is required for an answered query"
    return None


def _duplicate_check(row: DuplicateRequestRow) -> tuple[str, str] | None:
    present = [getattr(row, n) is not None for n in (*_DATA, "entitlement_ended_on")]
    if row.operation is DuplicateOperation.DELETE and any(present):
        return "処理区分", "a delete carries no 副本データ"
    if row.operation is not DuplicateOperation.DELETE and not all(getattr(row, n) is not None for n in _DATA):
        return "処理区分", "an insert or update carries the 副本データ"
    return None


def _ok_or_error(ok: str, ok_text: str) -> tuple[tuple[str, Any], ...]:
    return ((ok_text, ok), *ERROR_CODES)


CODE_REQUEST: Final = Layout(
    "FGQ1", (_RECORD_SEQ, _ATENA, Column("個人番号", "individual_number", Kind.NUMBER)), CodeRequestRow
)
CODE_RESULT: Final = Layout(
    "FGR1",
    (
        _RECORD_SEQ,
        _ATENA,
        Column("処理結果", "acquired", Kind.CODE, codes=(("0", True), ("9", False))),
        Column("符号", "code", Kind.PATTERN, required=False, pattern=r"[A-Z]{8,64}"),
        Column("処理結果メッセージ", "message", Kind.TEXT, required=False),
    ),
    CodeResultRow,
    _code_check,
)
QUERY: Final = Layout(
    "SKQ1",
    (
        _RECORD_SEQ,
        _RECORD_ID,
        _ATENA,
        _CODE,
        _SPI,
        Column("事務コード", "jimu_code", Kind.PATTERN, pattern=r"[A-Z][A-Z0-9]{2,15}"),
        _ITEM,
        _ARTICLE,
        _LEGACY,
        Column("情報提供者機関コード", "provider_org_code", Kind.PATTERN, pattern=_ORG),
        Column("課税年度", "tax_year", Kind.INT, required=False),
    ),
    QueryRow,
)
ACCEPTANCE: Final = Layout(
    "SKA1",
    (_RECORD_ID, Column("受付結果", "status", Kind.CODE, codes=_ok_or_error(ACCEPTED, "00")), _MESSAGE),
    AcceptanceRow,
)
ANSWER: Final = Layout(
    "SKR1",
    (
        Column("宛名番号", "atena_no", Kind.PATTERN, pattern=r"[0-9]{15}"),
        _RECORD_ID,
        Column("情報提供者機関コード", "provider_org_code", Kind.PATTERN, pattern=_ORG),
        Column("情報提供者機関名", "provider_name", Kind.TEXT, max_len=60),
        Column("照会ステータス（明細単位）", "detail_status", Kind.PATTERN, pattern=r"[0-9]{2}"),
        Column("照会ステータス（特定個人情報名単位）", "spi_status", Kind.PATTERN, pattern=r"[0-9]{2}"),
        _MESSAGE,
        Column("提供日時", "provided_at", Kind.DATETIME, required=False),
        Column("不開示フラグ", "non_disclosure", Kind.FLAG),
        Column("課税年度", "tax_year", Kind.INT, required=False),
        Column("課税区分", "taxable", Kind.FLAG, required=False),
        Column("市町村民税均等割額", "per_capita_levy", Kind.INT, required=False),
        Column("市町村民税所得割額（定額減税前）", "income_levy", Kind.INT, required=False),
        Column("世帯主区分", "household_head", Kind.FLAG, required=False),
        Column("続柄", "relationship", Kind.TEXT, required=False, max_len=20),
        Column("世帯員数", "household_size", Kind.INT, required=False),
    ),
    AnswerRow,
    _answer_check,
)
_OPERATION = Column(
    "処理区分",
    "operation",
    Kind.CODE,
    codes=(
        ("1", DuplicateOperation.INSERT),
        ("2", DuplicateOperation.UPDATE),
        ("3", DuplicateOperation.DELETE),
    ),
)
_DBM_RECORD_ID = Column("RecordIdentificationNumber", "record_id", Kind.PATTERN, pattern=r"[0-9A-Z]{4,32}")
_DBM_ATENA = Column("IntegratedAddressNumber", "atena_no", Kind.PATTERN, pattern=r"[0-9]{15}")
DUPLICATE_REQUEST: Final = Layout(
    "DBQ1",
    (
        _RECORD_SEQ,
        _OPERATION,
        _DBM_RECORD_ID,
        _DBM_ATENA,
        Column("SpecificPersonalInformationCode", "spi_code", Kind.PATTERN, pattern=r"TM[0-9]{14}"),
        Column("DataSetIdentificationItemCode", "dataset_item_code", Kind.PATTERN, pattern=r"[0-9A-Z]{1,16}"),
        Column("SPIMajorVersion", "spi_version", Kind.INT),
        Column("PublicationDate", "publication_start", Kind.DATE),
        Column("PublishedEndDate", "publication_end", Kind.DATE, required=False),
        Column(
            "年金種別",
            "pension_kind",
            Kind.CODE,
            required=False,
            codes=(("1", PensionKind.RETIREMENT), ("2", PensionKind.DISABILITY), ("3", PensionKind.SURVIVOR)),
        ),
        Column("年金額", "annual_amount", Kind.INT, required=False),
        Column("支給停止", "suspended", Kind.FLAG, required=False),
        Column("受給権発生日", "entitled_from", Kind.DATE, required=False),
        Column("受給権消滅日", "entitlement_ended_on", Kind.DATE, required=False),
    ),
    DuplicateRequestRow,
    _duplicate_check,
)
DUPLICATE_RESULT: Final = Layout(
    "DBR1",
    (
        _RECORD_SEQ,
        _DBM_RECORD_ID,
        _DBM_ATENA,
        _OPERATION,
        Column("処理結果", "status", Kind.CODE, codes=_ok_or_error(REGISTERED, "0")),
        Column("処理結果メッセージ", "message", Kind.TEXT, required=False),
    ),
    DuplicateResultRow,
)
NOTICE: Final = Layout(
    "TKN1",
    (
        Column("提供記録番号", "provision_id", Kind.PATTERN, pattern=r"[0-9A-Z]{4,32}"),
        _DBM_RECORD_ID,
        _DBM_ATENA,
        Column("情報照会者機関コード", "requester_org_code", Kind.PATTERN, pattern=_ORG),
        Column("情報照会者機関名", "requester_name", Kind.TEXT, max_len=60),
        _SPI,
        Column("事務名", "jimu_name", Kind.TEXT, max_len=120),
        _ITEM,
        _ARTICLE,
        _LEGACY,
        Column("照会日時", "requested_at", Kind.DATETIME),
        Column("提供日時", "provided_at", Kind.DATETIME),
        Column("不開示フラグ", "non_disclosure", Kind.FLAG),
    ),
    NoticeRow,
)
LAYOUTS: Final[dict[str, Layout[Any]]] = {
    layout.kind: layout
    for layout in (
        CODE_REQUEST,
        CODE_RESULT,
        QUERY,
        ACCEPTANCE,
        ANSWER,
        DUPLICATE_REQUEST,
        DUPLICATE_RESULT,
        NOTICE,
    )
}


def write(layout: Layout[R], header: FileHeader, rows: list[R] | tuple[R, ...]) -> bytes:
    """The bytes of a file of ``layout``.

    Raises:
        IsWireError: a value does not fit the layout (the line and column are named).
    """
    return write_file(layout, header, rows)


def parse(layout: Layout[R], content: bytes) -> tuple[FileHeader, list[R]]:
    """Parse a file of ``layout`` strictly.

    Raises:
        IsWireError: the file breaks the layout (the line and column are named, never the value).
    """
    return parse_file(layout, content)


def markdown_table(layout: Layout[Any]) -> str:
    """The columns of ``layout`` as a Markdown table (``docs/formats/intermediate_server.md`` prints them)."""
    lines = ["| # | Column | Field | Type | Required | Values |", "|---|---|---|---|---|---|"]
    for number, c in enumerate(layout.columns, start=1):
        if c.codes:
            values = ", ".join(f"`{text}` {getattr(value, 'value', value)}" for text, value in c.codes)
        elif c.pattern:
            values = f"`{c.pattern}`"
        elif c.kind is Kind.TEXT:
            values = f"up to {c.max_len} characters"
        else:
            values = {
                Kind.INT: "0-9999999999",
                Kind.FLAG: "`0` / `1`",
                Kind.DATE: "`YYYYMMDD`",
                Kind.DATETIME: "`YYYYMMDDHHMMSS` (JST)",
                Kind.NUMBER: "12 digits, valid check digit",
            }.get(c.kind, "")
        required = "yes" if c.required else "no"
        lines.append(f"| {number} | {c.label} | `{c.attr}` | {c.kind.name.lower()} | {required} | {values} |")
    return "\n".join(lines)

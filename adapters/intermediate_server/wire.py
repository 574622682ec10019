"""The intermediate server's files: code acquisition, queries, answers, 副本 and provision notices.

**Modelled on public facts, pending the official 中間サーバー interface specification.** The column
names of the query result follow a municipal tool that reads the real 情報照会結果 CSV: 宛名番号
(zero-padded to 15 digits), 情報提供者機関コード, 照会ステータス（明細単位） (``09`` = normal end),
照会ステータス（特定個人情報名単位） (``01`` = normal), 照会処理結果メッセージ（明細単位）,
市町村民税均等割額, 市町村民税所得割額（定額減税前）. The 副本 columns follow the element names of a
public DBM (副本登録) payload (RecordIdentificationNumber, IntegratedAddressNumber, ...).
Everything else (the control line, the other files, the codes ``E1``...) is renkei's own. See
``docs/formats/intermediate_server.md``.

One module holds every layout and the file frame around them, so that it can be replaced when the
specification is in hand; the columns are declared against the shared engine :mod:`adapters.records`.

A file is UTF-8 (no BOM) lines ending in CR LF::

    IS1,<kind>,<request id: 28 letters>,<batch id or ->,<provider code or ->,<record count>  control line
    <column label>,<column label>,...                                                          column line
    <value>,<value>,...                                                                        one per record

Values follow RFC 4180 quoting. An optional value is empty. Nothing in a value may be a control character,
so a line never spans two. Every problem is an :class:`~adapters.intermediate_server.errors.IsWireError`
naming the line and the column, never the value.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import Any, Final, Generic, TypeVar

from adapters.intermediate_server.errors import IsWireError
from adapters.records.csv import CsvCodec, csv_layout, rfc4180_items, rfc4180_line
from adapters.records.fields import Field, FieldType, Problem, field
from adapters.records.fields import FieldType as T
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
    "Layout",
    "NoticeRow",
    "QueryRow",
    "id_of_text",
    "id_text",
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
TERMINATOR: Final = "\r\n"
MAGIC: Final = "IS1"
MAX_RECORDS: Final = 100_000
_BATCH = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_ORG = r"[0-9A-Z]{6}"
"""An organisation code (機関コード): a provider's in a control line or a query, a requester's in a notice."""
_PROVIDER = re.compile(_ORG)
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"
ID_LETTERS: Final = 28  # 26**28 > 2**128 > 26**27
# The most characters of a column whose declaration gives none (a pattern bounds an ASCII column itself).
_LENGTHS: Final = {
    T.DIGITS: 10,
    T.ASCII: 64,
    T.TEXT: 200,
    T.CODE: 8,
    T.FLAG: 1,
    T.DATE: 8,
    T.DATETIME: 14,
    T.INDIVIDUAL_NUMBER: 12,
}
# How docs/formats/intermediate_server.md names the column types and their values.
_DOC_TYPES: Final = {
    T.DIGITS: "int",
    T.ASCII: "pattern",
    T.TEXT: "text",
    T.CODE: "code",
    T.FLAG: "flag",
    T.DATE: "date",
    T.DATETIME: "datetime",
    T.INDIVIDUAL_NUMBER: "number",
}
_DOC_VALUES: Final = {
    T.DIGITS: "0-9999999999",
    T.FLAG: "`0` / `1`",
    T.DATE: "`YYYYMMDD`",
    T.DATETIME: "`YYYYMMDDHHMMSS` (JST)",
    T.INDIVIDUAL_NUMBER: "12 digits, valid check digit",
}


def id_text(value: uuid.UUID) -> str:
    """A UUID as 28 lowercase letters: no digit, so no part of a file name can pass for a number."""
    number, letters = value.int, []
    for _ in range(ID_LETTERS):
        number, digit = divmod(number, 26)
        letters.append(_LETTERS[digit])
    return "".join(reversed(letters))


def id_of_text(text: str) -> uuid.UUID | None:
    """The UUID of :func:`id_text`'s form, or ``None`` when ``text`` is not one."""
    if len(text) != ID_LETTERS or not all("a" <= c <= "z" for c in text):
        return None
    number = 0
    for c in text:
        number = number * 26 + _LETTERS.index(c)
    return uuid.UUID(int=number) if number < 2**128 else None


def _column(
    label: str,
    name: str,
    type_: FieldType,
    *,
    required: bool = True,
    pattern: str = "",
    codes: tuple[tuple[str, Any], ...] = (),
    length: int | None = None,
) -> Field:
    """A column: ``label`` in the column line, ``name`` the row's attribute; ``length``: most characters."""
    return field(
        name, label, length or _LENGTHS[type_], type_, required=required, pattern=pattern, codes=codes
    )


def _wire_error(problem: Problem, line_no: int) -> IsWireError:
    return IsWireError(
        problem.text, line_no=line_no, column=None if problem.field is None else problem.field.label
    )


@dataclass(frozen=True, slots=True)
class FileHeader:
    """The control line: which kind of file, for which request, batch and provider."""

    kind: str
    request_id: uuid.UUID
    batch_id: str | None = None
    provider: str | None = None


@dataclass(frozen=True, slots=True)
class Layout(Generic[R]):
    """The columns of one file kind, the row type they fill, and the row's own rules.

    ``check`` returns ``(column label, problem)`` for the first rule a row breaks, or ``None``.
    """

    kind: str
    columns: tuple[Field, ...]
    record: type[R]
    check: Callable[[R], tuple[str, str] | None] = lambda record: None
    codec: CsvCodec = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = {f.name for f in fields(self.record)}  # type: ignore[arg-type]  # R is a dataclass; a TypeVar cannot be bound to the dataclass protocol
        if {c.name for c in self.columns} != names:
            raise ValueError(f"layout {self.kind} does not cover {self.record.__name__} exactly")
        codec = CsvCodec(csv_layout(self.kind, *self.columns), reading=_wire_error)
        object.__setattr__(self, "codec", codec)

    def enforce(self, row: R, line_no: int) -> None:
        """Refuse ``row``, of line ``line_no``, if it breaks the row's own rules (``check``).

        Raises:
            IsWireError: naming the line and the column of the first rule broken.
        """
        problem = self.check(row)
        if problem is not None:
            raise IsWireError(problem[1], line_no=line_no, column=problem[0])


def _items(text: str, line_no: int) -> list[str]:
    items = rfc4180_items(text)
    if items is None:
        raise IsWireError("breaks CSV quoting or is not one CSV record", line_no=line_no)
    return items


def _check_ids(batch: str | None, provider: str | None) -> None:
    """The batch id and the provider code of a control line, alike when it is written and when it is read."""
    if batch is not None and not _BATCH.fullmatch(batch):
        raise IsWireError("is not a batch id", line_no=1, column="batch_id")
    if provider is not None and not _PROVIDER.fullmatch(provider):
        raise IsWireError("is not an organisation code", line_no=1, column="provider")


def _control(values: list[str], layout: Layout[Any]) -> tuple[FileHeader, int]:
    if len(values) != 6 or values[0] != MAGIC:
        raise IsWireError("is not a control line", line_no=1)
    if values[1] != layout.kind:
        raise IsWireError("names another kind of file", line_no=1, column="kind")
    request_id = id_of_text(values[2])
    if request_id is None:
        raise IsWireError("is not a request id (28 lowercase letters)", line_no=1, column="request_id")
    batch = None if values[3] == "-" else values[3]
    provider = None if values[4] == "-" else values[4]
    _check_ids(batch, provider)
    if not (values[5].isascii() and values[5].isdigit() and 1 <= len(values[5]) <= 6):
        raise IsWireError("is not a record count", line_no=1, column="record_count")
    return FileHeader(layout.kind, request_id, batch, provider), int(values[5])


_ATENA_NO = r"[0-9]{15}"
"""A 宛名番号, zero-padded to 15 digits, whatever its column is called."""
_ID = r"[0-9A-Z]{4,32}"
"""A record identification number (レコード識別番号) or a provision record number (提供記録番号)."""
_SPI_CODE = r"TM[0-9]{14}"
_CODE_TEXT = r"[A-Z]{8,64}"
_ATENA = _column("団体内統合宛名番号", "atena_no", T.ASCII, pattern=_ATENA_NO)
_RECORD_SEQ = _column("要求明細番号", "record_seq", T.DIGITS)
_RECORD_ID = _column("レコード識別番号", "record_id", T.ASCII, pattern=_ID)
_CODE = _column("符号", "code", T.ASCII, pattern=_CODE_TEXT)
_SPI = _column("特定個人情報名コード", "spi_code", T.ASCII, pattern=_SPI_CODE)
_PROVIDER_ORG = _column("情報提供者機関コード", "provider_org_code", T.ASCII, pattern=_ORG)
_TAX_YEAR = _column("課税年度", "tax_year", T.DIGITS, required=False)
_NON_DISCLOSURE = _column("不開示フラグ", "non_disclosure", T.FLAG)
_RESULT_MESSAGE = _column("処理結果メッセージ", "message", T.TEXT, required=False)
_ITEM = _column("命令項番", "current_item", T.DIGITS)
_ARTICLE = _column("命令条", "current_article", T.TEXT, length=8)
_LEGACY = _column("別表第二項番", "legacy_item", T.DIGITS, required=False)
_MESSAGE = _column("照会処理結果メッセージ（明細単位）", "message", T.TEXT, required=False)


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
    "FGQ1",
    (_RECORD_SEQ, _ATENA, _column("個人番号", "individual_number", T.INDIVIDUAL_NUMBER)),
    CodeRequestRow,
)
CODE_RESULT: Final = Layout(
    "FGR1",
    (
        _RECORD_SEQ,
        _ATENA,
        _column("処理結果", "acquired", T.CODE, codes=(("0", True), ("9", False))),
        _column("符号", "code", T.ASCII, required=False, pattern=_CODE_TEXT),
        _RESULT_MESSAGE,
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
        _column("事務コード", "jimu_code", T.ASCII, pattern=r"[A-Z][A-Z0-9]{2,15}"),
        _ITEM,
        _ARTICLE,
        _LEGACY,
        _PROVIDER_ORG,
        _TAX_YEAR,
    ),
    QueryRow,
)
ACCEPTANCE: Final = Layout(
    "SKA1",
    (_RECORD_ID, _column("受付結果", "status", T.CODE, codes=_ok_or_error(ACCEPTED, "00")), _MESSAGE),
    AcceptanceRow,
)
ANSWER: Final = Layout(
    "SKR1",
    (
        _column("宛名番号", "atena_no", T.ASCII, pattern=_ATENA_NO),
        _RECORD_ID,
        _PROVIDER_ORG,
        _column("情報提供者機関名", "provider_name", T.TEXT, length=60),
        _column("照会ステータス（明細単位）", "detail_status", T.ASCII, pattern=r"[0-9]{2}"),
        _column("照会ステータス（特定個人情報名単位）", "spi_status", T.ASCII, pattern=r"[0-9]{2}"),
        _MESSAGE,
        _column("提供日時", "provided_at", T.DATETIME, required=False),
        _NON_DISCLOSURE,
        _TAX_YEAR,
        _column("課税区分", "taxable", T.FLAG, required=False),
        _column("市町村民税均等割額", "per_capita_levy", T.DIGITS, required=False),
        _column("市町村民税所得割額（定額減税前）", "income_levy", T.DIGITS, required=False),
        _column("世帯主区分", "household_head", T.FLAG, required=False),
        _column("続柄", "relationship", T.TEXT, required=False, length=20),
        _column("世帯員数", "household_size", T.DIGITS, required=False),
    ),
    AnswerRow,
    _answer_check,
)
_OPERATION = _column(
    "処理区分",
    "operation",
    T.CODE,
    codes=(
        ("1", DuplicateOperation.INSERT),
        ("2", DuplicateOperation.UPDATE),
        ("3", DuplicateOperation.DELETE),
    ),
)
_DBM_RECORD_ID = _column("RecordIdentificationNumber", "record_id", T.ASCII, pattern=_ID)
_DBM_ATENA = _column("IntegratedAddressNumber", "atena_no", T.ASCII, pattern=_ATENA_NO)
DUPLICATE_REQUEST: Final = Layout(
    "DBQ1",
    (
        _RECORD_SEQ,
        _OPERATION,
        _DBM_RECORD_ID,
        _DBM_ATENA,
        _column("SpecificPersonalInformationCode", "spi_code", T.ASCII, pattern=_SPI_CODE),
        _column("DataSetIdentificationItemCode", "dataset_item_code", T.ASCII, pattern=r"[0-9A-Z]{1,16}"),
        _column("SPIMajorVersion", "spi_version", T.DIGITS),
        _column("PublicationDate", "publication_start", T.DATE),
        _column("PublishedEndDate", "publication_end", T.DATE, required=False),
        _column(
            "年金種別",
            "pension_kind",
            T.CODE,
            required=False,
            codes=(("1", PensionKind.RETIREMENT), ("2", PensionKind.DISABILITY), ("3", PensionKind.SURVIVOR)),
        ),
        _column("年金額", "annual_amount", T.DIGITS, required=False),
        _column("支給停止", "suspended", T.FLAG, required=False),
        _column("受給権発生日", "entitled_from", T.DATE, required=False),
        _column("受給権消滅日", "entitlement_ended_on", T.DATE, required=False),
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
        _column("処理結果", "status", T.CODE, codes=_ok_or_error(REGISTERED, "0")),
        _RESULT_MESSAGE,
    ),
    DuplicateResultRow,
)
NOTICE: Final = Layout(
    "TKN1",
    (
        _column("提供記録番号", "provision_id", T.ASCII, pattern=_ID),
        _DBM_RECORD_ID,
        _DBM_ATENA,
        _column("情報照会者機関コード", "requester_org_code", T.ASCII, pattern=_ORG),
        _column("情報照会者機関名", "requester_name", T.TEXT, length=60),
        _SPI,
        _column("事務名", "jimu_name", T.TEXT, length=120),
        _ITEM,
        _ARTICLE,
        _LEGACY,
        _column("照会日時", "requested_at", T.DATETIME),
        _column("提供日時", "provided_at", T.DATETIME),
        _NON_DISCLOSURE,
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
    if header.kind != layout.kind:
        raise IsWireError("the header names another kind of file")
    if not 1 <= len(rows) <= MAX_RECORDS:
        raise IsWireError(f"a file holds 1 to {MAX_RECORDS} records")
    _check_ids(header.batch_id, header.provider)
    control = [MAGIC, layout.kind, id_text(header.request_id), header.batch_id or "-", header.provider or "-"]
    parts = [rfc4180_line([*control, str(len(rows))]), rfc4180_line(layout.codec.layout.labels)]
    for line_no, row in enumerate(rows, start=3):
        layout.enforce(row, line_no)
        values = {c.name: getattr(row, c.name) for c in layout.columns}
        parts.append(rfc4180_line(layout.codec.write_items(values, line_no)))
    return "".join(parts).encode("utf-8")


def parse(layout: Layout[R], content: bytes) -> tuple[FileHeader, list[R]]:
    """Parse a file of ``layout`` strictly.

    Raises:
        IsWireError: the file breaks the layout (the line and column are named, never the value).
    """
    if not isinstance(content, bytes):
        raise IsWireError("content is not bytes")
    if content.startswith(b"\xef\xbb\xbf"):
        raise IsWireError("starts with a byte order mark")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise IsWireError("is not UTF-8") from None
    if not text.endswith(TERMINATOR):
        raise IsWireError("does not end with CR LF")
    lines = text[: -len(TERMINATOR)].split(TERMINATOR)
    for line_no, line in enumerate(lines, start=1):
        if "\r" in line or "\n" in line:
            raise IsWireError("has a line break that is not CR LF", line_no=line_no)
    if len(lines) < 3:
        raise IsWireError("needs a control line, a column line and at least one record")
    header, count = _control(_items(lines[0], 1), layout)
    if count != len(lines) - 2:
        raise IsWireError("does not match the records", line_no=1, column="record_count")
    if _items(lines[1], 2) != layout.codec.layout.labels:
        raise IsWireError("does not name the layout's columns in order", line_no=2)
    rows: list[R] = []
    for line_no, line in enumerate(lines[2:], start=3):
        items = _items(line, line_no)
        if len(items) != len(layout.columns):
            raise IsWireError(f"has {len(items)} values, not {len(layout.columns)}", line_no=line_no)
        row = layout.record(**layout.codec.decode_items(items, line_no))
        layout.enforce(row, line_no)
        rows.append(row)
    return header, rows


def markdown_table(layout: Layout[Any]) -> str:
    """The columns of ``layout`` as a Markdown table (``docs/formats/intermediate_server.md`` prints them)."""
    lines = ["| # | Column | Field | Type | Required | Values |", "|---|---|---|---|---|---|"]
    for number, c in enumerate(layout.columns, start=1):
        if c.codes:
            values = ", ".join(f"`{text}` {getattr(value, 'value', value)}" for text, value in c.codes)
        elif c.pattern:
            values = f"`{c.pattern}`"
        elif c.type is T.TEXT:
            values = f"up to {c.length} characters"
        else:
            values = _DOC_VALUES.get(c.type, "")
        required = "yes" if c.required else "no"
        lines.append(f"| {number} | {c.label} | `{c.name}` | {_DOC_TYPES[c.type]} | {required} | {values} |")
    return "\n".join(lines)

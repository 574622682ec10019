"""The J-LIS batch file layout of the survival/change inquiry (生存異動照会): request and result files.

**Modelled on public facts, pending the official J-LIS specification** (住基ネット 本人確認情報提供 仕様書):
the fields follow the seven items of 本人確認情報 and their 変更情報 (domain.md §1.1, §1.4, §6.1); the
record lengths, codes, encoding and checksum are renkei's own choices. Everything about the layout lives
in this module (declared against the shared engine :mod:`adapters.records`) so it can be replaced when the
specification is in hand. The layout is documented in ``docs/formats/jlis.md``.

A file is a sequence of fixed-length records, each followed by CR LF: one header (record kind ``1``),
one or more data records (``2``) and one trailer (``9``). Text is UTF-8 and lengths are in bytes. The
trailer holds the data-record count and the SHA-256 of every byte before the trailer.

Parsing is strict: a wrong length, a bad check digit, full-width digits, a truncated file, a count or
checksum mismatch or an unknown code is a :class:`~adapters.jlis.errors.JlisWireError` naming the record
and the field, never the value.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date
from enum import StrEnum
from operator import attrgetter
from typing import Any, Final, TypeVar

from adapters.jlis.errors import JlisWireError
from adapters.records.fields import Field, Problem, field
from adapters.records.fields import FieldType as T
from adapters.records.fields import markdown_table as _markdown_table
from adapters.records.fixed import FixedCodec, FixedLayout, fixed_layout
from contracts.individual_number import IndividualNumber
from contracts.messages.survival import MoveKind, SurvivalOutcome, UnmatchedReason
from contracts.purposes import JLIS_SURVIVAL_CHANGE

__all__ = [
    "REQUEST_LAYOUTS",
    "RESULT_LAYOUTS",
    "BatchHeader",
    "FileHeader",
    "OutcomeFacts",
    "RequestFile",
    "RequestRecord",
    "ResultFile",
    "ResultRecord",
    "WirePurpose",
    "check_records",
    "codecs",
    "data_layout",
    "header_checker",
    "header_layout",
    "header_values",
    "markdown_table",
    "parse_frame",
    "parse_request",
    "parse_result",
    "record_layout",
    "refuse",
    "trailer_layout",
    "write_frame",
    "write_request",
    "write_result",
]

REQUEST_RECORD_LENGTH: Final = 160
RESULT_RECORD_LENGTH: Final = 800


class WirePurpose(StrEnum):
    """The purposes a J-LIS file may serve (the hub's purpose codes); the wire carries a short code."""

    SURVIVAL_CHANGE = JLIS_SURVIVAL_CHANGE


PURPOSE_CODES: Final = (("SV01", WirePurpose.SURVIVAL_CHANGE),)
OUTCOME_CODES: Final = (
    ("00", SurvivalOutcome.ALIVE),
    ("10", SurvivalOutcome.DEAD),
    ("20", SurvivalOutcome.MOVED),
    ("30", SurvivalOutcome.NAME_CHANGED),
    ("40", SurvivalOutcome.NUMBER_CHANGED),
    ("90", SurvivalOutcome.NOT_FOUND),
)
MOVE_CODES: Final = (
    ("1", MoveKind.RELOCATION),
    ("2", MoveKind.MOVED_IN),
    ("3", MoveKind.MOVED_OUT_PENDING),
    ("4", MoveKind.MOVED_ABROAD),
)
UNMATCHED_CODES: Final = (
    ("1", UnmatchedReason.ABROAD),
    ("2", UnmatchedReason.NO_RESIDENT_CODE),
    ("3", UnmatchedReason.NOT_CONNECTED_MUNICIPALITY),
    ("4", UnmatchedReason.NUMBER_UNKNOWN),
)

_REF = r"[a-z][a-z0-9_]{7,63}"
_BATCH_ID = r"[A-Za-z0-9_.-]{1,64}"


# The frame every J-LIS batch file shares (this inquiry and number acquisition,
# :mod:`adapters.jlis.wire_acquisition`): one header (record kind ``1``), one or more data records (``2``)
# and one trailer (``9``) holding the data-record count and the SHA-256 of every byte before it.


def record_layout(name: str, length: int, *fields: Field) -> FixedLayout:
    """A J-LIS record: ``fields`` one after the other, padded up to ``length`` with a ``filler`` field."""
    return fixed_layout(name, length, *fields, filler=("filler", ""))


def data_layout(name: str, length: int, *fields: Field) -> FixedLayout:
    """A J-LIS data record: kind ``2``, its ``record_seq`` and the sender's ``ref``, then ``fields``."""
    return record_layout(
        name,
        length,
        field("record_kind", "", 1, T.LITERAL, literal="2"),
        field("record_seq", "", 9, T.DIGITS),
        field("ref", "", 64, T.ASCII, pattern=_REF),
        *fields,
    )


def _wire_error(problem: Problem, record_no: int) -> JlisWireError:
    return JlisWireError(
        problem.text, record_no=record_no, field=None if problem.field is None else problem.field.name
    )


def codecs(layouts: tuple[FixedLayout, FixedLayout, FixedLayout]) -> Codecs:
    """The codecs of a file kind's header, data and trailer layouts (errors are :class:`JlisWireError`)."""
    head, data, trail = (FixedCodec(lay, reading=_wire_error) for lay in layouts)
    return head, data, trail


def markdown_table(lay: FixedLayout) -> str:
    """The layout as ``docs/formats/jlis.md`` prints it (offsets 1-based; J-LIS fields have no label)."""
    return _markdown_table(lay.name, lay.fields, by_bytes=True, labelled=False)


def trailer_layout(name: str, length: int) -> FixedLayout:
    """The trailer of every J-LIS file: the data-record count and the checksum."""
    return record_layout(
        name,
        length,
        field("record_kind", "", 1, T.LITERAL, literal="9"),
        field("record_count", "", 7, T.DIGITS),
        field("checksum", "", 64, T.ASCII, pattern=r"[0-9a-f]{64}"),
    )


TERMINATOR: Final = b"\r\n"
HEADER, DATA, TRAILER = b"1"[0], b"2"[0], b"9"[0]
Codecs = tuple[FixedCodec, FixedCodec, FixedCodec]
"""The codecs of a file kind's header, data and trailer records."""
Codes = tuple[tuple[str, Any], ...]
"""``(wire code, value)`` pairs of a code field."""
H = TypeVar("H")
R = TypeVar("R")
Rule = Callable[[R], tuple[str, str] | None]
"""What a record breaks of its kind's rules: the first ``(field, problem)``, or ``None``."""


def refuse(problem: tuple[str, str] | None, record_no: int) -> None:
    """Raise a record's ``(field, problem)``, if any, as the :class:`JlisWireError` naming both."""
    if problem is not None:
        raise JlisWireError(problem[1], record_no=record_no, field=problem[0])


def check_records(records: Sequence[R], rule: Rule[R]) -> None:
    """Refuse the first data record (the first is record 2, after the header) that breaks ``rule``.

    Raises:
        JlisWireError: naming the record and the field.
    """
    for record_no, record in enumerate(records, start=2):
        refuse(rule(record), record_no)


def _seq(values: dict[str, Any]) -> int:
    return int(values["record_seq"])


def write_frame(codecs: Codecs, header: Mapping[str, Any], records: Sequence[Any]) -> bytes:
    """The bytes of a file: ``header`` values, then each record (read by attribute), then the trailer.

    Raises:
        JlisWireError: there is no record, or a value does not fit its field (record and field named).
    """
    if not records:
        raise JlisWireError("a file holds at least one data record", record_no=1, field="record_count")
    head, data, trail = codecs
    parts = [head.encode(header, 1), TERMINATOR]
    values_of = attrgetter(*data.value_names)
    for record_no, record in enumerate(records, start=2):
        parts.append(data.encode_values(values_of(record), record_no))
        parts.append(TERMINATOR)
    body = b"".join(parts)
    checksum = hashlib.sha256(body).hexdigest()
    trailer = trail.encode({"record_count": len(records), "checksum": checksum}, len(records) + 2)
    return body + trailer + TERMINATOR


def parse_frame(
    content: bytes,
    codecs: Codecs,
    *,
    check_header: Callable[[dict[str, Any]], H],
    build: Callable[[dict[str, Any], int], R],
    key: Callable[[dict[str, Any]], Hashable] = _seq,
) -> tuple[H, dict[str, Any], list[R]]:
    """Check the frame, decode and check every record, then the counts and the checksum.

    Record-level problems are reported first (they say where), file-level ones (counts, checksum) last.

    Args:
        content: the file's bytes.
        codecs: the file kind's codecs.
        check_header: turns the header's values into the header object (raising on a bad header).
        build: turns a data record's values into the record object (raising on a bad record).
        key: what must not repeat among the data records (``record_seq`` unless told).

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    if not isinstance(content, bytes):
        raise JlisWireError("content is not bytes")
    head, data, trail = codecs
    size = head.layout.length + len(TERMINATOR)
    if len(content) % size:
        raise JlisWireError("length is not a whole number of records: truncated or padded")
    count = len(content) // size
    if count < 3:
        raise JlisWireError("a file needs a header, at least one data record and a trailer")
    for record_no in range(1, count + 1):
        end = record_no * size
        if content[end - 2 : end] != TERMINATOR:
            raise JlisWireError("does not end with CR LF", record_no=record_no, field="terminator")
        kind = content[end - size]
        expected = HEADER if record_no == 1 else TRAILER if record_no == count else DATA
        if kind != expected:
            raise JlisWireError("unexpected record kind here", record_no=record_no, field="record_kind")
    header_values = head.decode(content, 0, 1)
    header = check_header(header_values)
    records, seen = [], set()
    for record_no in range(2, count):
        values = data.decode(content, (record_no - 1) * size, record_no)
        seen_key = key(values)
        if seen_key in seen:
            raise JlisWireError("is repeated", record_no=record_no, field="record_seq")
        seen.add(seen_key)
        records.append(build(values, record_no))
    trailer = trail.decode(content, (count - 1) * size, count)
    if trailer["record_count"] != count - 2:
        raise JlisWireError("does not match the data records", record_no=count, field="record_count")
    if header_values["record_count"] != count - 2:
        raise JlisWireError("does not match the data records", record_no=1, field="record_count")
    if hashlib.sha256(content[: (count - 1) * size]).hexdigest() != trailer["checksum"]:
        raise JlisWireError("does not match the file", record_no=count, field="checksum")
    return header, header_values, records


def header_layout(
    name: str, length: int, format_id: str, purpose_codes: Codes, *extra: Field, cycle: bool
) -> FixedLayout:
    """The header of a J-LIS file: its chunk of a batch, purpose and record count (then ``extra``).

    ``cycle``: the header carries the payment month (``YYYY-MM``) the file serves, after the totals.
    """
    return record_layout(
        name,
        length,
        field("record_kind", "", 1, T.LITERAL, literal="1"),
        field("format_id", "", 4, T.LITERAL, literal=format_id),
        field("request_id", "", 32, T.ASCII, pattern=r"[0-9a-f]{32}"),
        field("batch_id", "", 64, T.ASCII, pattern=_BATCH_ID),
        field("chunk_index", "", 6, T.DIGITS),
        field("chunk_count", "", 6, T.DIGITS),
        field("total_records", "", 9, T.DIGITS),
        *((field("cycle", "", 6, T.MONTH),) if cycle else ()),
        field("as_of", "", 8, T.DATE),
        field("purpose", "", 4, T.CODE, codes=purpose_codes),
        field("record_count", "", 7, T.DIGITS),
        *extra,
    )


def header_values(header: Any, count: int) -> dict[str, Any]:
    """The values of a header layout from a header object (a dataclass with the layout's names)."""
    values = {f.name: getattr(header, f.name) for f in fields(header)}
    return values | {"request_id": header.request_id.hex, "record_count": count}


def header_checker(make: type[H]) -> Callable[[dict[str, Any]], H]:
    """What turns a header's values into a ``make`` (a dataclass), refusing a chunk outside its batch."""
    names = [f.name for f in fields(make)]  # type: ignore[arg-type]  # H is a dataclass; a TypeVar cannot be bound to the dataclass protocol

    def check(values: dict[str, Any]) -> H:
        if values["chunk_count"] < 1 or values["chunk_index"] >= values["chunk_count"]:
            raise JlisWireError("chunk index is not below the chunk count", record_no=1, field="chunk_index")
        if values["record_count"] < 1:
            raise JlisWireError("a file holds at least one data record", record_no=1, field="record_count")
        chosen = {name: values[name] for name in names}
        return make(**(chosen | {"request_id": uuid.UUID(hex=values["request_id"])}))

    return check


REQUEST_HEADER: Final = header_layout(
    "request header", REQUEST_RECORD_LENGTH, "SVQ1", PURPOSE_CODES, cycle=True
)
REQUEST_DATA: Final = data_layout(
    "request data",
    REQUEST_RECORD_LENGTH,
    field("individual_number", "", 12, T.INDIVIDUAL_NUMBER),
)
REQUEST_TRAILER: Final = trailer_layout("request trailer", REQUEST_RECORD_LENGTH)
RESULT_HEADER: Final = header_layout(
    "result header",
    RESULT_RECORD_LENGTH,
    "SVR1",
    PURPOSE_CODES,
    field("fee_units", "", 9, T.DIGITS),
    cycle=True,
)
RESULT_DATA: Final = data_layout(
    "result data",
    RESULT_RECORD_LENGTH,
    field("outcome", "", 2, T.CODE, codes=OUTCOME_CODES),
    field("death_date", "", 8, T.DATE, required=False),
    field("move_kind", "", 1, T.CODE, required=False, codes=MOVE_CODES),
    field("moved_on", "", 8, T.DATE, required=False),
    field("new_address", "", 480, T.TEXT, required=False),
    field("postal_code", "", 7, T.ASCII, required=False, pattern=r"[0-9]{7}"),
    field("municipality_code", "", 6, T.ASCII, required=False, pattern=r"[0-9]{5,6}"),
    field("abroad", "", 1, T.FLAG, required=False),
    field("new_name", "", 150, T.TEXT, required=False),
    field("name_changed_on", "", 8, T.DATE, required=False),
    field("new_individual_number", "", 12, T.INDIVIDUAL_NUMBER, required=False),
    field("unmatched_reason", "", 1, T.CODE, required=False, codes=UNMATCHED_CODES),
)
RESULT_TRAILER: Final = trailer_layout("result trailer", RESULT_RECORD_LENGTH)
REQUEST_LAYOUTS: Final = (REQUEST_HEADER, REQUEST_DATA, REQUEST_TRAILER)
RESULT_LAYOUTS: Final = (RESULT_HEADER, RESULT_DATA, RESULT_TRAILER)

# What each outcome must carry, and the facts only some outcomes may carry (the rest stay blank).
_REQUIRED: Final = {
    SurvivalOutcome.DEAD: ("death_date",),
    SurvivalOutcome.MOVED: ("move_kind", "moved_on"),
    SurvivalOutcome.NAME_CHANGED: ("new_name", "name_changed_on"),
    SurvivalOutcome.NUMBER_CHANGED: ("new_individual_number",),
    SurvivalOutcome.NOT_FOUND: ("unmatched_reason",),
}
_ONLY_WITH: Final = {
    "new_individual_number": SurvivalOutcome.NUMBER_CHANGED,
    "unmatched_reason": SurvivalOutcome.NOT_FOUND,
    "death_date": SurvivalOutcome.DEAD,
}


@dataclass(frozen=True, slots=True)
class FileHeader:
    """What the header of every J-LIS file (:func:`header_layout`) says first: the request and its chunk.

    Attributes:
        request_id: the message id of the hub message the request (or query) file was written from; pairs
            a result with its request.
        batch_id, chunk_index, chunk_count, total_records: the chunk's place in its batch.
    """

    request_id: uuid.UUID
    batch_id: str
    chunk_index: int
    chunk_count: int
    total_records: int


@dataclass(frozen=True, slots=True)
class BatchHeader(FileHeader):
    """The header of both survival/change files: which inquiry chunk the file belongs to.

    ``request_id`` is the message id of the inquiry the request was written from.

    Attributes:
        cycle: the payment month the inquiry serves, ``YYYY-MM``.
        as_of: the inquiry's reference date.
        purpose: what the inquiry is for.
    """

    cycle: str
    as_of: date
    purpose: WirePurpose = WirePurpose.SURVIVAL_CHANGE


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One person asked about."""

    record_seq: int
    ref: str
    individual_number: IndividualNumber


@dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeFacts:
    """The facts J-LIS may give beside an outcome, each blank (``None``) unless the outcome carries it.

    Declared once for the result file's data record (:class:`ResultRecord`) and the simulated population's
    answer (:class:`adapters.jlis.population.PersonOutcome`); keyword-only, after each one's own fields.
    """

    death_date: date | None = None
    move_kind: MoveKind | None = None
    moved_on: date | None = None
    new_address: str | None = None
    postal_code: str | None = None
    municipality_code: str | None = None
    abroad: bool | None = None
    new_name: str | None = None
    name_changed_on: date | None = None
    new_individual_number: IndividualNumber | None = None
    unmatched_reason: UnmatchedReason | None = None


@dataclass(frozen=True, slots=True)
class ResultRecord(OutcomeFacts):
    """J-LIS's answer for one person: its outcome and the facts it carries (blank facts are ``None``)."""

    record_seq: int
    ref: str
    outcome: SurvivalOutcome


@dataclass(frozen=True, slots=True)
class RequestFile:
    """A request file: header and records."""

    header: BatchHeader
    records: tuple[RequestRecord, ...]


@dataclass(frozen=True, slots=True)
class ResultFile:
    """A result file: header, the fee J-LIS charges for the file, and records."""

    header: BatchHeader
    fee_units: int
    records: tuple[ResultRecord, ...]


def _result_problem(record: ResultRecord) -> tuple[str, str] | None:
    """The first ``(field, problem)`` of a result record's outcome rules, or ``None``."""
    outcome = record.outcome
    for name in _REQUIRED.get(outcome, ()):
        if getattr(record, name) is None:
            return name, f"is required for outcome {outcome.value}"
    for name, only in _ONLY_WITH.items():
        if getattr(record, name) is not None and outcome is not only:
            return name, f"is only allowed with outcome {only.value}"
    if record.new_address is None:
        for name in ("postal_code", "municipality_code", "abroad"):
            if getattr(record, name) is not None:
                return name, "is only allowed with a new address"
    return None


def _result_record(values: dict[str, Any], record_no: int) -> ResultRecord:
    record = ResultRecord(**values)
    refuse(_result_problem(record), record_no)
    return record


_CHECK_HEADER: Final = header_checker(BatchHeader)
_REQUEST: Final = codecs(REQUEST_LAYOUTS)
_RESULT: Final = codecs(RESULT_LAYOUTS)


def write_request(file: RequestFile) -> bytes:
    """The bytes of a request file.

    Raises:
        JlisWireError: a value does not fit the layout (the record and field are named).
    """
    return write_frame(_REQUEST, header_values(file.header, len(file.records)), file.records)


def write_result(file: ResultFile) -> bytes:
    """The bytes of a result file.

    Raises:
        JlisWireError: a value does not fit the layout (the record and field are named).
    """
    values = header_values(file.header, len(file.records)) | {"fee_units": file.fee_units}
    check_records(file.records, _result_problem)
    return write_frame(_RESULT, values, file.records)


def _request_record(values: dict[str, Any], record_no: int) -> RequestRecord:
    return RequestRecord(**values)


def parse_request(content: bytes) -> RequestFile:
    """Parse a request file strictly.

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    header, _, records = parse_frame(content, _REQUEST, check_header=_CHECK_HEADER, build=_request_record)
    return RequestFile(header, tuple(records))


def parse_result(content: bytes) -> ResultFile:
    """Parse a result file strictly.

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    header, values, records = parse_frame(content, _RESULT, check_header=_CHECK_HEADER, build=_result_record)
    return ResultFile(header, values["fee_units"], tuple(records))

"""The file formats of the pension exchange (年金給付システム連携ファイル): CSV data files and JSON manifests.

Documented for the pension system's developers in ``docs/formats/pension.md``; this module is the
executable form of that document. Two data files exist, each with a manifest ``NAME.manifest.json``:

* the survival inquiry request (生存異動照会依頼), pension system -> renkei: ``survival_inquiry.<batch>.csv``
  with columns :data:`INQUIRY_COLUMNS`;
* the outcome file (照会結果), renkei -> pension system, one per answered chunk:
  ``survival_outcomes.<batch>.<chunk:06d>.<answered_by>.csv`` with columns :data:`OUTCOME_COLUMNS`.

Neither ever carries an Individual Number: any 12-digit value with a valid check digit refuses the file.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from adapters.pension._manifest import (
    MAX_MANIFEST_BYTES,
    InquiryManifest,
    Manifest,
    OutcomeManifest,
    dump_manifest,
    parse_manifest,
)
from adapters.pension.errors import IndividualNumberInFile, MalformedPensionFile, Reason
from adapters.records.csv import CsvCodec, CsvLayout
from adapters.records.fields import Field, FieldType, Problem, field
from contracts.messages.survival import MoveKind, PensionAction, SurvivalOutcome, UnmatchedReason
from contracts.purpose_table import RefusalReason
from contracts.redaction import holds_number
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "FORMAT_VERSION",
    "INQUIRY_COLUMNS",
    "INQUIRY_KIND",
    "MANIFEST_SUFFIX",
    "MAX_MANIFEST_BYTES",
    "OUTCOME_COLUMNS",
    "OUTCOME_COLUMNS_V1",
    "REPORT_SUFFIX",
    "USAGE_NUMBER_PATTERN",
    "ContractRows",
    "Group",
    "InquiryManifest",
    "InquiryRow",
    "Manifest",
    "OutcomeManifest",
    "OutcomeRow",
    "columns_table",
    "dump_manifest",
    "encode_rows",
    "field_refusal",
    "format_inquiry_row",
    "format_outcome_row",
    "inquiry_file_name",
    "manifest_name",
    "outcome_file_name",
    "outcome_file_prefix",
    "parse_inquiry_row",
    "parse_manifest",
    "parse_outcome_row",
    "refuse_individual_numbers",
    "row_refusal",
    "usage_number_cells",
    "usage_number_column",
    "usage_number_data",
    "usage_number_fields",
]

FORMAT_VERSION: Final = 2
"""The version renkei writes when the flow has an actor (version 1 files have no actor and fewer columns)."""
MANIFEST_SUFFIX: Final = ".manifest.json"
REPORT_SUFFIX: Final = ".report.json"
INQUIRY_KIND: Final = "survival_inquiry"
OUTCOME_KIND: Final = "survival_outcomes"
INQUIRY_COLUMNS: Final = ("record_seq", "usage_number_kind", "usage_number")
OUTCOME_COLUMNS: Final = (
    "record_seq",
    "usage_number_kind",
    "usage_number",
    "outcome",
    "actions",
    "death_date",
    "move_kind",
    "moved_on",
    "address_text",
    "address_postal_code",
    "address_municipality_code",
    "address_abroad",
    "new_name",
    "needs_document",
    "unmatched_reason",
    "not_permitted_reason",
)
OUTCOME_COLUMNS_V1: Final = OUTCOME_COLUMNS[:-1]
"""The outcome columns of format version 1 (before ``not_permitted_reason``)."""
ACTION_SEPARATOR: Final = "|"
_SEQ = re.compile(r"[0-9]{1,15}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
E = TypeVar("E")


def manifest_name(data_name: str) -> str:
    """The manifest's name for a data file: ``NAME.manifest.json``."""
    return data_name + MANIFEST_SUFFIX


def inquiry_file_name(batch_id: str) -> str:
    """The conventional name of a survival inquiry request file."""
    return f"{INQUIRY_KIND}.{batch_id}.csv"


def outcome_file_prefix(batch_id: str) -> str:
    """The common prefix of every outcome file of a batch."""
    return f"{OUTCOME_KIND}.{batch_id}."


def outcome_file_name(batch_id: str, chunk_index: int, answered_by: str) -> str:
    """The outcome file of one answered chunk; a function of its inputs, so rewriting it is idempotent."""
    return f"{outcome_file_prefix(batch_id)}{chunk_index:06d}.{answered_by}.csv"


@dataclass(frozen=True, slots=True)
class InquiryRow:
    """One person to check (a row of the request file)."""

    record_seq: int
    usage_number: UsageNumber


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One outcome (a row of an outcome file). Empty cells are ``None``."""

    record_seq: int
    usage_number_kind: UsageNumberKind
    usage_number: str
    outcome: SurvivalOutcome
    actions: tuple[PensionAction, ...]
    death_date: date | None = None
    move_kind: MoveKind | None = None
    moved_on: date | None = None
    address_text: str | None = None
    address_postal_code: str | None = None
    address_municipality_code: str | None = None
    address_abroad: bool | None = None
    new_name: str | None = None
    needs_document: bool = False
    unmatched_reason: UnmatchedReason | None = None
    not_permitted_reason: RefusalReason | None = None


def outcome_columns(format_version: int) -> tuple[str, ...]:
    """The outcome file's columns in ``format_version``."""
    return OUTCOME_COLUMNS if format_version >= 2 else OUTCOME_COLUMNS_V1


def refuse_individual_numbers(fields: Sequence[str], columns: Sequence[str], line: int | None) -> None:
    """Raise :class:`IndividualNumberInFile` if any field holds a 12-digit run with a valid check digit."""
    for value, column in zip(fields, columns, strict=False):
        # A 12-digit run needs 12 characters: most cells are shorter and need no scan.
        if len(value) >= 12 and holds_number(value):
            raise IndividualNumberInFile(line=line, column=column)


def field_refusal(
    line: int, column: str, rule: str, reason: Reason = Reason.BAD_FIELD
) -> MalformedPensionFile:
    """The refusal of a file for one cell: the ``rule`` it breaks, its line and column, never its value."""
    return MalformedPensionFile(rule, reason=reason, line=line, column=column)


def _record_seq(text: str, line: int) -> int:
    if not _SEQ.fullmatch(text):
        raise field_refusal(line, "record_seq", "must be a non-negative integer of ASCII digits")
    return int(text)


def _usage_number(kind_text: str, value: str, line: int) -> UsageNumber:
    try:
        kind = UsageNumberKind(kind_text)
    except ValueError:
        allowed = ", ".join(k.value for k in UsageNumberKind)
        raise field_refusal(line, "usage_number_kind", f"must be one of {allowed}") from None
    if not value.isascii():
        raise field_refusal(line, "usage_number", "contains non-ASCII characters", Reason.NON_ASCII)
    try:
        return UsageNumber(kind=kind, value=value)
    except ValidationError:
        raise field_refusal(line, "usage_number", "must be 1-32 of A-Z, a-z, 0-9 and '-'") from None


def _check_shape(fields: Sequence[str], columns: Sequence[str], line: int) -> None:
    refuse_individual_numbers(fields, columns, line)
    if len(fields) != len(columns):
        raise MalformedPensionFile(
            f"{len(fields)} fields; expected {len(columns)} ({', '.join(columns)})",
            reason=Reason.FIELD_COUNT,
            line=line,
        )


def parse_inquiry_row(fields: Sequence[str], line: int) -> InquiryRow:
    """Validate one request row.

    Raises:
        MalformedPensionFile: a field breaks its format.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    _check_shape(fields, INQUIRY_COLUMNS, line)
    return InquiryRow(_record_seq(fields[0], line), _usage_number(fields[1], fields[2], line))


def _opt(text: str) -> str | None:
    return text or None


def _date(text: str, line: int, column: str) -> date | None:
    if not text:
        return None
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise field_refusal(line, column, "must be a date YYYY-MM-DD, or empty")


def _bool(text: str, line: int, column: str) -> bool:
    if text not in ("true", "false"):
        raise field_refusal(line, column, "must be true or false")
    return text == "true"


def _enum(kind: Callable[[str], E], text: str, line: int, column: str) -> E:
    try:
        return kind(text)
    except ValueError:
        raise field_refusal(line, column, "is not one of the documented values") from None


def parse_outcome_row(fields: Sequence[str], line: int) -> OutcomeRow:
    """Validate one outcome row.

    Raises:
        MalformedPensionFile: a field breaks its format.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    columns = OUTCOME_COLUMNS if len(fields) == len(OUTCOME_COLUMNS) else OUTCOME_COLUMNS_V1
    _check_shape(fields, columns, line)
    (seq, kind, value, outcome, actions, death, move, moved, text, postal, municipality, abroad, name,
     needs_document, unmatched) = fields[:15]  # fmt: skip
    refused = fields[15] if len(fields) > 15 else ""
    usage = _usage_number(kind, value, line)
    if not actions:
        raise field_refusal(line, "actions", "needs at least one action")
    address_cells = (text, postal, municipality, abroad)
    if any(address_cells) and not (text and abroad):
        raise field_refusal(line, "address_text", "an address needs address_text and address_abroad")
    return OutcomeRow(
        record_seq=_record_seq(seq, line),
        usage_number_kind=usage.kind,
        usage_number=usage.value,
        outcome=_enum(SurvivalOutcome, outcome, line, "outcome"),
        actions=tuple(_enum(PensionAction, a, line, "actions") for a in actions.split(ACTION_SEPARATOR)),
        death_date=_date(death, line, "death_date"),
        move_kind=_enum(MoveKind, move, line, "move_kind") if move else None,
        moved_on=_date(moved, line, "moved_on"),
        address_text=_opt(text),
        address_postal_code=_opt(postal),
        address_municipality_code=_opt(municipality),
        address_abroad=_bool(abroad, line, "address_abroad") if abroad else None,
        new_name=_opt(name),
        needs_document=_bool(needs_document, line, "needs_document"),
        unmatched_reason=_enum(UnmatchedReason, unmatched, line, "unmatched_reason") if unmatched else None,
        not_permitted_reason=_enum(RefusalReason, refused, line, "not_permitted_reason") if refused else None,
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def format_inquiry_row(row: InquiryRow) -> list[str]:
    """The cells of one request row, in :data:`INQUIRY_COLUMNS` order."""
    return [str(row.record_seq), row.usage_number.kind.value, row.usage_number.value]


def format_outcome_row(row: OutcomeRow, format_version: int = FORMAT_VERSION) -> list[str]:
    """The cells of one outcome row, in the order of ``format_version``'s columns.

    Raises:
        IndividualNumberInFile: a cell would carry a value with the form of an Individual Number.
    """
    columns = outcome_columns(format_version)
    cells = [
        str(row.record_seq),
        row.usage_number_kind.value,
        row.usage_number,
        row.outcome.value,
        ACTION_SEPARATOR.join(a.value for a in row.actions),
        *(_cell(getattr(row, column)) for column in columns[5:]),
    ]
    refuse_individual_numbers(cells, columns, None)
    return cells


def encode_rows(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[bytes]:
    """Encode a header and rows as UTF-8 CSV (LF line ends, minimal quoting), one bytes chunk per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in _with_header(header, rows):
        writer.writerow(row)
        yield buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()


def _with_header(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[Sequence[str]]:
    yield header
    yield from rows


def row_refusal(problem: Problem, line: int) -> MalformedPensionFile:
    """The refusal of a row that breaks its layout (for a :class:`~adapters.records.csv.CsvCodec`).

    It names the physical line and the column, never the value.
    """
    if problem.field is None:
        return MalformedPensionFile(problem.text, reason=Reason.FIELD_COUNT, line=line)
    return MalformedPensionFile(problem.text, reason=Reason.BAD_FIELD, line=line, column=problem.field.name)


def _column_format(item: Field) -> str:
    if item.type is FieldType.CODE:
        return " / ".join(f"`{code}`" for code, _ in item.codes)
    if item.type is FieldType.ASCII:
        return f"`{item.pattern}`"
    return {
        FieldType.DIGITS: "integer",
        FieldType.ISO_DATE: "`YYYY-MM-DD`",
        FieldType.TEXT: "text",
    }[item.type]


def columns_table(layout: CsvLayout) -> str:
    """A request file's row layout as a table of ``docs/formats/pension.md`` (tests keep the two equal)."""
    lines = ["| # | Column | Item (項目) | Format | Max chars | Required |", "|---|---|---|---|---|---|"]
    for item in layout.fields:
        lines.append(
            f"| {item.offset + 1} | `{item.name}` | {item.label} | {_column_format(item)} | {item.length} | "
            f"{'yes' if item.required else 'no'} |"
        )
    return "\n".join(lines)


M = TypeVar("M", bound=BaseModel)
Location = Sequence[int | str]
"""Where a contract error points inside the record (pydantic's ``loc``: ``("basis", "current_item")``)."""
USAGE_NUMBER_PATTERN: Final = r"[A-Za-z0-9-]{1,32}"
"""A usage number's value in a cell (the contract's form, half-width)."""


def usage_number_fields(
    kind_label: str,
    label: str,
    *,
    kinds: Sequence[UsageNumberKind] = tuple(UsageNumberKind),
    prefix: str = "",
    required: bool = True,
) -> tuple[Field, Field]:
    """The two cells of a usage number in a layout, labelled as the kind's format names them.

    ``<prefix>usage_number_kind`` is one of ``kinds``; ``<prefix>usage_number`` is its value.
    """
    codes = tuple((kind.value, kind) for kind in kinds)
    return (
        field(f"{prefix}usage_number_kind", kind_label, 19, FieldType.CODE, required=required, codes=codes),
        field(
            f"{prefix}usage_number",
            label,
            32,
            FieldType.ASCII,
            required=required,
            pattern=USAGE_NUMBER_PATTERN,
        ),
    )


def usage_number_data(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """A usage number's data from its cells ``<prefix>usage_number_kind`` and ``<prefix>usage_number``."""
    return {"kind": values[f"{prefix}usage_number_kind"], "value": values[f"{prefix}usage_number"]}


def usage_number_cells(usage: UsageNumber, prefix: str = "") -> dict[str, Any]:
    """A usage number's two cells (the inverse of :func:`usage_number_data`)."""
    return {f"{prefix}usage_number_kind": usage.kind, f"{prefix}usage_number": usage.value}


def usage_number_column(loc: Location, prefix: str = "") -> str:
    """The cell a contract error inside a usage number points at: its kind's, or its value's."""
    return f"{prefix}usage_number_kind" if loc and loc[-1] == "kind" else f"{prefix}usage_number"


@dataclass(frozen=True, slots=True)
class Group:
    """A nested group of a contract's record written as columns: ``<prefix><field>`` for each field."""

    name: str
    fields: Sequence[str]
    prefix: str = ""

    def column(self, name: str) -> str:
        """The column of the group's field ``name``."""
        return f"{self.prefix}{name}"


class ContractRows(Generic[M]):
    """A request file's row layout, read into a contract's record and written back from one.

    Both ways a cell with the form of an Individual Number refuses the row, and every refusal names the line
    and the column, never the value: a cell that breaks the layout (:func:`row_refusal`), a rule across
    cells (``check``, or a kind's own ``nest``), then a record that breaks the contract's rules, whose error
    location turns into the column to name.

    By default the cells nest as most kinds' do: a column is the record's field of its name; the record's
    ``usage_number`` is the cells ``usage_number_kind`` and ``usage_number``; a :class:`Group` is its
    columns; an empty cell, or a group of empty cells, is absent (the record's default applies). A kind
    whose cells nest otherwise gives ``nest``, ``flatten`` and ``column``.

    Args:
        layout: the row's layout (the header is its item names, in order; ``record_seq`` among them).
        model: the contract's record.
        groups: the record's nested groups written as columns.
        check: ``check(values, line)``: a rule across the row's typed cells, before they nest.
        nest: ``nest(values, line)``: the record's data from the row's typed cells, by column.
        flatten: ``flatten(record)``: the cells' values, by column, from a record.
        column: the column a contract error inside one of the record's own groups points at; ``None`` to
            leave the location to the defaults.
        whole: the column a rule of the whole record (an error without a location) is reported against.
    """

    def __init__(
        self,
        layout: CsvLayout,
        model: type[M],
        *,
        groups: Sequence[Group] = (),
        check: Callable[[Mapping[str, Any], int], None] | None = None,
        nest: Callable[[Mapping[str, Any], int], Mapping[str, Any]] | None = None,
        flatten: Callable[[M], Mapping[str, Any]] | None = None,
        column: Callable[[Location], str | None] | None = None,
        whole: str = "record_seq",
    ) -> None:
        self.columns: Final = tuple(item.name for item in layout.fields)
        self._codec = CsvCodec(layout, reading=row_refusal)
        self._model, self._groups, self._check = model, {g.name: g for g in groups}, check
        self._grouped = {g.column(name): (g.name, name) for g in groups for name in g.fields}
        self._nest = nest or self._nest_by_name
        self._flatten = flatten or self._flatten_by_name
        self._group_column, self._whole = column, whole

    def parse(self, fields: Sequence[str], line: int) -> M:
        """Validate one row into the contract's record.

        Raises:
            IndividualNumberInFile: a cell holds a value with the form of an Individual Number.
            MalformedPensionFile: the row breaks the layout or the contract, naming the line and the
                column, never the value.
        """
        refuse_individual_numbers(fields, self.columns, line)
        values = self._codec.decode_items(fields, line)
        if self._check is not None:
            self._check(values, line)
        data = self._nest(values, line)
        try:
            return self._model.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]  # the input is hidden (ContractModel); the message names the rule
            problem = first["msg"].removeprefix("Value error, ")
            column = self._column(first["loc"])
        raise MalformedPensionFile(problem, reason=Reason.BAD_FIELD, line=line, column=column)

    def format(self, record: M) -> list[str]:
        """The cells of one record, in header order (the pension system's side, and the tests').

        Raises:
            MalformedPensionFile: the record does not fit the layout.
            IndividualNumberInFile: a cell would carry a value with the form of an Individual Number.
        """
        values = self._flatten(record)
        cells = self._codec.write_items(values, values["record_seq"])
        refuse_individual_numbers(cells, self.columns, None)
        return cells

    def _nest_by_name(self, values: Mapping[str, Any], line: int) -> dict[str, Any]:
        del line  # the default nesting has no rule of its own
        data: dict[str, Any] = {"usage_number": usage_number_data(values)}
        for column, value in values.items():
            if value is None or column in ("usage_number_kind", "usage_number"):
                continue
            if column in self._grouped:
                group, name = self._grouped[column]
                data.setdefault(group, {})[name] = value
            else:
                data[column] = value
        return data

    def _flatten_by_name(self, record: M) -> dict[str, Any]:
        values = record.model_dump(exclude={"usage_number", *self._groups})
        for group in self._groups.values():
            if (nested := getattr(record, group.name)) is not None:
                values.update({group.column(name): value for name, value in nested.model_dump().items()})
        # M is any contract record (bound to BaseModel); the default nesting is for those with a usage_number.
        values.update(usage_number_cells(record.usage_number))  # type: ignore[attr-defined]
        return values

    def _column(self, loc: Location) -> str:
        if not loc:
            return self._whole
        if loc[0] == "usage_number":
            return usage_number_column(loc)
        if self._group_column is not None and (named := self._group_column(loc)) is not None:
            return named
        if (group := self._groups.get(str(loc[0]))) is not None and len(loc) >= 2:
            return group.column(str(loc[1]))
        return str(loc[0])

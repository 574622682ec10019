"""Dependants' declaration files (扶養親族等申告書): the one pension file kind that carries numbers.

Documented in ``docs/formats/pension.md``:

* declaration, pension system -> renkei: ``dependants_declaration.<batch>.csv``, one row per declaration,
  columns :data:`DECLARATION_COLUMNS`: the declarant's usage number and up to six dependants, each with
  the federation's key for them (扶養親族キー), the relation and the **個人番号**;
* acknowledgement, renkei -> pension system: ``dependants_declaration_acks.<batch>.<chunk:06d>.csv``,
  columns :data:`ACK_COLUMNS`, never with a number.

Numbers are allowed only in the ``dependant_<k>_individual_number`` columns (any number-like value in
another column refuses the file as usual). The adapter seals each number for the hub as it builds the
message (:func:`declaration_payloads`), so the plain digits exist only in the file and in the parsed row
in memory; the file itself is deleted once its messages are confirmed (see
:mod:`adapters.pension.directory`), and a refused one is deleted too, its report kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from adapters.pension._manifest import DependantsAckManifest, DependantsManifest
from adapters.pension.errors import MalformedPensionFile, Reason
from adapters.pension.mapping import (
    ChunkPayload,
    answer_file,
)
from adapters.pension.wire import (
    _check_shape,
    _date,
    _enum,
    _record_seq,
    _usage_number,
    field_refusal,
    refuse_individual_numbers,
)
from contracts.errors import ConfigurationError
from contracts.individual_number import IndividualNumber, is_valid_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.dependants import (
    MAX_DEPENDANTS,
    DeclarationStatus,
    DeclaredDependant,
    DependantRelation,
    DependantsDeclaration,
    DependantsDeclarationAcknowledged,
    DependantsDeclarationSubmitted,
    dependant_number_field,
)
from contracts.purpose_table import default_table
from contracts.sealing import Sealer
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "ACK_COLUMNS",
    "ACK_KIND",
    "DECLARATION_COLUMNS",
    "DECLARATION_KIND",
    "DEPENDANTS_PURPOSE",
    "NUMBER_COLUMNS",
    "AckRow",
    "DeclarationRow",
    "DependantEntry",
    "ack_file",
    "declaration_payloads",
    "format_declaration_row",
    "parse_ack_row",
    "parse_declaration_row",
]

DECLARATION_KIND: Final = "dependants_declaration"
ACK_KIND: Final = "dependants_declaration_acks"
SUBMITTED_MESSAGE_TYPE: Final = "pension.dependants_declaration.submitted"
ACK_MESSAGE_TYPE: Final = "pension.dependants_declaration.acknowledged"
HUB_RECIPIENT: Final = "hub"
_GROUP: Final = ("usage_number", "relation", "individual_number")
DECLARATION_COLUMNS: Final = (
    "record_seq",
    "declarant_kind",
    "declarant_usage_number",
    "submitted_on",
    *(f"dependant_{k}_{part}" for k in range(1, MAX_DEPENDANTS + 1) for part in _GROUP),
)
NUMBER_COLUMNS: Final = frozenset(f"dependant_{k}_individual_number" for k in range(1, MAX_DEPENDANTS + 1))
"""The only columns of any pension file where an Individual Number may stand."""
ACK_COLUMNS: Final = (
    "record_seq",
    "declarant_kind",
    "declarant_usage_number",
    "status",
    "dependants_stored",
    "retention_basis",
    "purge_after",
    "reason",
)
DEPENDANTS_PURPOSE: Final = default_table().request_purpose(SUBMITTED_MESSAGE_TYPE)
# 所得税法 (扶養親族等申告書) and 番号法 第9条第4項 個人番号関係事務 (contracts/purpose_table.toml).
"""Purpose of a dependants' declaration handed to the hub."""


@dataclass(frozen=True, slots=True)
class DependantEntry:
    """One dependant of a parsed row; the number stays an :class:`IndividualNumber` (never printed)."""

    dependant_seq: int
    usage_number: UsageNumber
    relation: DependantRelation
    individual_number: IndividualNumber


@dataclass(frozen=True, slots=True)
class DeclarationRow:
    """One declaration (a row of the declaration file)."""

    record_seq: int
    declarant: UsageNumber
    submitted_on: date
    dependants: tuple[DependantEntry, ...]


@dataclass(frozen=True, slots=True)
class AckRow:
    """One acknowledgement (a row of an acknowledgement file)."""

    record_seq: int
    declarant: UsageNumber
    status: DeclarationStatus
    dependants_stored: int
    retention_basis: str
    purge_after: date | None
    reason: str | None = None


def _dependant(cells: Sequence[str], k: int, line: int) -> DependantEntry | None:
    usage_text, relation_text, number_text = cells
    prefix = f"dependant_{k}_"
    if not any(cells):
        return None
    for part, text in zip(_GROUP, cells, strict=True):
        if not text:
            raise field_refusal(
                line, prefix + part, "is required when the dependant's other cells are filled"
            )
    usage = _usage_number(UsageNumberKind.DEPENDANT.value, usage_text, line)
    relation = _enum(DependantRelation, relation_text, line, prefix + "relation")
    if not is_valid_individual_number(number_text):
        raise MalformedPensionFile(
            "is not 12 half-width digits with a valid check digit",
            reason=Reason.INVALID_INDIVIDUAL_NUMBER,
            line=line,
            column=prefix + "individual_number",
        )
    return DependantEntry(k, usage, relation, IndividualNumber(number_text))


def parse_declaration_row(fields: Sequence[str], line: int) -> DeclarationRow:
    """Validate one declaration row; numbers are allowed in :data:`NUMBER_COLUMNS` only.

    Raises:
        MalformedPensionFile: a field breaks its format, a dependant is incomplete or out of place, or a
            number has a bad check digit (the column is named, never the value).
        IndividualNumberInFile: another column holds a value with the form of an Individual Number.
    """
    outside = [(v, c) for v, c in zip(fields, DECLARATION_COLUMNS, strict=False) if c not in NUMBER_COLUMNS]
    refuse_individual_numbers([v for v, _ in outside], [c for _, c in outside], line)
    if len(fields) != len(DECLARATION_COLUMNS):
        raise MalformedPensionFile(
            f"{len(fields)} fields; expected {len(DECLARATION_COLUMNS)}", reason=Reason.FIELD_COUNT, line=line
        )
    seq, kind, value, submitted = fields[:4]
    declarant = _usage_number(kind, value, line)
    submitted_on = _date(submitted, line, "submitted_on")
    if submitted_on is None:
        raise field_refusal(line, "submitted_on", "is required")
    dependants: list[DependantEntry] = []
    ended = False
    for k in range(1, MAX_DEPENDANTS + 1):
        start = 4 + (k - 1) * len(_GROUP)
        entry = _dependant(fields[start : start + len(_GROUP)], k, line)
        if entry is None:
            ended = True
        elif ended:
            raise field_refusal(
                line, f"dependant_{k}_usage_number", "follows an empty dependant; fill from 1"
            )
        else:
            dependants.append(entry)
    if not dependants:
        raise field_refusal(line, "dependant_1_usage_number", "a declaration names at least one dependant")
    keys = [d.usage_number for d in dependants]
    if len(set(keys)) != len(keys) or declarant in keys:
        raise field_refusal(line, "dependant_1_usage_number", "names a dependant twice, or the declarant")
    return DeclarationRow(_record_seq(seq, line), declarant, submitted_on, tuple(dependants))


def format_declaration_row(row: DeclarationRow) -> list[str]:
    """The cells of one declaration row (for the simulated pension system)."""
    cells = [str(row.record_seq), row.declarant.kind.value, row.declarant.value, row.submitted_on.isoformat()]
    for k in range(1, MAX_DEPENDANTS + 1):
        entry = row.dependants[k - 1] if k <= len(row.dependants) else None
        if entry is None:
            cells += ["", "", ""]
        else:
            cells += [entry.usage_number.value, entry.relation.value, entry.individual_number.reveal()]
    return cells


def declaration_payloads(manifest: DependantsManifest, sealer: Sealer | None) -> ChunkPayload[DeclarationRow]:
    """How each chunk of a file becomes its ``pension.dependants_declaration.submitted`` payload.

    Every number is sealed for the hub at once, bound to its chunk's message id and to the field
    ``records.<seq>.dependants.<k>.individual_number``.

    Raises:
        ConfigurationError: no sealer was given (the adapter must be wired with one for this kind).
    """
    if sealer is None:
        raise ConfigurationError("the pension adapter needs a sealer for dependants' declarations")
    seal = sealer.seal

    def payload(
        chunk: ChunkInfo, batch: list[DeclarationRow], message_id: uuid.UUID
    ) -> DependantsDeclarationSubmitted:
        records = tuple(
            DependantsDeclaration(
                record_seq=row.record_seq,
                declarant=row.declarant,
                submitted_on=row.submitted_on,
                dependants=tuple(
                    DeclaredDependant(
                        dependant_seq=d.dependant_seq,
                        usage_number=d.usage_number,
                        relation=d.relation,
                        individual_number=seal(
                            d.individual_number,
                            recipient=HUB_RECIPIENT,
                            message_id=message_id,
                            field=dependant_number_field(row.record_seq, d.dependant_seq),
                        ),
                    )
                    for d in row.dependants
                ),
            )
            for row in batch
        )
        return DependantsDeclarationSubmitted(
            chunk=chunk, tax_year=manifest.tax_year, filing_deadline=manifest.filing_deadline, records=records
        )

    return payload


def ack_file(
    acks: DependantsDeclarationAcknowledged, actor: str | None = None
) -> tuple[str, bytes, DependantsAckManifest]:
    """The acknowledgement file of one message: its name, content and manifest (idempotent by name).

    Raises:
        IndividualNumberInFile: a cell would carry a value with the form of an Individual Number.
    """
    rows = (
        [
            str(r.record_seq),
            r.declarant.kind.value,
            r.declarant.value,
            r.status.value,
            str(r.dependants_stored),
            r.retention_basis,
            r.purge_after.isoformat(),
            r.reason or "",
        ]
        for r in acks.records
    )
    return answer_file(
        ACK_KIND,
        acks.chunk,
        ACK_COLUMNS,
        rows,
        manifest_type=DependantsAckManifest,
        actor=actor,
        tax_year=acks.tax_year,
    )


def parse_ack_row(fields: Sequence[str], line: int) -> AckRow:
    """Validate one acknowledgement row (the pension system's side).

    Raises:
        MalformedPensionFile: a field breaks its format.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    _check_shape(fields, ACK_COLUMNS, line)
    seq, kind, value, status, stored, basis, purge_after, reason = fields
    if not stored.isdigit():
        raise field_refusal(line, "dependants_stored", "must be a small non-negative integer")
    return AckRow(
        record_seq=_record_seq(seq, line),
        declarant=_usage_number(kind, value, line),
        status=_enum(DeclarationStatus, status, line, "status"),
        dependants_stored=int(stored),
        retention_basis=basis,
        purge_after=_date(purge_after, line, "purge_after"),
        reason=reason or None,
    )

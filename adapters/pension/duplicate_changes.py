"""副本 change request files: the federation's 年金給付関係情報 on the intermediate server, person by person.

Documented in ``docs/formats/pension.md`` §17, whose column table is generated from :data:`ROW` by
:func:`adapters.pension.wire.columns_table` and kept equal by a test.

``duplicate_changes`` (副本登録, 事務(10)) → ``pension.duplicate_data.changed``: one row per change of a 副本
record (insert, update or delete), the record's data as columns (empty for a delete). The hub registers the
changes of people with a code on the intermediate server by 宛名番号 and answers the others
``code_not_acquired``; no file carries an Individual Number (§5).

A person's changes apply in order (insert before update before delete) and the hub keeps the order only
within one message, so a person's rows are contiguous in the file, in the order they apply, and a chunk is
cut by record count but never inside a person's rows (:data:`PERSON_RUNS`, :mod:`adapters.pension.runs`):
each message carries each of its people's changes whole, in file order.

A row is read in two steps, each refusing the whole file with the physical line and the column, never the
value: the layout (:data:`ROW`, on the shared field engine :mod:`adapters.records`) with the rule that an
insert or update fills the data columns and a delete leaves them empty, then the contract (the record's own
rules: a record id that cannot pass for a number, publication ending after it starts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from adapters.pension._manifest import DuplicateChangesManifest
from adapters.pension.runs import PersonRuns
from adapters.pension.wire import ContractRows, Group, field_refusal, usage_number_fields
from adapters.records.csv import csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from contracts.messages.common import ChunkInfo
from contracts.messages.intermediate_server import (
    MAX_RECORDS,
    DuplicateChangeRecord,
    DuplicateDataChanged,
    DuplicateOperation,
    PensionDuplicateData,
    PensionKind,
)
from contracts.purpose_table import default_table

__all__ = [
    "COLUMNS",
    "KIND",
    "MESSAGE_TYPE",
    "PERSON_RUNS",
    "PURPOSE",
    "ROW",
    "change_payload",
    "format_change_row",
    "parse_change_row",
]

KIND: Final = "duplicate_changes"
MESSAGE_TYPE: Final = "pension.duplicate_data.changed"
PURPOSE: Final = default_table().request_purpose(MESSAGE_TYPE)
# 番号法 第19条第8号 and 命令 第2条の表, the federation as provider (contracts/purpose_table.toml, 事務(10)).

_DATA: Final = (
    f(
        "pension_kind",
        "年金種別",
        10,
        T.CODE,
        required=False,
        codes=tuple((kind.value, kind) for kind in PensionKind),
    ),
    f("annual_amount", "年金額 (円)", 9, T.DIGITS, required=False),
    f("suspended", "支給停止", 5, T.CODE, required=False, codes=(("true", True), ("false", False))),
    f("entitled_from", "受給権発生日", 10, T.ISO_DATE, required=False),
    f("entitlement_ended_on", "受給権消滅日", 10, T.ISO_DATE, required=False),
)
ROW: Final = csv_layout(
    "副本 change row",
    f("record_seq", "連番", 15, T.DIGITS),
    *usage_number_fields("利用番号の種類", "利用番号"),
    f(
        "operation",
        "処理区分",
        6,
        T.CODE,
        codes=tuple((operation.value, operation) for operation in DuplicateOperation),
    ),
    f("record_id", "レコード識別番号", 32, T.ASCII, pattern=r"[0-9A-Z]{4,32}"),
    f("spi_code", "特定個人情報名コード", 16, T.ASCII, pattern=r"TM[0-9]{14}"),
    f("dataset_item_code", "データセットの識別項目コード", 16, T.ASCII, pattern=r"[0-9A-Z]{1,16}"),
    f("spi_version", "特定個人情報の版番号", 2, T.DIGITS),
    f("publication_start", "公開開始日", 10, T.ISO_DATE),
    f("publication_end", "公開終了日", 10, T.ISO_DATE, required=False),
    *_DATA,
)
"""One change's row, in the order of the header (every name is a column, every label the change's item)."""
COLUMNS: Final = tuple(item.name for item in ROW.fields)
"""The header row, exactly."""
_DATA_NAMES: Final = tuple(item.name for item in _DATA)
_DATA_REQUIRED: Final = tuple(
    name for name, spec in PensionDuplicateData.model_fields.items() if spec.is_required()
)


def _data_by_operation(values: Mapping[str, Any], line: int) -> None:
    """An insert or update fills the data's required cells; a delete leaves every data cell empty."""
    if values["operation"] is DuplicateOperation.DELETE:
        filled = next((name for name in _DATA_NAMES if values[name] is not None), None)
        if filled is not None:
            raise field_refusal(line, filled, "must be empty: a delete carries no data")
        return
    missing = next((name for name in _DATA_REQUIRED if values[name] is None), None)
    if missing is not None:
        raise field_refusal(line, missing, "is required: an insert or update carries the data")


_ROWS: Final = ContractRows(
    ROW,
    DuplicateChangeRecord,
    groups=(Group("data", _DATA_NAMES),),
    check=_data_by_operation,
    whole="publication_end",  # the one rule of the whole record left: publication ends before it starts
)
parse_change_row: Final = _ROWS.parse
"""Validate one row of a 副本 change file into the contract's record (:meth:`ContractRows.parse`)."""
format_change_row: Final = _ROWS.format
"""The cells of one change, in :data:`COLUMNS` order (:meth:`ContractRows.format`)."""


def _person(record: DuplicateChangeRecord) -> str:
    return f"{record.usage_number.kind.value}:{record.usage_number.value}"


PERSON_RUNS: Final = PersonRuns(person=_person, column="usage_number", most=MAX_RECORDS)
"""A person (by usage number) has contiguous rows, in one message: at most one message's records."""


def change_payload(
    manifest: DuplicateChangesManifest, chunk: ChunkInfo, batch: list[DuplicateChangeRecord]
) -> DuplicateDataChanged:
    """The ``pension.duplicate_data.changed`` payload of one chunk: its people's changes in file order."""
    del chunk  # one batch, whatever its chunks
    return DuplicateDataChanged(batch_id=manifest.batch_id, records=tuple(batch))

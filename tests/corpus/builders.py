"""Building blocks of the bad-input corpus: valid messages and files, and ways to break them precisely.

Everything starts from a valid message or file, so that each case breaks exactly one thing: an envelope of
``pension.survival_inquiry.requested`` (the hub's ingress), a J-LIS result file (the J-LIS link) and a
pension request file with its manifest (the pension exchange directory). Numbers are synthetic.
"""

from __future__ import annotations

import copy
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from adapters.jlis.wire import (
    RESULT_DATA,
    RESULT_RECORD_LENGTH,
    BatchHeader,
    ResultFile,
    ResultRecord,
    write_result,
)
from contracts.ids import new_id

__all__ = [
    "CYCLE",
    "inquiry_csv",
    "jlis_result_file",
    "pension_manifest",
    "set_field",
    "splice_result_field",
    "survival_request_envelope",
]

CYCLE = "2026-12"
_RECORD = RESULT_RECORD_LENGTH + 2  # CR LF
_PURPOSE = {
    "code": "pension.survival_check",
    "legal_basis": [
        {"law": "番号法", "article": "第9条第1項", "item": "別表 59の項"},
        {"law": "住民基本台帳法", "article": "第30条の9", "item": "別表第一 19の項"},
    ],
}


def survival_request_envelope(
    *,
    batch_id: str,
    usage_values: Sequence[str],
    message_id: uuid.UUID | None = None,
    first_seq: int = 1,
) -> dict[str, Any]:
    """A valid ``pension.survival_inquiry.requested`` v1 envelope (JSON-ready) of one chunk."""
    mid = message_id or new_id()
    return {
        "message_id": str(mid),
        "correlation_id": str(mid),
        "message_type": "pension.survival_inquiry.requested",
        "schema_version": 1,
        "source": "pension",
        "actor": "federation",
        "destination": "hub",
        "purpose": copy.deepcopy(_PURPOSE),
        "created_at": "2026-11-26T09:00:00+09:00",
        "payload": {
            "chunk": {
                "batch_id": batch_id,
                "chunk_index": 0,
                "chunk_count": 1,
                "total_records": len(usage_values),
            },
            "cycle": CYCLE,
            "as_of": "2026-11-20",
            "records": [
                {"record_seq": first_seq + i, "usage_number": {"kind": "pension_certificate", "value": value}}
                for i, value in enumerate(usage_values)
            ],
        },
    }


def set_field(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with the dotted ``path`` set (``payload.records.0.record_seq``).

    A value of :data:`DELETE` removes the key instead.
    """
    result = copy.deepcopy(document)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[int(last) if isinstance(node, list) else last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return result


DELETE: Any = object()
"""Marker for :func:`set_field`: remove the key."""


def jlis_result_file(
    request_id: uuid.UUID,
    records: Sequence[ResultRecord],
    *,
    batch_id: str = "corpus",
    fee_units: int | None = None,
) -> bytes:
    """The bytes of a valid J-LIS result file answering ``request_id``."""
    header = BatchHeader(
        request_id=request_id,
        batch_id=batch_id,
        chunk_index=0,
        chunk_count=1,
        total_records=len(records),
        cycle=CYCLE,
        as_of=date(2026, 11, 20),
    )
    return write_result(ResultFile(header, len(records) if fee_units is None else fee_units, tuple(records)))


def splice_result_field(content: bytes, record_no: int, field: str, raw: bytes) -> bytes:
    """``content`` with the bytes of ``field`` in record ``record_no`` (1-based) replaced by ``raw``.

    ``raw`` is padded with spaces (or cut) to the field's length; the trailer's checksum is left as it
    was, so the file is wrong in that field first (record-level problems are reported before file-level
    ones).
    """
    fields = {f.name: f for f in RESULT_DATA.fields}
    f = fields[field]
    start = (record_no - 1) * _RECORD + f.offset
    padded = raw[: f.length].ljust(f.length, b" ")
    return content[:start] + padded + content[start + f.length :]


def inquiry_csv(
    rows: Sequence[tuple[str, str, str]], *, header: str = "record_seq,usage_number_kind,usage_number"
) -> bytes:
    """A request data file: the header line and one line per ``(seq, kind, value)`` row."""
    lines = [header, *(",".join(row) for row in rows)]
    return ("\n".join(lines) + "\n").encode()


def pension_manifest(name: str, content: bytes, *, batch_id: str, **overrides: Any) -> bytes:
    """The manifest of a request data file (correct unless ``overrides`` say otherwise)."""
    data: dict[str, Any] = {
        "format_version": 1,
        "kind": "survival_inquiry",
        "file_name": name,
        "record_count": max(0, len(content.splitlines()) - 1),
        "sha256": hashlib.sha256(content).hexdigest(),
        "cycle": CYCLE,
        "as_of": "2026-11-20",
        "batch_id": batch_id,
    }
    for key, value in overrides.items():
        if value is DELETE:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data, ensure_ascii=False).encode()

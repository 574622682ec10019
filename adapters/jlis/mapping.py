"""Contracts <-> J-LIS wire records for the survival/change inquiry (生存異動照会).

The only place where Individual Numbers change form in the adapter: sealed numbers of an inquiry are
opened into the request records, and new numbers of a result are sealed for the hub. The plain values
live in local variables and in the wire records only; nothing here logs, and errors name fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Final, TypedDict, TypeVar

from adapters.jlis.errors import JlisMappingError, JlisPurposeRefused
from adapters.jlis.wire import (
    BatchHeader,
    FileHeader,
    RequestFile,
    RequestRecord,
    ResultFile,
    ResultRecord,
    WirePurpose,
)
from contracts.envelope import Purpose
from contracts.ids import stable_id
from contracts.messages.common import Address, ChunkInfo
from contracts.messages.survival import JlisResultRecord, JlisSurvivalChangeInquiry, JlisSurvivalChangeResult
from contracts.purpose_table import default_table
from contracts.sealing import Sealer, Unsealer
from contracts.validation import validated

__all__ = [
    "HUB_RECIPIENT",
    "INQUIRY_TYPE",
    "JLIS_PURPOSE",
    "RESULT_TYPE",
    "new_number_field",
    "number_field",
    "request_from_inquiry",
    "result_message_id",
    "result_payload",
]

INQUIRY_TYPE: Final = ("jlis.survival_change.inquiry", 1)
RESULT_TYPE: Final = ("jlis.survival_change.result", 1)
HUB_RECIPIENT: Final = "hub"
JLIS_PURPOSE: Final[Purpose] = default_table().use(WirePurpose.SURVIVAL_CHANGE.value).purpose
"""住基法 第30条の9 and 別表第一 19・74・77の9: the purpose table's row (contracts/purpose_table.toml),
the same one the hub checks, so both sides agree."""
# Result message ids are stable_id(namespace, file name): a redelivered file gets the same id downstream.
_RESULT_NAMESPACE: Final = uuid.UUID("2f0d4d55-8e0b-5c52-9a57-6a6c69732e72")

T = TypeVar("T")


def number_field(record_seq: int) -> str:
    """The field a number of an inquiry is sealed under (bound to the inquiry's message id)."""
    return f"records.{record_seq}.individual_number"


def new_number_field(record_seq: int) -> str:
    """The field a new number of a result is sealed under (bound to the result's message id)."""
    return f"records.{record_seq}.new_individual_number"


def result_message_id(file_name: str) -> uuid.UUID:
    """The deterministic message id of the result envelope built from the file ``file_name``.

    A uuid5 of the name that never looks like an Individual Number (:func:`contracts.ids.stable_id`).
    """
    return stable_id(_RESULT_NAMESPACE, file_name)


def _validated(build: Callable[[], T], what: str) -> T:
    """Run ``build``; a pydantic error becomes :class:`JlisMappingError` naming locations only."""
    return validated(build, what, JlisMappingError)


class ChunkFields(TypedDict):
    """The chunk's fields of a J-LIS header."""

    batch_id: str
    chunk_index: int
    chunk_count: int
    total_records: int


def header_chunk(chunk: ChunkInfo) -> ChunkFields:
    """The header fields of a file written for a message's ``chunk`` (both J-LIS headers have them)."""
    return {
        "batch_id": chunk.batch_id,
        "chunk_index": chunk.chunk_index,
        "chunk_count": chunk.chunk_count,
        "total_records": chunk.total_records,
    }


def chunk_of(header: FileHeader) -> ChunkInfo:
    """The chunk a result file's header answers."""
    return ChunkInfo(
        batch_id=header.batch_id,
        chunk_index=header.chunk_index,
        chunk_count=header.chunk_count,
        total_records=header.total_records,
    )


def check_unique_seqs(seqs: Sequence[int], what: str) -> None:
    """Refuse a message that repeats a ``record_seq`` (``what``: ``the inquiry``, ``the query``).

    Raises:
        JlisMappingError: two records share a record_seq.
    """
    if len(set(seqs)) != len(seqs):
        raise JlisMappingError(f"{what} repeats a record_seq")


def request_from_inquiry(
    message_id: uuid.UUID, purpose_code: str, inquiry: JlisSurvivalChangeInquiry, unsealer: Unsealer
) -> RequestFile:
    """Open the inquiry's sealed numbers and build the request file's records.

    Args:
        message_id: the inquiry envelope's message id (the numbers are sealed bound to it).
        purpose_code: the inquiry envelope's purpose code.
        inquiry: the inquiry payload.
        unsealer: opens numbers sealed for the J-LIS adapter.

    Raises:
        JlisPurposeRefused: the purpose has no J-LIS purpose code.
        JlisMappingError: two records share a record_seq.
        SealError: a number was tampered with, moved, or not sealed for this adapter.
    """
    purposes = {p.value: p for p in WirePurpose}
    if purpose_code not in purposes:
        raise JlisPurposeRefused("the inquiry's purpose has no J-LIS purpose code")
    check_unique_seqs([r.record_seq for r in inquiry.records], "the inquiry")
    header = BatchHeader(
        request_id=message_id,
        **header_chunk(inquiry.chunk),
        cycle=inquiry.cycle,
        as_of=inquiry.as_of,
        purpose=purposes[purpose_code],
    )
    records = tuple(
        RequestRecord(
            record_seq=r.record_seq,
            ref=r.ref,
            individual_number=unsealer.unseal(
                r.individual_number, message_id=message_id, field=number_field(r.record_seq)
            ),
        )
        for r in inquiry.records
    )
    return RequestFile(header, records)


def _result_record(r: ResultRecord, message_id: uuid.UUID, sealer: Sealer) -> JlisResultRecord:
    address = None
    if r.new_address is not None:
        address = Address(
            text=r.new_address,
            postal_code=r.postal_code,
            municipality_code=r.municipality_code,
            abroad=bool(r.abroad),
        )
    sealed = None
    if r.new_individual_number is not None:
        sealed = sealer.seal(
            r.new_individual_number,
            recipient=HUB_RECIPIENT,
            message_id=message_id,
            field=new_number_field(r.record_seq),
        )
    return JlisResultRecord(
        record_seq=r.record_seq,
        ref=r.ref,
        outcome=r.outcome,
        death_date=r.death_date,
        move_kind=r.move_kind,
        moved_on=r.moved_on,
        new_address=address,
        new_name=r.new_name,
        name_changed_on=r.name_changed_on,
        new_individual_number=sealed,
        unmatched_reason=r.unmatched_reason,
    )


def result_payload(result: ResultFile, message_id: uuid.UUID, sealer: Sealer) -> JlisSurvivalChangeResult:
    """Build the result payload, sealing every new number for the hub, bound to ``message_id``.

    Raises:
        JlisMappingError: a record parses but breaks the contract (e.g. a name longer than 50 characters).
    """
    header = result.header
    return _validated(
        lambda: JlisSurvivalChangeResult(
            chunk=chunk_of(header),
            cycle=header.cycle,
            fee_units=result.fee_units,
            records=tuple(_result_record(r, message_id, sealer) for r in result.records),
        ),
        "the result file",
    )

"""Contracts <-> pension file records: the purpose, the deterministic ids, chunking and outcome rows.

Message ids are functions of the request, never random: a crash after publishing a file's messages and
before the file is moved to ``processed/`` publishes the same messages again, with the same ids, and the
hub's inbox drops the duplicates. The id depends on

* the manifest's digest, which covers the data file's SHA-256 *and* the batch, cycle and as_of date: the
  data file alone names no cycle, so two cycles asking about the same people have byte-identical data
  files, and ids from the data alone would make the hub drop the second cycle as a duplicate;
* the chunk size, because a restart with another size cuts other chunks, which must not be mistaken for
  (and dropped as) the chunks already published;
* the chunk index.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from adapters.pension._manifest import (
    AnswerManifest,
    AnyManifest,
    RequestManifest,
    format_version_for,
    new_manifest,
)
from adapters.pension.names import answer_file_name
from adapters.pension.wire import (
    INQUIRY_KIND,
    OUTCOME_KIND,
    InquiryManifest,
    InquiryRow,
    OutcomeManifest,
    OutcomeRow,
    dump_manifest,
    encode_rows,
    format_outcome_row,
    outcome_columns,
    refuse_individual_numbers,
)
from contracts.envelope import Envelope, Purpose, new_envelope
from contracts.ids import stable_id
from contracts.messages.common import Address, ChunkInfo
from contracts.messages.survival import (
    SurvivalCheckOutcomes,
    SurvivalInquiryRecord,
    SurvivalInquiryRequested,
    SurvivalOutcomeRecord,
)
from contracts.purpose_table import default_table
from contracts.registry import payload_dict
from contracts.usage_number import UsageNumber

__all__ = [
    "INQUIRY_MESSAGE_TYPE",
    "NAMESPACE",
    "OUTCOMES_MESSAGE_TYPE",
    "SCHEMA_VERSION",
    "SURVIVAL_CHECK_PURPOSE",
    "ChunkPayload",
    "answer_file",
    "batch_correlation_id",
    "chunk_count",
    "chunk_envelopes",
    "chunk_message_id",
    "chunk_sizes",
    "inquiry_payload",
    "kind_correlation_id",
    "outcome_record",
    "outcome_row",
    "request_digest",
    "survival_outcome_file",
    "written_csv",
]

INQUIRY_MESSAGE_TYPE: Final = "pension.survival_inquiry.requested"
OUTCOMES_MESSAGE_TYPE: Final = "pension.survival_check.outcomes"
SCHEMA_VERSION: Final = 1
NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, "urn:renkei:adapters:pension")
"""The uuid5 namespace of every id this adapter derives."""

SURVIVAL_CHECK_PURPOSE: Final = default_table().request_purpose(INQUIRY_MESSAGE_TYPE)
# 番号法 第9条第1項 別表 59の項 (the hub uses the 個人番号 in this 事務) and 住民基本台帳法 第30条の9 別表第一
# 19の項 (the survival/change check itself): contracts/purpose_table.toml, which cites the sources.
"""Purpose of the survival/change inquiry (生存異動照会) the pension system requests."""


R = TypeVar("R")
ChunkPayload = Callable[[ChunkInfo, list[R], uuid.UUID], BaseModel]
"""Builds a chunk's payload from its place in the batch, its rows and its message id."""
A = TypeVar("A", bound=AnswerManifest)


def batch_correlation_id(batch_id: str) -> uuid.UUID:
    """The correlation id of every message of a survival inquiry batch (the whole inquiry cycle)."""
    return stable_id(NAMESPACE, f"batch:{batch_id}")


def kind_correlation_id(kind: str, batch_id: str) -> uuid.UUID:
    """The correlation id of every message of a batch of a ``kind`` of request.

    The survival inquiry, the first kind, keeps the ids it had before there were others, which name no kind
    (:func:`batch_correlation_id`); every later kind's name it.
    """
    if kind == INQUIRY_KIND:
        return batch_correlation_id(batch_id)
    return stable_id(NAMESPACE, f"{kind}:batch:{batch_id}")


def request_digest(manifest: AnyManifest) -> str:
    """SHA-256 of the manifest's canonical form: the data's checksum, batch, cycle, as_of, name, count."""
    return hashlib.sha256(dump_manifest(manifest)).hexdigest()


def chunk_message_id(manifest: RequestManifest, chunk_records: int, chunk_index: int) -> uuid.UUID:
    """The id of one chunk's message, from the request (its kind and digest), the chunk size and index.

    A file taken again after a crash gives the same messages, which the hub's inbox drops.
    """
    return stable_id(NAMESPACE, f"{manifest.kind}:{request_digest(manifest)}:{chunk_records}:{chunk_index}")


def chunk_count(total_records: int, chunk_records: int) -> int:
    """How many chunks ``total_records`` make (at least one)."""
    return max(1, -(-total_records // chunk_records))


def chunk_sizes(total_records: int, chunk_records: int) -> list[int]:
    """The rows of each chunk of a file cut by record count: ``chunk_records`` each, the rest last.

    (A kind that keeps a person's rows together packs whole runs instead:
    :func:`adapters.pension.runs.packed_sizes`.)
    """
    count = chunk_count(total_records, chunk_records)
    return [chunk_records] * (count - 1) + [total_records - chunk_records * (count - 1)]


def chunked(
    batch_id: str,
    total_records: int,
    rows: Iterable[R],
    *,
    sizes: Sequence[int],
    first_chunk: int = 0,
    max_chunks: int | None = None,
) -> Iterator[tuple[ChunkInfo, list[R]]]:
    """A request file's rows in chunks of ``sizes``, each with its place in the batch, lazily.

    Args:
        batch_id: the request's batch.
        total_records: the rows the whole file holds (its manifest's count).
        rows: the file's rows from the start, or from the first row of chunk ``first_chunk``.
        sizes: the rows of each chunk, in order (:func:`chunk_sizes`; their count is the batch's).
        first_chunk: the index of the chunk the rows start with.
        max_chunks: stop after this many chunks (``None``: all).
    """
    count = len(sizes)
    iterator = iter(rows)
    index = first_chunk
    while index < count and (max_chunks is None or index - first_chunk < max_chunks):
        batch = list(islice(iterator, sizes[index]))
        if not batch:
            return
        yield (
            ChunkInfo(batch_id=batch_id, chunk_index=index, chunk_count=count, total_records=total_records),
            batch,
        )
        index += 1


def chunk_envelopes(
    manifest: RequestManifest,
    rows: Iterable[R],
    *,
    message_type: str,
    purpose: Purpose,
    payload: ChunkPayload[R],
    chunk_records: int,
    sizes: Sequence[int],
    first_chunk: int = 0,
    max_chunks: int | None = None,
) -> Iterator[Envelope]:
    """A request file's messages to the hub, one per chunk, lazily: how every request kind makes them.

    Every message of the batch has the correlation id :func:`kind_correlation_id` of the manifest's kind,
    and a chunk's message its id :func:`chunk_message_id`: a function of the request, never random.

    Args:
        manifest: the request file's manifest (batch, record count, the actor it acts for).
        rows: the file's rows from the start, or from the first row of chunk ``first_chunk``.
        message_type: the kind's message type (schema version 1).
        purpose: the kind's purpose (the purpose table's).
        payload: builds a chunk's payload from its place, its rows and its message id.
        chunk_records: the adapter's records per message (the chunks' ids name it).
        sizes: the rows of each chunk of the file (:func:`chunk_sizes`, or whole runs packed).
        first_chunk: the index of the chunk the rows start with.
        max_chunks: stop after this many chunks (``None``: all).
    """
    correlation_id = kind_correlation_id(manifest.kind, manifest.batch_id)
    for chunk, batch in chunked(
        manifest.batch_id,
        manifest.record_count,
        rows,
        sizes=sizes,
        first_chunk=first_chunk,
        max_chunks=max_chunks,
    ):
        chunk_id = chunk_message_id(manifest, chunk_records, chunk.chunk_index)
        yield new_envelope(
            message_type=message_type,
            schema_version=1,
            source="pension",
            destination="hub",
            purpose=purpose,
            payload=payload_dict(payload(chunk, batch, chunk_id)),
            correlation_id=correlation_id,
            message_id=chunk_id,
            actor=manifest.acting_for,
        )


def inquiry_payload(
    manifest: InquiryManifest, chunk: ChunkInfo, batch: list[InquiryRow]
) -> SurvivalInquiryRequested:
    """The ``pension.survival_inquiry.requested`` payload of one chunk of a request (no number)."""
    records = tuple(
        SurvivalInquiryRecord(record_seq=r.record_seq, usage_number=r.usage_number) for r in batch
    )
    return SurvivalInquiryRequested(chunk=chunk, cycle=manifest.cycle, as_of=manifest.as_of, records=records)


def outcome_row(record: SurvivalOutcomeRecord) -> OutcomeRow:
    """One outcome as a file row."""
    address = record.new_address
    return OutcomeRow(
        record_seq=record.record_seq,
        usage_number_kind=record.usage_number.kind,
        usage_number=record.usage_number.value,
        outcome=record.outcome,
        actions=record.actions,
        death_date=record.death_date,
        move_kind=record.move_kind,
        moved_on=record.moved_on,
        address_text=address.text if address else None,
        address_postal_code=address.postal_code if address else None,
        address_municipality_code=address.municipality_code if address else None,
        address_abroad=address.abroad if address else None,
        new_name=record.new_name or None,
        needs_document=record.needs_document,
        unmatched_reason=record.unmatched_reason,
        not_permitted_reason=record.not_permitted_reason,
    )


def outcome_record(row: OutcomeRow) -> SurvivalOutcomeRecord:
    """A file row back as the contract's record (the inverse of :func:`outcome_row`).

    Raises:
        pydantic.ValidationError: the row does not satisfy the contract (for example a bad postal code).
    """
    address = None
    if row.address_text is not None:
        address = Address(
            text=row.address_text,
            postal_code=row.address_postal_code,
            municipality_code=row.address_municipality_code,
            abroad=bool(row.address_abroad),
        )
    return SurvivalOutcomeRecord(
        record_seq=row.record_seq,
        usage_number=UsageNumber(kind=row.usage_number_kind, value=row.usage_number),
        outcome=row.outcome,
        actions=row.actions,
        death_date=row.death_date,
        move_kind=row.move_kind,
        moved_on=row.moved_on,
        new_address=address,
        new_name=row.new_name,
        needs_document=row.needs_document,
        unmatched_reason=row.unmatched_reason,
        not_permitted_reason=row.not_permitted_reason,
    )


def written_csv(
    columns: Sequence[str], rows: Iterable[Sequence[str]], *, refuse_numbers: bool = True
) -> tuple[bytes, int, str]:
    """The bytes of an outcome file (header row, then ``rows``), its row count and its SHA-256.

    Raises:
        IndividualNumberInFile: a cell would carry a value with the form of an Individual Number (unless
            ``refuse_numbers`` is false, for rows formatted by a writer that refuses them itself).
    """
    checked = []
    for cells in rows:
        if refuse_numbers:
            refuse_individual_numbers(cells, columns, None)
        checked.append(cells)
    content = b"".join(encode_rows(columns, checked))
    return content, len(checked), hashlib.sha256(content).hexdigest()


def answer_file(
    kind: str,
    chunk: ChunkInfo,
    columns: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    manifest_type: type[A],
    actor: str | None,
    name_parts: Sequence[str] = (),
    refuse_numbers: bool = True,
    **fields: Any,
) -> tuple[str, bytes, A]:
    """The answer file of ``kind`` for one chunk: its name, its content (:func:`written_csv`), its manifest.

    Every outcome kind writes its file so (:data:`adapters.pension.kinds.OUTCOME_WRITERS`). The name is a
    function of the kind, the chunk and ``name_parts`` (:func:`~adapters.pension.names.answer_file_name`),
    so rewriting it is idempotent. The manifest (:func:`~adapters.pension._manifest.new_manifest`) names
    the kind and the chunk, and has the kind's own ``fields`` beside.

    Raises:
        IndividualNumberInFile: as :func:`written_csv`.
    """
    name = answer_file_name(kind, chunk.batch_id, chunk.chunk_index, *name_parts)
    content, record_count, sha256 = written_csv(columns, rows, refuse_numbers=refuse_numbers)
    manifest = new_manifest(
        manifest_type,
        actor=actor,
        file_name=name,
        record_count=record_count,
        sha256=sha256,
        batch_id=chunk.batch_id,
        kind=kind,
        chunk_index=chunk.chunk_index,
        chunk_count=chunk.chunk_count,
        **fields,
    )
    return name, content, manifest


def survival_outcome_file(
    outcomes: SurvivalCheckOutcomes, actor: str | None = None
) -> tuple[str, bytes, OutcomeManifest]:
    """The outcome file of one ``pension.survival_check.outcomes`` chunk: name, content and manifest.

    The name is a function of the chunk and its answerer, so rewriting it is idempotent; the format is
    version 2 (with the actor) when the flow has an actor.
    """
    version = format_version_for(actor)
    rows = (format_outcome_row(outcome_row(r), version) for r in outcomes.records)
    return answer_file(
        OUTCOME_KIND,
        outcomes.chunk,
        outcome_columns(version),
        rows,
        manifest_type=OutcomeManifest,
        actor=actor,
        name_parts=(outcomes.answered_by,),
        refuse_numbers=False,
        cycle=outcomes.cycle,
        answered_by=outcomes.answered_by,
    )

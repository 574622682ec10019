"""The file kinds of the pension exchange: what each request kind is and how each answer is written.

A request file's manifest names its kind; the exchange directory and the adapter look the kind up here for its
columns, its row parser, whether it may carry Individual Numbers (and in which columns), what becomes of
the file once its messages are confirmed, and how its rows become messages. Answers from the hub are
written by the writer registered for their message type (:data:`OUTCOME_WRITERS`).

* ``survival_inquiry`` → ``pension.survival_inquiry.requested``; never a number; moved to ``processed/``;
* ``number_acquisition`` → ``pension.number_acquisition.requested``; never a number; moved to
  ``processed/``;
* ``dependants_declaration`` → ``pension.dependants_declaration.submitted``; numbers in its number columns
  only, sealed for the hub at once; **deleted** once its messages are confirmed (its manifest, which holds
  no number, goes to ``processed/``), and deleted when refused (its report stays in ``rejected/``);
* ``payment_report`` → ``pension.payment_report.requested`` (事務(5), eLTAX) and ``withholding_slip`` →
  ``pension.withholding_slip.requested`` (事務(4), the National Tax Agency): one row layout for both
  (:mod:`adapters.pension.tax_reports`), the tax year and payer in the manifest; never a number; moved to
  ``processed/``. Both 事務 are the federation's alone: a file for a 構成組合 is refused.
* ``special_collection`` → ``pension.tokucho.notice_requested`` (事務(7), eLTAX): one notice of the special
  collection cycle per file (:mod:`adapters.pension.special_collection`), its code, 年度 and date in the
  manifest; never a number; moved to ``processed/``; the federation's alone.
* ``code_acquisition`` → ``pension.code_acquisition.requested`` (符号取得, 事務(10)) and ``info_query`` →
  ``pension.info_query.requested`` (情報照会, 事務(9), a 構成組合's alone): to the intermediate server
  (:mod:`adapters.pension.info_query`); never a number; moved to ``processed/``.
* ``duplicate_changes`` → ``pension.duplicate_data.changed`` (副本登録, 事務(10)): to the intermediate server
  (:mod:`adapters.pension.duplicate_changes`); a person's rows contiguous and never split between chunks
  (:attr:`RequestKind.person_runs`); never a number; moved to ``processed/``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import annotated_types
from pydantic import BaseModel

from adapters.pension import (
    acquisition,
    dependants,
    duplicate_changes,
    info_query,
    special_collection,
    tax_reports,
)
from adapters.pension._manifest import (
    AcquisitionManifest,
    AnyManifest,
    CodeAcquisitionManifest,
    DependantsManifest,
    DuplicateChangesManifest,
    InfoQueryManifest,
    InquiryManifest,
    PaymentReportManifest,
    RequestManifest,
    SpecialCollectionManifest,
    WithholdingSlipManifest,
)
from adapters.pension._reader import run_to_end
from adapters.pension.mapping import (
    INQUIRY_MESSAGE_TYPE,
    OUTCOMES_MESSAGE_TYPE,
    SCHEMA_VERSION,
    SURVIVAL_CHECK_PURPOSE,
    ChunkPayload,
    chunk_envelopes,
    chunk_sizes,
    inquiry_payload,
    survival_outcome_file,
)
from adapters.pension.runs import PersonRuns, packed_sizes
from adapters.pension.wire import INQUIRY_COLUMNS, INQUIRY_KIND, format_inquiry_row, parse_inquiry_row
from contracts.envelope import Envelope, Purpose
from contracts.messages.common import ChunkInfo
from contracts.messages.dependants import DependantsDeclarationAcknowledged
from contracts.messages.jlis_acquisition import NumberAcquisitionOutcomes
from contracts.messages.survival import SurvivalCheckOutcomes
from contracts.purpose_table import default_table
from contracts.registry import payload_model
from contracts.sealing import Sealer

__all__ = [
    "NUMBER_BEARING_PREFIX",
    "OUTCOME_WRITERS",
    "REQUEST_KINDS",
    "REQUEST_MESSAGE_TYPES",
    "OutcomeWriter",
    "RequestKind",
    "actor_refusal",
    "carries_numbers",
    "number_free",
    "request_kind",
]

OutcomeWriter = Callable[[Any, str | None], tuple[str, bytes, AnyManifest]]
PayloadsBuilder = Callable[[Any, Sealer | None], ChunkPayload[Any]]
R = TypeVar("R")
NUMBER_BEARING_PREFIX: Final = dependants.DECLARATION_KIND + "."
"""A data file named so may hold numbers: whatever its fate, it never rests in ``rejected/``."""


def number_free(build: Callable[[Any, ChunkInfo, list[R]], BaseModel]) -> PayloadsBuilder:
    """The payloads of a kind whose files carry no number: ``build(manifest, chunk, rows)``, no sealer."""

    def payloads(manifest: Any, sealer: Sealer | None) -> ChunkPayload[R]:
        del sealer  # nothing to seal

        def payload(chunk: ChunkInfo, batch: list[R], message_id: uuid.UUID) -> BaseModel:
            del message_id  # no number is bound to it
            return build(manifest, chunk, batch)

        return payload

    return payloads


@functools.cache
def records_per_message(message_type: str) -> int:
    """The most records one ``message_type`` message carries: its contract's limit on ``records``.

    The adapter's ``chunk_records`` may be set up to 50,000; the intermediate server's messages take
    10,000, so a kind's chunks are cut at whichever is smaller.
    """
    field = payload_model(message_type, 1).model_fields["records"]
    return min(m.max_length for m in field.metadata if isinstance(m, annotated_types.MaxLen))


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestKind:
    """One kind of request file.

    Attributes:
        kind: the manifest's ``kind``.
        manifest: its manifest's model.
        columns: the header row, exactly.
        parse_row: validates one row (fields, physical line) into a typed row with a ``record_seq``.
        format_row: a typed row's cells, in header order (the pension system's side, and the tests').
        message_type: the message each chunk becomes (schema version 1).
        purpose: the purpose its messages declare (the purpose table's for ``message_type``).
        payloads: ``payloads(manifest, sealer)`` tells how each chunk of that file becomes its payload
            (:func:`number_free` for every kind but the one that carries numbers).
        number_columns: the columns where an Individual Number may stand (empty, the default: none anywhere).
        delete_after_publishing: delete the data file (keeping its manifest in ``processed/``) instead of
            moving it to ``processed/``, once its messages are confirmed (default: moved).
    """

    kind: str
    manifest: type[RequestManifest]
    columns: Sequence[str]
    parse_row: Callable[[Sequence[str], int], Any]
    format_row: Callable[[Any], Sequence[str]]
    message_type: str
    purpose: Purpose
    payloads: PayloadsBuilder
    number_columns: frozenset[str] = frozenset()
    delete_after_publishing: bool = False
    row_check: Callable[[Any, Any, int], None] | None = None
    """``row_check(manifest, row, line)``: a rule that needs the manifest as well as the row (raises
    :class:`~adapters.pension.errors.MalformedPensionFile`); ``None`` where the row's own rules are all."""
    person_runs: PersonRuns | None = None
    """Keep each person's rows together (contiguous in the file, in one message); ``None``: chunks are
    cut by record count alone."""

    def parser(self, manifest: RequestManifest) -> Callable[[Sequence[str], int], Any]:
        """The row parser of one reading of a file with this ``manifest``.

        :attr:`parse_row`, then :attr:`row_check`, then the rule of :attr:`person_runs` (which remembers
        the people of this reading only: call again for each reading).
        """
        check = self.row_check
        runs = None if self.person_runs is None else self.person_runs.check()
        if check is None and runs is None:
            return self.parse_row

        def parse(fields: Sequence[str], line: int) -> Any:
            row = self.parse_row(fields, line)
            if check is not None:
                check(manifest, row, line)
            if runs is not None:
                runs(row, line)
            return row

        return parse

    def runs(self, rows: Iterator[Any]) -> Sequence[int]:
        """Read a file's ``rows`` to the end (so that their final checks run): its runs' lengths.

        Empty for a kind that keeps no runs; :meth:`chunk_sizes` packs them.
        """
        if self.person_runs is None:
            run_to_end(rows)
            return ()
        return self.person_runs.lengths(rows)

    def chunk_sizes(self, manifest: RequestManifest, runs: Sequence[int], chunk_records: int) -> list[int]:
        """The rows of each chunk of a file: cut by ``chunk_records``, never inside a person's run.

        Never more rows than the message's contract takes (:func:`records_per_message`), whatever
        ``chunk_records`` says. Whole runs are packed up to that; a person with more rows is a chunk of their
        own.
        """
        limit = min(chunk_records, records_per_message(self.message_type))
        if self.person_runs is None:
            return chunk_sizes(manifest.record_count, limit)
        return packed_sizes(runs, min(limit, self.person_runs.most))

    def envelopes(
        self,
        manifest: RequestManifest,
        rows: Iterable[Any],
        *,
        chunk_records: int,
        sizes: Sequence[int],
        first_chunk: int = 0,
        max_chunks: int | None = None,
        sealer: Sealer | None = None,
    ) -> Iterator[Envelope]:
        """The messages of a slice of a file's chunks, one per chunk, lazily (see :func:`chunk_envelopes`).

        Args:
            manifest: the file's manifest.
            rows: the file's rows from the start, or from the first row of chunk ``first_chunk``.
            chunk_records: the adapter's records per message (the chunks' ids name it).
            sizes: the rows of each chunk (:meth:`chunk_sizes`).
            first_chunk: the index of the chunk the rows start with.
            max_chunks: stop after this many chunks (``None``: all).
            sealer: seals the numbers of a kind that carries them for the hub.

        Raises:
            ConfigurationError: the kind carries numbers and no sealer was given.
        """
        yield from chunk_envelopes(
            manifest,
            rows,
            message_type=self.message_type,
            purpose=self.purpose,
            payload=self.payloads(manifest, sealer),
            chunk_records=chunk_records,
            sizes=sizes,
            first_chunk=first_chunk,
            max_chunks=max_chunks,
        )


REQUEST_KINDS: Final[Mapping[str, RequestKind]] = {
    k.kind: k
    for k in (
        RequestKind(
            kind=INQUIRY_KIND,
            manifest=InquiryManifest,
            columns=INQUIRY_COLUMNS,
            parse_row=parse_inquiry_row,
            format_row=format_inquiry_row,
            message_type=INQUIRY_MESSAGE_TYPE,
            purpose=SURVIVAL_CHECK_PURPOSE,
            payloads=number_free(inquiry_payload),
        ),
        RequestKind(
            kind=acquisition.ACQUISITION_KIND,
            manifest=AcquisitionManifest,
            columns=acquisition.ACQUISITION_COLUMNS,
            parse_row=acquisition.parse_acquisition_row,
            format_row=acquisition.format_acquisition_row,
            message_type=acquisition.REQUEST_MESSAGE_TYPE,
            purpose=acquisition.NUMBER_ACQUISITION_PURPOSE,
            payloads=number_free(acquisition.acquisition_payload),
        ),
        RequestKind(
            kind=dependants.DECLARATION_KIND,
            manifest=DependantsManifest,
            columns=dependants.DECLARATION_COLUMNS,
            parse_row=dependants.parse_declaration_row,
            format_row=dependants.format_declaration_row,
            number_columns=dependants.NUMBER_COLUMNS,
            delete_after_publishing=True,
            message_type=dependants.SUBMITTED_MESSAGE_TYPE,
            purpose=dependants.DEPENDANTS_PURPOSE,
            payloads=dependants.declaration_payloads,
        ),
        RequestKind(
            kind=tax_reports.PAYMENT_REPORT_KIND,
            manifest=PaymentReportManifest,
            columns=tax_reports.COLUMNS,
            parse_row=tax_reports.parse_report_row,
            format_row=tax_reports.format_report_row,
            message_type=tax_reports.PAYMENT_REPORT_MESSAGE_TYPE,
            purpose=tax_reports.PAYMENT_REPORT_PURPOSE,
            payloads=number_free(tax_reports.payment_report_payload),
        ),
        RequestKind(
            kind=tax_reports.WITHHOLDING_SLIP_KIND,
            manifest=WithholdingSlipManifest,
            columns=tax_reports.COLUMNS,
            parse_row=tax_reports.parse_report_row,
            format_row=tax_reports.format_report_row,
            message_type=tax_reports.WITHHOLDING_SLIP_MESSAGE_TYPE,
            purpose=tax_reports.WITHHOLDING_SLIP_PURPOSE,
            payloads=number_free(tax_reports.withholding_slip_payload),
        ),
        RequestKind(
            kind=special_collection.KIND,
            manifest=SpecialCollectionManifest,
            columns=special_collection.COLUMNS,
            parse_row=special_collection.parse_notice_row,
            format_row=special_collection.format_notice_row,
            message_type=special_collection.MESSAGE_TYPE,
            purpose=special_collection.PURPOSE,
            payloads=number_free(special_collection.notice_payload),
            row_check=special_collection.check_category,
        ),
        RequestKind(
            kind=info_query.CODE_KIND,
            manifest=CodeAcquisitionManifest,
            columns=INQUIRY_COLUMNS,
            parse_row=parse_inquiry_row,
            format_row=format_inquiry_row,
            message_type=info_query.CODE_MESSAGE_TYPE,
            purpose=info_query.CODE_PURPOSE,
            payloads=number_free(info_query.code_payload),
        ),
        RequestKind(
            kind=info_query.QUERY_KIND,
            manifest=InfoQueryManifest,
            columns=info_query.COLUMNS,
            parse_row=info_query.parse_query_row,
            format_row=info_query.format_query_row,
            message_type=info_query.QUERY_MESSAGE_TYPE,
            purpose=info_query.QUERY_PURPOSE,
            payloads=number_free(info_query.query_payload),
        ),
        RequestKind(
            kind=duplicate_changes.KIND,
            manifest=DuplicateChangesManifest,
            columns=duplicate_changes.COLUMNS,
            parse_row=duplicate_changes.parse_change_row,
            format_row=duplicate_changes.format_change_row,
            message_type=duplicate_changes.MESSAGE_TYPE,
            purpose=duplicate_changes.PURPOSE,
            payloads=number_free(duplicate_changes.change_payload),
            person_runs=duplicate_changes.PERSON_RUNS,
        ),
    )
}
REQUEST_MESSAGE_TYPES: Final[Mapping[str, str]] = {kind: k.message_type for kind, k in REQUEST_KINDS.items()}
"""The message type each request kind becomes (the 事務 it serves is the purpose table's)."""
_REQUEST_MANIFESTS: Final = tuple(k.manifest for k in REQUEST_KINDS.values())


def request_kind(manifest: AnyManifest) -> RequestKind | None:
    """The request kind of a manifest, or ``None`` for an outcome manifest (not accepted in ``inbound/``)."""
    if not isinstance(manifest, _REQUEST_MANIFESTS):
        return None
    return REQUEST_KINDS[manifest.kind]


def actor_refusal(manifest: RequestManifest) -> str | None:
    """Why the manifest's actor may not send this kind of file (the seed's split of 事務), or ``None``.

    The hub checks again on every message; refusing here gives the pension system a report it can act on.
    """
    jimu = default_table().request_jimu(REQUEST_MESSAGE_TYPES[manifest.kind])
    if jimu is None:
        return None
    refused = default_table().may_do(manifest.acting_for, jimu.no)
    return None if refused is None else refused.message


def carries_numbers(name: str, manifest: RequestManifest | None = None) -> bool:
    """Whether a data file may hold Individual Numbers: by its name, or by its manifest's kind."""
    return name.startswith(NUMBER_BEARING_PREFIX) or isinstance(manifest, DependantsManifest)


OUTCOME_WRITERS: Final[Mapping[tuple[str, int], tuple[type[BaseModel], OutcomeWriter]]] = {
    (OUTCOMES_MESSAGE_TYPE, SCHEMA_VERSION): (SurvivalCheckOutcomes, survival_outcome_file),
    (acquisition.OUTCOME_MESSAGE_TYPE, 1): (NumberAcquisitionOutcomes, acquisition.outcome_file),
    (dependants.ACK_MESSAGE_TYPE, 1): (DependantsDeclarationAcknowledged, dependants.ack_file),
}
"""Hub → pension messages written as CSV outcome files by these writers (``writer(payload, actor)`` gives
the file's name, content and manifest), one per answer kind: survival/change outcomes, number
acquisition outcomes, dependants' declaration acknowledgements."""

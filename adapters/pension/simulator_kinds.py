"""The simulated pension system's side of every request kind but the survival inquiry, and their answers.

Like :class:`~adapters.pension.simulator.PensionSystemSimulator` it follows the exchange's discipline
(``NAME.tmp``, rename, manifest last; read only complete answers, checksum and count verified) and streams
both ways, so a million rows need no more memory than a line; counting distinct answered rows takes a
bitmap of ``record_seq``, not the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from adapters.pension import (
    acquisition,
    dependants,
    duplicate_changes,
    info_query,
    special_collection,
    tax_reports,
)
from adapters.pension._manifest import AcquisitionOutcomeManifest, AnyManifest, DependantsAckManifest
from adapters.pension.kinds import REQUEST_KINDS
from adapters.pension.names import answer_file_prefix, request_file_name
from adapters.pension.simulator import Parse, PensionSide, distinct_count
from adapters.pension.wire import InquiryRow
from contracts.messages.eltax import PaymentReportPayer, PaymentReportRecord, TokuchoNoticeCode, TokuchoRecord
from contracts.messages.intermediate_server import DuplicateChangeRecord, InfoQueryRecord

__all__ = ["PensionRequestsSimulator", "distinct_count"]


@dataclass(frozen=True, slots=True)
class _AnswerFormat:
    """How the pension system reads one kind of answer file: its names' kind, manifest, columns and rows."""

    kind: str
    manifest: type[AnyManifest]
    columns: Sequence[str]
    parse: Parse


_ACQUISITION_OUTCOMES: Final = _AnswerFormat(
    acquisition.OUTCOME_KIND,
    AcquisitionOutcomeManifest,
    acquisition.OUTCOME_COLUMNS,
    acquisition.parse_outcome_row,
)
_DEPENDANTS_ACKS: Final = _AnswerFormat(
    dependants.ACK_KIND, DependantsAckManifest, dependants.ACK_COLUMNS, dependants.parse_ack_row
)


class PensionRequestsSimulator(PensionSide):
    """Drops the request files of every kind but the survival inquiry; reads the answers written as CSV.

    The other answers (to tax reports, notices and the intermediate server's exchanges) come back as JSON
    message files (:mod:`adapters.pension.messages`), read with
    :func:`~adapters.pension.messages.read_hub_messages`.

    Args:
        root: the exchange root the adapter's exchange directory uses.
    """

    # -- requests ------------------------------------------------------------------------------------

    def drop_request(
        self, kind: str, rows: Iterable[Any], *, batch_id: str, actor: str | None = None, **fields: Any
    ) -> Path:
        """Write a request file of ``kind`` from its typed rows, and its manifest; returns the file's path.

        The file is named as :func:`~adapters.pension.names.request_file_name` says; its rows and manifest
        are the kind's (:data:`~adapters.pension.kinds.REQUEST_KINDS`), the manifest with the kind's own
        ``fields``. ``actor``: on whose behalf (a version 2 manifest); ``None`` writes version 1 (the
        federation's).
        """
        request = REQUEST_KINDS[kind]
        return self._drop(
            request_file_name(kind, batch_id),
            request.columns,
            (request.format_row(row) for row in rows),
            request.manifest,
            batch_id=batch_id,
            actor=actor,
            kind=kind,
            **fields,
        )

    def drop_acquisition_request(
        self,
        rows: Iterable[acquisition.AcquisitionRow],
        *,
        as_of: date,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a number acquisition request file (事務(1)) and its manifest."""
        return self.drop_request(
            acquisition.ACQUISITION_KIND, rows, batch_id=batch_id, actor=actor, as_of=as_of
        )

    def drop_dependants_declarations(
        self,
        rows: Iterable[dependants.DeclarationRow],
        *,
        tax_year: int,
        filing_deadline: date,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a dependants' declaration file (numbers in the clear, as this kind has them) and manifest.

        ``actor``: the 構成組合 on whose behalf (事務(2) is theirs alone).
        """
        return self.drop_request(
            dependants.DECLARATION_KIND,
            rows,
            batch_id=batch_id,
            actor=actor,
            tax_year=tax_year,
            filing_deadline=filing_deadline,
        )

    def drop_payment_reports(
        self,
        records: Iterable[PaymentReportRecord],
        *,
        tax_year: int,
        payer: PaymentReportPayer,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a payment report request file (事務(5), to eLTAX) and its manifest."""
        return self.drop_request(
            tax_reports.PAYMENT_REPORT_KIND,
            records,
            batch_id=batch_id,
            actor=actor,
            tax_year=tax_year,
            payer=payer,
        )

    def drop_withholding_slips(
        self,
        records: Iterable[PaymentReportRecord],
        *,
        tax_year: int,
        payer: PaymentReportPayer,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a withholding slip request file (事務(4), to the Agency; the payer names its 法人番号)."""
        return self.drop_request(
            tax_reports.WITHHOLDING_SLIP_KIND,
            records,
            batch_id=batch_id,
            actor=actor,
            tax_year=tax_year,
            payer=payer,
        )

    def drop_special_collection_notice(
        self,
        records: Iterable[TokuchoRecord],
        *,
        notice_code: TokuchoNoticeCode,
        fiscal_year: int,
        created_on: date,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write one special collection notice (事務(7), to municipalities through eLTAX) and its manifest."""
        return self.drop_request(
            special_collection.KIND,
            records,
            batch_id=batch_id,
            actor=actor,
            notice_code=notice_code,
            fiscal_year=fiscal_year,
            created_on=created_on,
        )

    def drop_code_acquisition(
        self, rows: Iterable[InquiryRow], *, batch_id: str, actor: str | None = None
    ) -> Path:
        """Write a code acquisition request (符号取得, 事務(10)) and its manifest."""
        return self.drop_request(info_query.CODE_KIND, rows, batch_id=batch_id, actor=actor)

    def drop_info_queries(
        self, records: Iterable[InfoQueryRecord], *, batch_id: str, actor: str | None = None
    ) -> Path:
        """Write an information query request (情報照会, 事務(9), a 構成組合 as actor) and its manifest."""
        return self.drop_request(info_query.QUERY_KIND, records, batch_id=batch_id, actor=actor)

    def drop_duplicate_changes(
        self, records: Iterable[DuplicateChangeRecord], *, batch_id: str, actor: str | None = None
    ) -> Path:
        """Write a 副本 change request (副本登録, 事務(10)) and its manifest: each person's rows together."""
        return self.drop_request(duplicate_changes.KIND, records, batch_id=batch_id, actor=actor)

    # -- answers -------------------------------------------------------------------------------------

    def acquisition_outcomes(self, batch_id: str) -> Iterator[acquisition.AcquisitionOutcomeRow]:
        """Every outcome row of a number acquisition batch, file by file, duplicates included."""
        return self._rows(_ACQUISITION_OUTCOMES, batch_id)

    def completed_acquisitions(self, batch_id: str) -> int:
        """How many distinct ``record_seq`` of the batch have an outcome so far."""
        return self._distinct_of(_ACQUISITION_OUTCOMES, batch_id)

    def dependants_acks(self, batch_id: str) -> Iterator[dependants.AckRow]:
        """Every acknowledgement row of a declaration batch, file by file, duplicates included."""
        return self._rows(_DEPENDANTS_ACKS, batch_id)

    def acknowledged_declarations(self, batch_id: str) -> int:
        """How many distinct declarations of the batch are acknowledged so far."""
        return self._distinct_of(_DEPENDANTS_ACKS, batch_id)

    def _files(self, answer: _AnswerFormat, batch_id: str) -> Iterator[tuple[Path, Any]]:
        return self._answers(answer_file_prefix(answer.kind, batch_id), answer.manifest)

    def _distinct_of(self, answer: _AnswerFormat, batch_id: str) -> int:
        return self._distinct(
            self._files(answer, batch_id),
            lambda path, manifest: self._rows_of(path, manifest, answer.columns, answer.parse),
        )

    def _rows(self, answer: _AnswerFormat, batch_id: str) -> Iterator[Any]:
        for path, manifest in self._files(answer, batch_id):
            yield from self._rows_of(path, manifest, answer.columns, answer.parse)

"""The eLTAX adapter: submissions and notices from the hub become files, files from eLTAX become messages.

:class:`EltaxAdapter` implements :class:`contracts.link.Adapter`. It is stateless: file names derive from
the message id, message ids from file names, so a redelivered input produces the same output and is
deduplicated downstream.

Before anything leaves, every field of every file is checked against its layout: the writers refuse what
the layout forbids (:class:`~adapters.eltax.errors.EltaxFieldRefused`, naming the record and the field, never
the value), and each written file is read back with the same layout. One refused field fails the whole
message, so it is dead-lettered and no file of it is sent. Numbers arriving in municipalities' notices are
sealed for the hub as the file is read.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Final

from pydantic import BaseModel

from adapters.dispatch import Receivers, Route, Routes, receive, route
from adapters.eltax.errors import EltaxFileError
from adapters.eltax.mapping import inbound_payload, message_id_of, notice_files, receipt_payload, report_files
from adapters.eltax.names import (
    COUNTERPART,
    RECEIPT,
    FileName,
    correlation_of,
    notice_file_name,
    notice_kind,
    parse_name,
    report_file_name,
)
from adapters.eltax.receipt import parse_receipt
from adapters.eltax.report import parse_report, write_report
from adapters.eltax.tokucho import parse_notice, write_notice
from adapters.files import files_written, message_for_hub, message_read
from contracts.envelope import Envelope, Purpose
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.eltax import (
    FROM_MUNICIPALITIES,
    NOTICE_PURPOSE,
    PAYMENT_REPORT_PURPOSE,
    EltaxDocument,
    EltaxPaymentReportSubmission,
    EltaxTokuchoNotice,
    purpose_of_notice,
)
from contracts.registry import Decoded
from contracts.sealing import Sealer, Unsealer

__all__ = [
    "FROM_COUNTERPART",
    "FROM_HUB",
    "INBOUND_TYPE",
    "NOTICE_TYPE",
    "RECEIPT_TYPE",
    "SUBMISSION_TYPE",
    "EltaxAdapter",
]

SUBMISSION_TYPE: Final = ("eltax.payment_report.submission", 1)
NOTICE_TYPE: Final = ("eltax.tokucho.notice", 1)
RECEIPT_TYPE: Final = ("eltax.receipt", 1)
INBOUND_TYPE: Final = ("eltax.tokucho.inbound", 1)


class EltaxAdapter:
    """The eLTAX adapter of the payment reports and the special collection.

    Args:
        unsealer: opens numbers the hub sealed for ``eltax``.
        sealer: seals numbers of municipalities' notices for the hub.
    """

    name: str = COUNTERPART
    file_error = EltaxFileError
    not_received = "the federation does not receive this file from eLTAX"

    def __init__(self, unsealer: Unsealer, sealer: Sealer) -> None:
        self._unsealer = unsealer
        self._sealer = sealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the files of a submission (one per municipality) or of a notice (one per municipality).

        Handles the message types of :data:`FROM_HUB`.

        Raises:
            UnknownMessageType: any other message type or version.
            EltaxFieldRefused: a field the layout forbids; nothing is written.
            EltaxMappingError: the message repeats a record_seq.
            SealError: a sealed number does not open for this message and field.
        """
        return route(FROM_HUB, self, message)

    def _report_files(self, env: Envelope, submission: EltaxPaymentReportSubmission) -> AdapterOutput:
        files = []
        for municipality, report in report_files(env.message_id, submission, self._unsealer):
            content = write_report(report)
            parse_report(content)  # read back with the same layout: what leaves is what it says
            files.append((report_file_name(municipality, env.message_id), content))
        return _to_eltax(env, files, len(submission.records))

    def _notice_files(self, env: Envelope, notice: EltaxTokuchoNotice) -> AdapterOutput:
        files = []
        seq = notice.chunk.chunk_index + 1
        for municipality, written in notice_files(env.message_id, notice, self._unsealer, medium_seq=seq):
            content = write_notice(written)
            parse_notice(content)
            files.append((notice_file_name(notice.notice_code, municipality, env.message_id), content))
        return _to_eltax(env, files, len(notice.records))

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn a receipt or a municipality's notice into a message for the hub.

        Handles the file kinds of :data:`FROM_COUNTERPART`.

        Raises:
            EltaxFileError: not a file eLTAX sends to the federation, or its contents contradict its name.
            EltaxWireError: the file breaks its layout.
            EltaxMappingError: a record breaks the contract.
        """
        name = parse_name(file.name)
        return receive(FROM_COUNTERPART, self, file, name.code, name)

    def _receipt(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        receipt = parse_receipt(file.content)
        if receipt.submission != name.submission or receipt.municipality_code != name.municipality_code:
            raise EltaxFileError("the receipt's header answers another file than its name")
        purpose = (
            PAYMENT_REPORT_PURPOSE
            if receipt.document is EltaxDocument.PAYMENT_REPORT
            else purpose_of_notice(receipt.notice_code)
            if receipt.notice_code is not None
            else NOTICE_PURPOSE
        )
        details = Counter(r.status.value for r in receipt.records)
        payload = receipt_payload(receipt)
        envelope = _to_hub(
            RECEIPT_TYPE, purpose, payload, file=file, correlation_id=correlation_id, causation=name.file_id
        )
        return message_read(envelope, records=sum(details.values()), details=details)

    def _notice(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        notice = parse_notice(file.content)
        header = notice.header
        if header.notice_code is not name.notice_code or header.municipality_code != name.municipality_code:
            raise EltaxFileError("the notice's header says another notice or municipality than its name")
        payload = inbound_payload(file.name, notice, message_id_of(file.name), self._sealer)
        details = Counter({f"notice_{header.notice_code.value}": len(notice.records)})
        envelope = _to_hub(INBOUND_TYPE, NOTICE_PURPOSE, payload, file=file, correlation_id=correlation_id)
        return message_read(envelope, records=sum(details.values()), details=details)


FROM_HUB: Final[Routes[EltaxAdapter]] = {
    SUBMISSION_TYPE: Route(EltaxPaymentReportSubmission, EltaxAdapter._report_files),
    NOTICE_TYPE: Route(EltaxTokuchoNotice, EltaxAdapter._notice_files),
}
"""The dispatch table: each message type the hub sends to eLTAX, and its handler."""

FROM_COUNTERPART: Final[Receivers[EltaxAdapter, FileName]] = {
    RECEIPT: EltaxAdapter._receipt,
    **{notice_kind(code): EltaxAdapter._notice for code in sorted(FROM_MUNICIPALITIES)},
}
"""The files eLTAX sends (:data:`~adapters.eltax.names.INBOUND`), by kind, and their handlers."""


def _to_hub(
    message_type: tuple[str, int],
    purpose: Purpose,
    payload: BaseModel,
    *,
    file: CounterpartFile,
    correlation_id: uuid.UUID,
    causation: uuid.UUID | None = None,
) -> Envelope:
    """The message made from ``file``: its id derives from the file's name, so a redelivery is dropped."""
    return message_for_hub(
        COUNTERPART,
        message_type,
        purpose,
        payload,
        correlation_id=correlation_id,
        causation_id=causation,
        message_id=message_id_of(file.name),
    )


def _to_eltax(env: Envelope, written: list[tuple[str, bytes]], records: int) -> AdapterOutput:
    """The files written from one hub message, for the eLTAX link."""
    return files_written(COUNTERPART, env, written, {"files": len(written), "records": records})

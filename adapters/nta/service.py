"""The NTA adapter: withholding slips from the hub become a file, the Agency's receipts become messages.

:class:`NtaAdapter` implements :class:`contracts.link.Adapter`. It is stateless: the file's name derives
from the message id and a receipt's message id from its file name, so a redelivered input produces the same
output and is deduplicated downstream.

Before anything leaves, every item of every slip is checked against the layout: the writer refuses what the
layout forbids (:class:`~adapters.nta.errors.NtaFieldRefused`, naming the line and the item, never the
value), and the written file is read back with the same layout. One refused item fails the whole message,
so it is dead-lettered and no file of it is sent. No number comes back from the Agency: the adapter only
opens numbers, it seals none.
"""

from __future__ import annotations

from typing import Final

from adapters.dispatch import Receivers, Route, Routes, receive, route
from adapters.files import files_written, message_for_hub, message_read
from adapters.nta.errors import NtaFileError
from adapters.nta.mapping import message_id_of, receipt_payload, slip_file
from adapters.nta.names import (
    COUNTERPART,
    RECEIPT,
    FileName,
    correlation_of,
    parse_name,
    submission_file_name,
)
from adapters.nta.receipt import parse_receipt
from adapters.nta.slip import parse_slips, write_slips
from contracts.envelope import Envelope
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.nta import WITHHOLDING_SLIP_PURPOSE, NtaWithholdingSlipSubmission
from contracts.registry import Decoded
from contracts.sealing import Unsealer

__all__ = ["FROM_COUNTERPART", "FROM_HUB", "RECEIPT_TYPE", "SUBMISSION_TYPE", "NtaAdapter"]

SUBMISSION_TYPE: Final = ("nta.withholding_slip.submission", 1)
RECEIPT_TYPE: Final = ("nta.receipt", 1)


class NtaAdapter:
    """The adapter of the withholding slips to the National Tax Agency.

    Args:
        unsealer: opens numbers the hub sealed for ``nta``.
    """

    name: str = COUNTERPART
    file_error = NtaFileError
    not_received = "the federation does not receive this file from the National Tax Agency"

    def __init__(self, unsealer: Unsealer) -> None:
        self._unsealer = unsealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the withholding-slip file of a submission (one file per message).

        Handles the message types of :data:`FROM_HUB`.

        Raises:
            UnknownMessageType: any other message type or version.
            NtaPurposeRefused: the message's purpose is not the withholding slip's; nothing is opened.
            NtaFieldRefused: an item the layout forbids; nothing is written.
            NtaMappingError: the message repeats a record_seq.
            SealError: a sealed number does not open for this message and field.
        """
        return route(FROM_HUB, self, message)

    def _slip_file(self, env: Envelope, submission: NtaWithholdingSlipSubmission) -> AdapterOutput:
        content = write_slips(slip_file(env.message_id, env.purpose, submission, self._unsealer))
        parse_slips(content)  # read back with the same layout: what leaves is what it says
        written = [(submission_file_name(env.message_id), content)]
        return files_written(COUNTERPART, env, written, {"files": 1, "records": len(submission.records)})

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn the Agency's receipt into a message for the hub.

        Handles the file kinds of :data:`FROM_COUNTERPART`.

        Raises:
            NtaFileError: not a file the Agency sends to the federation, or its contents contradict its name.
            NtaWireError: the file breaks its layout.
            NtaMappingError: the receipt breaks the contract.
        """
        name = parse_name(file.name)
        return receive(FROM_COUNTERPART, self, file, name.code, name)

    def _receipt(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        receipt = parse_receipt(file.content)
        if receipt.submission != name.submission:
            raise NtaFileError("the receipt's control line answers another file than its name")
        envelope = message_for_hub(
            COUNTERPART,
            RECEIPT_TYPE,
            WITHHOLDING_SLIP_PURPOSE,
            receipt_payload(receipt),
            correlation_id=correlation_id,
            causation_id=name.file_id,
            message_id=message_id_of(file.name),
        )
        return message_read(envelope, records=receipt.slips, details={receipt.status.value: receipt.slips})


FROM_HUB: Final[Routes[NtaAdapter]] = {
    SUBMISSION_TYPE: Route(NtaWithholdingSlipSubmission, NtaAdapter._slip_file),
}
"""The dispatch table: the one message type the hub sends to the Agency, and its handler."""

FROM_COUNTERPART: Final[Receivers[NtaAdapter, FileName]] = {
    RECEIPT: NtaAdapter._receipt,
}
"""The files the Agency sends (:data:`~adapters.nta.names.INBOUND`), by kind, and their handlers."""

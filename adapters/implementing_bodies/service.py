"""The adapter of the other implementing bodies: forwardings from the hub become files, receipts messages.

:class:`ImplementingBodiesAdapter` implements :class:`contracts.link.Adapter`. It is stateless: the file's
name derives from the message id and a receipt's message id from its file name, so a redelivered input
produces the same output and is deduplicated downstream. Every item of every claim is checked against the
layout before anything leaves (:class:`~adapters.implementing_bodies.errors.IbFieldRefused` names the line
and the item, never the value), and the written file is read back with the same layout. The adapter only
opens numbers; it seals none (no number comes back).
"""

from __future__ import annotations

from typing import Final

from adapters.dispatch import Receivers, Route, Routes, receive, route
from adapters.files import files_written, message_for_hub, message_read
from adapters.implementing_bodies.errors import IbFileError
from adapters.implementing_bodies.mapping import forwarding_file, message_id_of, receipt_payload
from adapters.implementing_bodies.names import (
    COUNTERPART,
    RECEIPT,
    FileName,
    correlation_of,
    forwarding_file_name,
    parse_name,
)
from adapters.implementing_bodies.wire import parse_forwarding, parse_receipt, write_forwarding
from contracts.envelope import Envelope
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.implementing_bodies import CLAIM_FORWARDING_PURPOSE, ClaimForwarding
from contracts.registry import Decoded
from contracts.sealing import Unsealer

__all__ = ["FORWARDING_TYPE", "FROM_COUNTERPART", "FROM_HUB", "RECEIPT_TYPE", "ImplementingBodiesAdapter"]

FORWARDING_TYPE: Final = ("implementing_bodies.claim.forwarding", 1)
RECEIPT_TYPE: Final = ("implementing_bodies.receipt", 1)


class ImplementingBodiesAdapter:
    """The adapter of claims forwarded to the other implementing bodies (事務 (6)).

    Args:
        unsealer: opens numbers the hub sealed for ``implementing_bodies``.
    """

    name: str = COUNTERPART
    file_error = IbFileError
    not_received = "the federation does not receive this file from the other implementing bodies"

    def __init__(self, unsealer: Unsealer) -> None:
        self._unsealer = unsealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the forwarding file of one batch's claims for one destination.

        Raises:
            UnknownMessageType: a message type or version :data:`FROM_HUB` lacks.
            IbPurposeRefused: the message's purpose is not the claim forwarding's; nothing is opened.
            IbFieldRefused: an item the layout forbids; nothing is written.
            SealError: a sealed number does not open for this message and field.
        """
        return route(FROM_HUB, self, message)

    def _forwarding(self, env: Envelope, forwarding: ClaimForwarding) -> AdapterOutput:
        content = write_forwarding(forwarding_file(env.message_id, env.purpose, forwarding, self._unsealer))
        parse_forwarding(content)  # read back with the same layout: what leaves is what it says
        written = [(forwarding_file_name(forwarding.destination, env.message_id), content)]
        return files_written(COUNTERPART, env, written, {"files": 1, "records": len(forwarding.claims)})

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn a receiving body's receipt into a message for the hub.

        Raises:
            IbFileError: not a file the bodies send, or its header contradicts its name.
            IbWireError: the file breaks its layout.
            IbMappingError: the receipt breaks the contract.
        """
        name = parse_name(file.name)
        return receive(FROM_COUNTERPART, self, file, name.code, name)

    def _receipt(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        receipt = parse_receipt(file.content)
        if receipt.forwarding != name.forwarding or receipt.destination is not name.destination:
            raise IbFileError("the receipt's header answers another file than its name")
        envelope = message_for_hub(
            COUNTERPART,
            RECEIPT_TYPE,
            CLAIM_FORWARDING_PURPOSE,
            receipt_payload(receipt),
            correlation_id=correlation_id,
            causation_id=name.file_id,
            message_id=message_id_of(file.name),
        )
        counts = {"accepted": len(receipt.accepted), "returned": len(receipt.returned)}
        return message_read(envelope, records=sum(counts.values()), details=counts)


FROM_HUB: Final[Routes[ImplementingBodiesAdapter]] = {
    FORWARDING_TYPE: Route(ClaimForwarding, ImplementingBodiesAdapter._forwarding),
}
"""The dispatch table: the one message type the hub sends to the other bodies, and its handler."""

FROM_COUNTERPART: Final[Receivers[ImplementingBodiesAdapter, FileName]] = {
    RECEIPT: ImplementingBodiesAdapter._receipt,
}
"""The files the other bodies send (:data:`~adapters.implementing_bodies.names.INBOUND`), and handlers."""

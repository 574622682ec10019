"""The line to the other implementing bodies: file names, the pairing of a receipt with its forwarding.

Nothing here does I/O. Names are deterministic, so that a redelivered forwarding writes the same file and a
redelivered receipt gives the same message id downstream (``<id>``: 32 lowercase hex digits, the
forwarding message's id; ``<dest>``: the destination, ``jps``, ``kkr``, ``local``, ``shigaku``)::

    forwarding   IB-FWD-<dest>-<id>.csv   構成組合 -> another implementing body
    receipt      IB-RCV-<dest>-<id>.csv   implementing body -> 構成組合

These names are renkei's own (no public format exists for the 情報連携システム's forwarding). A
receipt carries its forwarding's correlation id and names it in its header. Names never hold a number.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final, Literal

from adapters import files
from adapters.implementing_bodies.errors import IbFileError
from contracts.link import CounterpartFile
from contracts.messages.implementing_bodies import ImplementingBody

__all__ = [
    "COUNTERPART",
    "FORWARDING",
    "INBOUND",
    "RECEIPT",
    "FileName",
    "check_pairing",
    "correlation_of",
    "forwarding_file_name",
    "parse_name",
    "receipt_file_name",
]

COUNTERPART: Final = "implementing_bodies"
FORWARDING: Final = "FWD"
"""The kind code of a forwarding file."""
RECEIPT: Final = "RCV"
"""The kind code of a receipt."""
INBOUND: Final = frozenset({RECEIPT})
"""The kinds of file the other implementing bodies send: their receipts."""
_DESTINATIONS: Final = "|".join(b.value for b in ImplementingBody)
_NAME: Final = re.compile(rf"IB-(?P<code>FWD|RCV)-(?P<dest>{_DESTINATIONS})-(?P<id>[0-9a-f]{{32}})\.csv")

FileKind = Literal["forwarding", "receipt"]


@dataclass(frozen=True, slots=True)
class FileName:
    """What a file's name says: its kind, the destination, the forwarding message's id."""

    kind: FileKind
    destination: ImplementingBody
    file_id: uuid.UUID

    @property
    def code(self) -> str:
        """The kind code the name carries: ``FWD`` or ``RCV``."""
        return RECEIPT if self.kind == "receipt" else FORWARDING

    @property
    def forwarding(self) -> str:
        """The name of the forwarding file (a receipt's answers it)."""
        return forwarding_file_name(self.destination, self.file_id)


def forwarding_file_name(destination: ImplementingBody, message_id: uuid.UUID) -> str:
    """The name of the forwarding file written from message ``message_id`` for ``destination``."""
    return f"IB-{FORWARDING}-{destination.value}-{message_id.hex}.csv"


def receipt_file_name(forwarding: str) -> str:
    """The name of the receipt of ``forwarding``."""
    return forwarding.replace(f"IB-{FORWARDING}-", f"IB-{RECEIPT}-", 1)


def parse_name(name: str) -> FileName:
    """What a file name of the exchange says.

    Raises:
        IbFileError: the name is not one of the exchange's.
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise IbFileError("not a file name of the exchange with the implementing bodies")
    kind: FileKind = "receipt" if match.group("code") == RECEIPT else "forwarding"
    return FileName(kind, ImplementingBody(match.group("dest")), uuid.UUID(hex=match.group("id")))


def correlation_of(file: CounterpartFile) -> uuid.UUID:
    """The correlation id a file carries, as a UUID.

    Raises:
        IbFileError: the file is not from this line or its correlation id is not a UUID.
    """
    return files.correlation_of(file, COUNTERPART, IbFileError, "implementing bodies")


def check_pairing(forwarding: CounterpartFile, answer: CounterpartFile) -> None:
    """Check that ``answer`` is the receipt of ``forwarding``.

    Raises:
        IbFileError: the answer does not belong to the forwarding.
    """
    sent, got = parse_name(forwarding.name), parse_name(answer.name)
    if sent.kind != "forwarding" or got.code not in INBOUND:
        raise IbFileError("the files do not go the right way")
    if got.forwarding != forwarding.name:
        raise IbFileError("the receipt answers another file")
    if correlation_of(answer) != correlation_of(forwarding):
        raise IbFileError("the receipt carries another correlation id than the forwarding")

"""The link to the National Tax Agency: file names, the pairing of a receipt with its submission.

Files travel as :class:`~contracts.link.CounterpartFile` objects that the hub's runtime carries over an
encrypted link; nothing here does I/O. Names are deterministic, so that a redelivered submission writes the
same file and a redelivered receipt gives the same message id downstream (``<id>``: 32 lowercase hex
digits, the submission's message id)::

    withholding slips   NTA-377dat01-<id>.txt      federation -> NTA
    receipt             NTA-RC-377dat01-<id>.csv   NTA -> federation

``377dat01.txt`` is the name the Agency's standard gives the first file of slips of kind 377
(``377dat**.txt``, ``**`` counting the files of one kind on a medium); each message is written as one file
of its own, so its number is always ``01`` and the message id beside it tells the files apart. A receipt
carries its submission's correlation id and names it in its control line. Names never hold a number: the id
is a message id, which never looks like one (:func:`contracts.ids.new_id`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final, Literal

from adapters import files
from adapters.nta.errors import NtaFileError
from contracts.link import CounterpartFile

__all__ = [
    "COUNTERPART",
    "INBOUND",
    "RECEIPT",
    "SUBMISSION",
    "FileName",
    "check_pairing",
    "correlation_of",
    "parse_name",
    "receipt_file_name",
    "submission_file_name",
]

COUNTERPART: Final = "nta"
SUBMISSION: Final = "377"
"""The kind code of a withholding-slip file (法定資料の種類 377)."""
RECEIPT: Final = "RC"
"""The kind code of a receipt (``NTA-RC-...``)."""
INBOUND: Final = frozenset({RECEIPT})
"""The kinds of file the Agency sends to the federation: its receipts."""
_STEM: Final = "377dat01"
_NAME: Final = re.compile(r"NTA-(?:(?P<receipt>RC)-)?377dat01-(?P<id>[0-9a-f]{32})\.(?P<ext>txt|csv)")

FileKind = Literal["submission", "receipt"]


@dataclass(frozen=True, slots=True)
class FileName:
    """What a file's name says.

    Attributes:
        kind: a submission of withholding slips, or a receipt.
        file_id: the id in the name: the message the submission was written from.
        submission: for a receipt, the name of the file it answers.
    """

    kind: FileKind
    file_id: uuid.UUID
    submission: str | None = None

    @property
    def code(self) -> str:
        """The kind code the name carries: ``377`` (withholding slips) or ``RC`` (a receipt)."""
        return RECEIPT if self.kind == "receipt" else SUBMISSION


def submission_file_name(message_id: uuid.UUID) -> str:
    """The name of the withholding-slip file written from message ``message_id``."""
    return f"NTA-{_STEM}-{message_id.hex}.txt"


def receipt_file_name(submission: str) -> str:
    """The name of the receipt of ``submission``."""
    stem = submission.removeprefix("NTA-").rsplit(".", 1)[0]
    return f"NTA-RC-{stem}.csv"


def parse_name(name: str) -> FileName:
    """What an NTA file name says.

    Raises:
        NtaFileError: the name is not an NTA file name.
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise NtaFileError("not an NTA file name")
    receipt = match.group("receipt") is not None
    if match.group("ext") != ("csv" if receipt else "txt"):
        raise NtaFileError("the file name has the wrong extension for its kind")
    file_id = uuid.UUID(hex=match.group("id"))
    if receipt:
        return FileName("receipt", file_id, submission_file_name(file_id))
    return FileName("submission", file_id)


def correlation_of(file: CounterpartFile) -> uuid.UUID:
    """The correlation id a file carries, as a UUID.

    Raises:
        NtaFileError: the file is not from the NTA link or its correlation id is not a UUID.
    """
    return files.correlation_of(file, COUNTERPART, NtaFileError, "NTA")


def check_pairing(submission: CounterpartFile, answer: CounterpartFile) -> None:
    """Check that ``answer`` is the receipt of ``submission``.

    Raises:
        NtaFileError: the answer does not belong to the submission.
    """
    sent, got = parse_name(submission.name), parse_name(answer.name)
    if sent.kind != "submission" or got.code not in INBOUND:
        raise NtaFileError("the files do not go the right way")
    if got.submission != submission.name:
        raise NtaFileError("the receipt answers another file")
    if correlation_of(answer) != correlation_of(submission):
        raise NtaFileError("the receipt carries another correlation id than the submission")

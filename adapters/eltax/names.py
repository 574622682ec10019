"""The link to eLTAX: file names, the pairing of a receipt with its submission, the counterpart's side.

Files travel as :class:`~contracts.link.CounterpartFile` objects that the hub's runtime carries over an
encrypted link; nothing here does I/O. Names are deterministic, so that a redelivered message produces the
same files and a redelivered file the same message id downstream (``<id>``: 32 lowercase hex digits;
``<mun>``: the municipality code)::

    payment report   ELTAX-PR331-<mun>-<id>.csv      federation -> eLTAX   (<id>: the submission message)
    notice           ELTAX-TK<code>-<mun>-<id>.dat   either way            (00, 02, 22, ... / 01, 31, 41, 61)
    receipt          ELTAX-RC-<stem>.csv             eLTAX -> federation   (<stem>: the submission's name
                                                                            without ELTAX- and its extension)

A receipt carries its submission's correlation id and names it in its header (``submission``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Final, Literal

from adapters import files
from adapters.eltax.errors import EltaxFileError
from contracts.ids import stable_id
from contracts.link import CounterpartFile
from contracts.messages.eltax import FROM_FEDERATION, FROM_MUNICIPALITIES, TokuchoNoticeCode

__all__ = [
    "COUNTERPART",
    "INBOUND",
    "RECEIPT",
    "FileName",
    "check_pairing",
    "correlation_of",
    "notice_file_name",
    "notice_kind",
    "parse_name",
    "receipt_file_name",
    "reply_id",
    "report_file_name",
]

COUNTERPART: Final = "eltax"
_NAME: Final = re.compile(
    r"ELTAX-(?:(?P<receipt>RC)-)?(?P<kind>PR331|TK(?P<code>[0-9]{2}))-(?P<mun>[0-9]{5,6})-(?P<id>[0-9a-f]{32})"
    r"\.(?P<ext>csv|dat)"
)
_REPLY_NAMESPACE: Final = uuid.UUID("7b0a3c52-3f7e-5d8c-9e1a-656c74617872")

FileKind = Literal["report", "notice", "receipt"]
RECEIPT: Final = "RC"
"""The kind code of a receipt (``ELTAX-RC-...``), whatever file it answers."""


def notice_kind(code: TokuchoNoticeCode) -> str:
    """The kind code of a notice file (``TK01``, ...)."""
    return f"TK{code.value}"


INBOUND: Final = frozenset({RECEIPT, *(notice_kind(code) for code in FROM_MUNICIPALITIES)})
"""The kinds of file eLTAX sends to the federation: receipts and the municipalities' notices."""


@dataclass(frozen=True, slots=True)
class FileName:
    """What a file's name says.

    Attributes:
        kind: a payment report, a notice, or a receipt.
        notice_code: the notice's code (of the receipted notice, for a receipt of one).
        municipality_code: the municipality the file goes to or comes from.
        file_id: the id in the name (the message the file was written from, or a reply's id).
        submission: for a receipt, the name of the file it answers.
    """

    kind: FileKind
    notice_code: TokuchoNoticeCode | None
    municipality_code: str
    file_id: uuid.UUID
    submission: str | None = None

    @property
    def code(self) -> str:
        """The kind code the name carries: ``RC`` (a receipt), ``PR331`` or ``TK<notice code>``."""
        if self.kind == "receipt":
            return RECEIPT
        return "PR331" if self.notice_code is None else notice_kind(self.notice_code)


def report_file_name(municipality_code: str, message_id: uuid.UUID) -> str:
    """The name of the payment report for ``municipality_code`` written from message ``message_id``."""
    return f"ELTAX-PR331-{municipality_code}-{message_id.hex}.csv"


def notice_file_name(code: TokuchoNoticeCode, municipality_code: str, file_id: uuid.UUID) -> str:
    """The name of a notice file."""
    return f"ELTAX-TK{code.value}-{municipality_code}-{file_id.hex}.dat"


def receipt_file_name(submission: str) -> str:
    """The name of the receipt of ``submission``."""
    stem = submission.removeprefix("ELTAX-").rsplit(".", 1)[0]
    return f"ELTAX-RC-{stem}.csv"


def reply_id(source: str, code: TokuchoNoticeCode) -> uuid.UUID:
    """The id of the notice a municipality writes in reply to ``source``: deterministic, for redeliveries."""
    return stable_id(_REPLY_NAMESPACE, f"{source}|{code.value}")


def parse_name(name: str) -> FileName:
    """What an eLTAX file name says.

    Raises:
        EltaxFileError: the name is not an eLTAX file name.
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise EltaxFileError("not an eLTAX file name")
    code = match.group("code")
    notice = TokuchoNoticeCode(code) if code in {c.value for c in TokuchoNoticeCode} else None
    if code is not None and notice is None:
        raise EltaxFileError("the file name carries an unknown notice code")
    expected_ext = "csv" if match.group("receipt") or notice is None else "dat"
    if match.group("ext") != expected_ext:
        raise EltaxFileError("the file name has the wrong extension for its kind")
    file_id = uuid.UUID(hex=match.group("id"))
    if match.group("receipt"):
        ext = "dat" if notice is not None else "csv"
        submission = f"ELTAX-{match.group('kind')}-{match.group('mun')}-{match.group('id')}.{ext}"
        return FileName("receipt", notice, match.group("mun"), file_id, submission)
    return FileName("notice" if notice else "report", notice, match.group("mun"), file_id)


def correlation_of(file: CounterpartFile) -> uuid.UUID:
    """The correlation id a file carries, as a UUID.

    Raises:
        EltaxFileError: the file is not from the eLTAX link or its correlation id is not a UUID.
    """
    return files.correlation_of(file, COUNTERPART, EltaxFileError, "eLTAX")


def outbound(name: FileName) -> bool:
    """Whether a file of this name goes from the federation to eLTAX."""
    return name.kind == "report" or (name.kind == "notice" and name.notice_code in FROM_FEDERATION)


def inbound(name: FileName) -> bool:
    """Whether a file of this name comes from eLTAX to the federation."""
    return name.code in INBOUND


def check_pairing(submission: CounterpartFile, answer: CounterpartFile) -> None:
    """Check that ``answer`` belongs to ``submission``: its receipt, or a municipality's reply to it.

    Raises:
        EltaxFileError: the answer does not belong to the submission.
    """
    sent, got = parse_name(submission.name), parse_name(answer.name)
    if not outbound(sent) or not inbound(got):
        raise EltaxFileError("the files do not go the right way")
    if got.kind == "receipt" and got.submission != submission.name:
        raise EltaxFileError("the receipt answers another file")
    if got.municipality_code != sent.municipality_code:
        raise EltaxFileError("the answer comes from another municipality")
    if correlation_of(answer) != correlation_of(submission):
        raise EltaxFileError("the answer carries another correlation id than the submission")

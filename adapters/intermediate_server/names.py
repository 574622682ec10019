"""The link to the intermediate server: file naming, pairing answers with requests, the counterpart's side.

Files travel as :class:`~contracts.link.CounterpartFile` objects that the hub's runtime carries over an
encrypted link; nothing here does I/O. A request file is named after the hub message it was written from
(and, for queries, the provider asked), its answers after the request, so that every name is deterministic
and a redelivered input gives the same file. Ids are written as 28 lowercase letters (no digit can form a
run that passes for an Individual Number in a name that appears in headers and logs)::

    IS-FGQ1-<id>.csv           符号取得要求         hub -> network
    IS-FGR1-<id>.csv           符号取得結果         network -> hub, same <id>
    IS-SKQ1-<id>-<org>.csv     情報照会要求         hub -> network, one file per provider <org>
    IS-SKA1-<id>-<org>.csv     情報照会受付結果     network -> hub at once (errors found at reception)
    IS-SKR1-<id>-<org>.csv     情報照会結果         network -> hub later (late answers)
    IS-DBQ1-<id>.csv           副本登録要求         hub -> network
    IS-DBR1-<id>.csv           副本登録結果         network -> hub
    IS-TKN1-<id>.csv           情報提供通知         network -> hub, on its own (<id> is the network's)
"""

from __future__ import annotations

import re
import uuid
from typing import Final, NamedTuple

from adapters import files
from adapters.intermediate_server.errors import IsFileError
from adapters.intermediate_server.wire import id_of_text, id_text
from contracts.link import CounterpartFile

__all__ = [
    "ANSWERS",
    "COUNTERPART",
    "INBOUND",
    "FileName",
    "check_pairing",
    "correlation_of",
    "file_name",
    "parse_name",
]

COUNTERPART: Final = "intermediate_server"
ANSWERS: Final = {"FGQ1": ("FGR1",), "SKQ1": ("SKA1", "SKR1"), "DBQ1": ("DBR1",)}
"""The answer kinds of each request kind."""
_KINDS: Final = ("FGQ1", "FGR1", "SKQ1", "SKA1", "SKR1", "DBQ1", "DBR1", "TKN1")
_WITH_PROVIDER: Final = ("SKQ1", "SKA1", "SKR1")
_NAME: Final = re.compile(r"IS-([A-Z]{3}1)-([a-z]{28})(?:-([0-9A-Z]{6}))?\.csv")
INBOUND: Final = frozenset(_KINDS) - ANSWERS.keys()
"""The kinds of file the network sends to the federation: every answer kind, and the provision notice."""


class FileName(NamedTuple):
    """What an intermediate server file name says.

    Attributes:
        kind: the file's kind code (``FGQ1``, ``FGR1``, ...).
        request_id: the request's id (the network's own, for a provision notice).
        provider: the provider asked, for query files; ``None`` for the others.
    """

    kind: str
    request_id: uuid.UUID
    provider: str | None


def file_name(kind: str, request_id: uuid.UUID, provider: str | None = None) -> str:
    """The name of a file of ``kind`` for ``request_id`` (and ``provider`` for query files)."""
    if kind not in _KINDS or (kind in _WITH_PROVIDER) != (provider is not None):
        raise ValueError("a query file names its provider; no other file does")
    return f"IS-{kind}-{id_text(request_id)}{'-' + provider if provider else ''}.csv"


def parse_name(name: str) -> FileName:
    """The kind, request id and provider a file name carries.

    Raises:
        IsFileError: the name is not an intermediate server file name.
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    request_id = None if match is None else id_of_text(match.group(2))
    if match is None or request_id is None or match.group(1) not in _KINDS:
        raise IsFileError("not an intermediate server file name")
    kind, provider = match.group(1), match.group(3)
    if (kind in _WITH_PROVIDER) != (provider is not None):
        raise IsFileError("a query file names its provider; no other file does")
    return FileName(kind, request_id, provider)


def correlation_of(file: CounterpartFile) -> uuid.UUID:
    """The correlation id a file carries.

    Raises:
        IsFileError: the file is not from the intermediate server link, or its correlation id is no UUID.
    """
    return files.correlation_of(file, COUNTERPART, IsFileError, "intermediate server")


def check_pairing(request: CounterpartFile, answer: CounterpartFile) -> None:
    """Check that ``answer`` answers ``request``: an answer kind, same id, provider and correlation.

    Raises:
        IsFileError: the answer does not belong to the request.
    """
    kind, request_id, provider = parse_name(request.name)
    answer_kind, answer_id, answer_provider = parse_name(answer.name)
    if answer_kind not in ANSWERS.get(kind, ()) or (answer_id, answer_provider) != (request_id, provider):
        raise IsFileError("the answer file answers another request")
    if correlation_of(answer) != correlation_of(request):
        raise IsFileError("the answer file carries another correlation id than its request")

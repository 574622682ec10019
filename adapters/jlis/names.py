"""The link to J-LIS: file naming, the pairing of a result with its request, and the counterpart's side.

Files travel as :class:`~contracts.link.CounterpartFile` objects that the hub's runtime carries over an
encrypted link; nothing here does I/O. A request file is named after the inquiry message it was written
from, and its result after the request, so that both are deterministic: a redelivered inquiry gives the same
request file, a redelivered result the same result message id downstream.

Names (``<id>`` is the inquiry's or query's message id as 32 lowercase hex digits)::

    survival/change inquiry   request  JLIS-SVQ1-<id>.dat     hub -> J-LIS
                              result   JLIS-SVR1-<id>.dat     J-LIS -> hub, same <id>, same correlation id
    number acquisition        request  JLIS-NAQ1-<id>.dat     hub -> J-LIS
                              result   JLIS-NAR1-<id>.dat     J-LIS -> hub

The result file's header repeats ``<id>`` (field ``request_id``); the adapter checks that both agree. A
result pairs only with a request of the same flow.
"""

from __future__ import annotations

import re
import uuid
from typing import Final, Literal, NamedTuple

from adapters import files
from adapters.jlis.errors import JlisFileError
from contracts.link import CounterpartFile

__all__ = [
    "COUNTERPART",
    "INBOUND",
    "FileName",
    "check_pairing",
    "correlation_of",
    "flow_of",
    "parse_name",
    "request_file_name",
    "request_id_of",
    "result_file_name",
]

COUNTERPART: Final = "jlis"
_SUFFIX: Final = ".dat"
_NAME: Final = re.compile(r"JLIS-(SVQ1|SVR1|NAQ1|NAR1)-([0-9a-f]{32})\.dat")

FileKind = Literal["request", "result"]
FileFlow = Literal["survival", "acquisition"]
_FORMATS: Final[dict[tuple[FileFlow, FileKind], str]] = {
    ("survival", "request"): "SVQ1",
    ("survival", "result"): "SVR1",
    ("acquisition", "request"): "NAQ1",
    ("acquisition", "result"): "NAR1",
}
_BY_FORMAT: Final = {fmt: key for key, fmt in _FORMATS.items()}
INBOUND: Final = frozenset(fmt for (_, kind), fmt in _FORMATS.items() if kind == "result")
"""The kinds of file J-LIS sends to the federation: the results (``SVR1``, ``NAR1``)."""


class FileName(NamedTuple):
    """What a J-LIS file name says.

    Attributes:
        code: the file's kind code (``SVQ1``, ``SVR1``, ``NAQ1``, ``NAR1``).
        flow: the exchange it belongs to.
        kind: request or result.
        request_id: the inquiry's (or query's) message id.
    """

    code: str
    flow: FileFlow
    kind: FileKind
    request_id: uuid.UUID


def request_file_name(request_id: uuid.UUID, flow: FileFlow = "survival") -> str:
    """The name of the request file written from the inquiry (or query) with message id ``request_id``."""
    return f"JLIS-{_FORMATS[(flow, 'request')]}-{request_id.hex}{_SUFFIX}"


def result_file_name(request_id: uuid.UUID, flow: FileFlow = "survival") -> str:
    """The name of the result file that answers the request written for ``request_id``."""
    return f"JLIS-{_FORMATS[(flow, 'result')]}-{request_id.hex}{_SUFFIX}"


def parse_name(name: str, kind: FileKind | None = None) -> FileName:
    """What a J-LIS file name says.

    Args:
        name: the file name.
        kind: if given, the name must be of a file of that kind (a result, for a file from J-LIS).

    Raises:
        JlisFileError: the name is not a J-LIS file name (of ``kind``).
    """
    match = _NAME.fullmatch(name) if isinstance(name, str) else None
    if match is None or (kind is not None and _BY_FORMAT[match.group(1)][1] != kind):
        raise JlisFileError(f"not a J-LIS {kind} file name" if kind else "not a J-LIS file name")
    flow, found = _BY_FORMAT[match.group(1)]
    return FileName(match.group(1), flow, found, uuid.UUID(hex=match.group(2)))


def request_id_of(name: str, kind: FileKind) -> uuid.UUID:
    """The inquiry (or query) message id a file name carries.

    Raises:
        JlisFileError: the name is not a J-LIS file name of that kind.
    """
    return parse_name(name, kind).request_id


def flow_of(name: str) -> FileFlow:
    """Which exchange a J-LIS file belongs to: ``survival`` or ``acquisition``.

    Raises:
        JlisFileError: the name is not a J-LIS file name.
    """
    return parse_name(name).flow


def correlation_of(file: CounterpartFile) -> uuid.UUID:
    """The correlation id a file carries, as a UUID.

    Raises:
        JlisFileError: the file is not from J-LIS or its correlation id is not a UUID.
    """
    return files.correlation_of(file, COUNTERPART, JlisFileError, "J-LIS")


def check_pairing(request: CounterpartFile, result: CounterpartFile) -> None:
    """Check that ``result`` answers ``request``: same request id in the names, same correlation id.

    Raises:
        JlisFileError: the result does not belong to the request.
    """
    request_id = request_id_of(request.name, "request")
    if request_id_of(result.name, "result") != request_id or flow_of(result.name) != flow_of(request.name):
        raise JlisFileError("the result file answers another request")
    if correlation_of(result) != correlation_of(request):
        raise JlisFileError("the result file carries another correlation id than its request")

"""The frame every J-LIS batch file shares: header, data records, trailer with count and checksum.

A file is a sequence of fixed-length records, each followed by CR LF: one header (record kind ``1``), one
or more data records (``2``) and one trailer (``9``) holding the data-record count and the SHA-256 of every
byte before the trailer. The layouts of the three records differ per file kind (:mod:`adapters.jlis.wire`
for the survival/change inquiry, :mod:`adapters.jlis.wire_acquisition` for number acquisition); this
module writes and checks the frame around them, driven by their :class:`RecordCodec` s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from operator import attrgetter
from typing import Any, Final, TypeVar

from adapters.jlis._fixedwidth import RecordCodec
from adapters.jlis.errors import JlisWireError

__all__ = ["TERMINATOR", "Codecs", "parse_frame", "write_frame"]

TERMINATOR: Final = b"\r\n"
HEADER, DATA, TRAILER = b"1"[0], b"2"[0], b"9"[0]
Codecs = tuple[RecordCodec, RecordCodec, RecordCodec]
"""The codecs of a file kind's header, data and trailer records."""
H = TypeVar("H")
R = TypeVar("R")


def write_frame(codecs: Codecs, header: Mapping[str, Any], records: Sequence[Any]) -> bytes:
    """The bytes of a file: ``header`` values, then each record (read by attribute), then the trailer.

    Raises:
        JlisWireError: there is no record, or a value does not fit its field (record and field named).
    """
    if not records:
        raise JlisWireError("a file holds at least one data record", record_no=1, field="record_count")
    head, data, trail = codecs
    parts = [head.encode_mapping(header, 1), TERMINATOR]
    values_of = attrgetter(*data.value_names)
    for record_no, record in enumerate(records, start=2):
        parts.append(data.encode(values_of(record), record_no))
        parts.append(TERMINATOR)
    body = b"".join(parts)
    checksum = hashlib.sha256(body).hexdigest()
    trailer = trail.encode_mapping({"record_count": len(records), "checksum": checksum}, len(records) + 2)
    return body + trailer + TERMINATOR


def parse_frame(
    content: bytes,
    codecs: Codecs,
    *,
    check_header: Callable[[dict[str, Any]], H],
    build: Callable[[dict[str, Any], int], R],
    key: Callable[[dict[str, Any]], Hashable],
) -> tuple[H, dict[str, Any], list[R]]:
    """Check the frame, decode and check every record, then the counts and the checksum.

    Record-level problems are reported first (they say where), file-level ones (counts, checksum) last.

    Args:
        content: the file's bytes.
        codecs: the file kind's codecs.
        check_header: turns the header's values into the header object (raising on a bad header).
        build: turns a data record's values into the record object (raising on a bad record).
        key: what must not repeat among the data records (e.g. ``record_seq``).

    Raises:
        JlisWireError: the file breaks the layout (the record and field are named, never the value).
    """
    if not isinstance(content, bytes):
        raise JlisWireError("content is not bytes")
    head, data, trail = codecs
    size = head.layout.length + len(TERMINATOR)
    if len(content) % size:
        raise JlisWireError("length is not a whole number of records: truncated or padded")
    count = len(content) // size
    if count < 3:
        raise JlisWireError("a file needs a header, at least one data record and a trailer")
    for record_no in range(1, count + 1):
        end = record_no * size
        if content[end - 2 : end] != TERMINATOR:
            raise JlisWireError("does not end with CR LF", record_no=record_no, field="terminator")
        kind = content[end - size]
        expected = HEADER if record_no == 1 else TRAILER if record_no == count else DATA
        if kind != expected:
            raise JlisWireError("unexpected record kind here", record_no=record_no, field="record_kind")
    header_values = head.decode(content, 0, 1)
    header = check_header(header_values)
    records, seen = [], set()
    for record_no in range(2, count):
        values = data.decode(content, (record_no - 1) * size, record_no)
        seen_key = key(values)
        if seen_key in seen:
            raise JlisWireError("is repeated", record_no=record_no, field="record_seq")
        seen.add(seen_key)
        records.append(build(values, record_no))
    trailer = trail.decode(content, (count - 1) * size, count)
    if trailer["record_count"] != count - 2:
        raise JlisWireError("does not match the data records", record_no=count, field="record_count")
    if header_values["record_count"] != count - 2:
        raise JlisWireError("does not match the data records", record_no=1, field="record_count")
    if hashlib.sha256(content[: (count - 1) * size]).hexdigest() != trailer["checksum"]:
        raise JlisWireError("does not match the file", record_no=count, field="checksum")
    return header, header_values, records

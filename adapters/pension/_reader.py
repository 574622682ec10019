"""Reading exchange files in two bounded-memory passes, so that a file is refused whole or taken whole.

Pass one (:func:`check_integrity`) reads raw lines: it computes the SHA-256, refuses any line with the
form of an Individual Number (whatever else is wrong, that is what the report must say first), and
notes the first undecodable or overlong line. Pass two (:func:`iter_rows`) parses the CSV row by row,
yields typed rows and, at the end, checks the record count and, again, the SHA-256, so that a file
changed between the passes cannot slip through. Neither pass holds more than one line in memory.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator, Sequence
from typing import Any, BinaryIO, Final, Protocol, TypeVar

from adapters.pension.errors import IndividualNumberInFile, MalformedPensionFile, Reason
from contracts.redaction import holds_number

__all__ = ["MAX_LINE_BYTES", "check_integrity", "iter_rows", "run_to_end"]

MAX_LINE_BYTES: Final = 64 * 1024
_BOM: Final = b"\xef\xbb\xbf"
_TAIL: Final = 11 * 24  # a number split over two reads is found by keeping this much of the first


class _Sequenced(Protocol):
    @property
    def record_seq(self) -> int: ...


R = TypeVar("R", bound=_Sequenced)


def _mismatch(expected: str) -> MalformedPensionFile:
    return MalformedPensionFile(
        f"the SHA-256 of the data file differs from its manifest's (expected {expected[:12]}...)",
        reason=Reason.CHECKSUM_MISMATCH,
    )


def check_integrity(stream: BinaryIO, *, expected_sha256: str, allow_numbers: bool = False) -> None:
    """Pass one: checksum, number policy, encoding, byte-order mark and line length.

    Args:
        stream: the data file, at its start.
        expected_sha256: the manifest's checksum.
        allow_numbers: skip the number scan, for the one kind whose rows carry numbers in designated
            columns (dependants' declarations); its row parser scans every other column itself.

    Raises:
        IndividualNumberInFile: any line holds a value with the form of an Individual Number (first).
        MalformedPensionFile: the checksum differs from the manifest's (second), or the first line that
            is not UTF-8, starts with a byte-order mark, or is longer than :data:`MAX_LINE_BYTES`.
    """
    digest = hashlib.sha256()
    line, tail, continued = 0, "", False
    number_line: int | None = None
    problem: MalformedPensionFile | None = None
    while chunk := stream.readline(MAX_LINE_BYTES + 1):
        digest.update(chunk)
        if not continued:
            line += 1
        complete = chunk.endswith(b"\n")
        text = chunk.decode("utf-8", errors="replace")
        if not allow_numbers and number_line is None and holds_number(tail + text):
            number_line = line
        tail = "" if complete else text[-_TAIL:]
        if problem is None:
            problem = _line_problem(chunk, line, complete=complete, continued=continued)
        continued = not complete
    if number_line is not None:
        raise IndividualNumberInFile(line=number_line)
    if digest.hexdigest() != expected_sha256:
        raise _mismatch(expected_sha256)
    if problem is not None:
        raise problem


def _line_problem(chunk: bytes, line: int, *, complete: bool, continued: bool) -> MalformedPensionFile | None:
    if continued or (len(chunk) > MAX_LINE_BYTES and not complete):
        return MalformedPensionFile(
            f"longer than {MAX_LINE_BYTES} bytes", reason=Reason.LINE_TOO_LONG, line=line
        )
    if line == 1 and chunk.startswith(_BOM):
        return MalformedPensionFile("starts with a byte-order mark", reason=Reason.BYTE_ORDER_MARK, line=1)
    try:
        chunk.decode("utf-8")
    except UnicodeDecodeError:
        return MalformedPensionFile("not valid UTF-8", reason=Reason.NOT_UTF8, line=line)
    return None


class _HashingReader(io.RawIOBase):
    """A raw stream that hashes everything read through it."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)


def _lines(text: io.TextIOBase) -> Iterator[str]:
    """Physical lines, refusing any longer than the limit (counted in characters, a lower bound)."""
    number = 0
    while line := text.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise MalformedPensionFile(
                f"longer than {MAX_LINE_BYTES} bytes", reason=Reason.LINE_TOO_LONG, line=number
            )
        yield line


def iter_rows(
    stream: BinaryIO,
    *,
    columns: Sequence[str],
    parse: Callable[[Sequence[str], int], R],
    expected_count: int,
    expected_sha256: str,
) -> Iterator[R]:
    """Pass two: the data rows, typed by ``parse``, after the header; checks order, count and checksum.

    The checks at the end run only when the iterator is exhausted: a caller that must not act on part of
    a file runs this pass to the end once before acting (the exchange directory does).

    Raises:
        MalformedPensionFile: the header, a row, the order of ``record_seq``, the count or the checksum
            is wrong.
        IndividualNumberInFile: a field holds a value with the form of an Individual Number.
    """
    raw = _HashingReader(stream)
    text = io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8", errors="strict", newline="")
    reader = csv.reader(_lines(text), strict=True)
    count, last_seq = 0, -1
    try:
        header = next(reader, None)
        if header is None:
            raise MalformedPensionFile("the file is empty (no header row)", reason=Reason.BAD_HEADER, line=1)
        _check_header(header, columns)
        for fields in reader:
            line = reader.line_num
            if not fields:
                raise MalformedPensionFile("empty line", reason=Reason.EMPTY_LINE, line=line)
            row = parse(fields, line)
            if row.record_seq <= last_seq:
                raise MalformedPensionFile(
                    "record_seq does not increase",
                    reason=Reason.RECORD_SEQ_ORDER,
                    line=line,
                    column="record_seq",
                )
            last_seq = row.record_seq
            count += 1
            yield row
    except csv.Error:
        raise MalformedPensionFile(
            "not valid CSV (quoting)", reason=Reason.BAD_CSV, line=reader.line_num or 1
        ) from None
    except UnicodeDecodeError:
        raise MalformedPensionFile("not valid UTF-8", reason=Reason.NOT_UTF8) from None
    if count == 0:
        raise MalformedPensionFile("no data rows", reason=Reason.NO_RECORDS)
    if count != expected_count:
        raise MalformedPensionFile(
            f"the manifest says {expected_count} records; the file has {count}",
            reason=Reason.RECORD_COUNT_MISMATCH,
        )
    if raw.digest.hexdigest() != expected_sha256:
        raise _mismatch(expected_sha256)


def _check_header(header: Sequence[str], columns: Sequence[str]) -> None:
    if list(header) == list(columns):
        return
    missing = [c for c in columns if c not in header]
    unexpected = sum(1 for h in header if h not in columns)
    detail = [f"missing: {', '.join(missing)}"] if missing else []
    if unexpected:
        detail.append(f"{unexpected} unexpected column(s)")
    if not detail:
        detail.append("the columns are out of order")
    raise MalformedPensionFile(
        f"the header must be {','.join(columns)} ({'; '.join(detail)})", reason=Reason.BAD_HEADER, line=1
    )


def run_to_end(rows: Iterator[object]) -> None:
    """Consume a row iterator to the end, so that its final checks run (validation without acting)."""
    for _ in rows:
        pass

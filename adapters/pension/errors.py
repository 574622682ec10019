"""Errors of the pension adapter, each a subclass of the one hierarchy in :mod:`contracts.errors`.

A file problem says *where* (line and column) and *what to do*, never the value at fault: a file that
breaks the number policy may hold an Individual Number, and the value at fault may be one.

::

    RenkeiError
    ├── PensionFileProblem (abstract: reason, line, column, action)
    │   ├── MalformedPensionFile        also a WireFormatError: the file breaks its documented format
    │   └── IndividualNumberInFile      also a PolicyRefused: a 12-digit value with a valid check digit
    ├── OutcomeFileConflict             PermanentError: a complete outcome file exists with other content
    ├── AcknowledgeRefused              PermanentError: the acknowledged source is not the one polled
    ├── DirectoryLinkOnly               ConfigurationError: the pension link is a directory, not the broker
    └── PensionDirectoryUnavailable     CounterpartUnavailable (transient): the exchange directory failed
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from contracts.errors import (
    ConfigurationError,
    CounterpartUnavailable,
    PermanentError,
    PolicyRefused,
    RenkeiError,
    WireFormatError,
)

__all__ = [
    "TRANSIENT_ERRORS",
    "AcknowledgeRefused",
    "DirectoryLinkOnly",
    "IndividualNumberInFile",
    "MalformedPensionFile",
    "OutcomeFileConflict",
    "PensionDirectoryUnavailable",
    "PensionFileProblem",
    "Reason",
]


class Reason(StrEnum):
    """Why a file was refused; the ``reason`` field of a rejection report."""

    NOT_REGULAR_FILE = "not_regular_file"
    UNSUPPORTED_NAME = "unsupported_name"
    ORPHAN_MANIFEST = "orphan_manifest"
    MANIFEST_INVALID = "manifest_invalid"
    MANIFEST_MISMATCH = "manifest_mismatch"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    RECORD_COUNT_MISMATCH = "record_count_mismatch"
    NOT_UTF8 = "not_utf8"
    BYTE_ORDER_MARK = "byte_order_mark"
    LINE_TOO_LONG = "line_too_long"
    BAD_CSV = "bad_csv"
    BAD_HEADER = "bad_header"
    EMPTY_LINE = "empty_line"
    FIELD_COUNT = "field_count"
    BAD_FIELD = "bad_field"
    NON_ASCII = "non_ascii"
    RECORD_SEQ_ORDER = "record_seq_order"
    NO_RECORDS = "no_records"
    INDIVIDUAL_NUMBER = "individual_number"
    NAME_ALREADY_USED = "name_already_used"
    ALREADY_PROCESSED = "already_processed"
    BATCH_ID_REUSED = "batch_id_reused"
    BASIC_INFO_INCOMPLETE = "basic_info_incomplete"
    INVALID_INDIVIDUAL_NUMBER = "invalid_individual_number"
    ACTOR_NOT_PERMITTED = "actor_not_permitted"
    PERSON_RUN_BROKEN = "person_run_broken"
    PERSON_RUN_TOO_LONG = "person_run_too_long"

    @property
    def code(self) -> str:
        """The error code a file refused for this reason is dead-lettered and reported under."""
        return f"pension_{self.value}"


_RESEND = (
    "Fix the producing job, then write the corrected file and its manifest again "
    "(temp name, rename, manifest last)."
)
ACTIONS: Final[dict[Reason, str]] = {
    Reason.NOT_REGULAR_FILE: "Drop regular files only (no directories, links or devices). " + _RESEND,
    Reason.UNSUPPORTED_NAME: "Name data files like survival_inquiry.<batch_id>.csv "
    "(letters, digits, '.', '_', '-'; ending in .csv). " + _RESEND,
    Reason.ORPHAN_MANIFEST: "A manifest arrived without its data file. Write the data file first, "
    "then its manifest.",
    Reason.MANIFEST_INVALID: "The manifest must be the JSON object documented in docs/formats/pension.md. "
    + _RESEND,
    Reason.MANIFEST_MISMATCH: "The manifest must name this data file and be of a request kind of "
    "docs/formats/pension.md (a file named dependants_declaration.* must be of kind dependants_declaration). "
    + _RESEND,
    Reason.CHECKSUM_MISMATCH: "The file is incomplete (truncated) or was changed after its manifest was "
    "written. Write it again, and its manifest only after the data file is complete.",
    Reason.RECORD_COUNT_MISMATCH: "Set record_count to the number of data rows (header excluded). " + _RESEND,
    Reason.NOT_UTF8: "Write the file in UTF-8. " + _RESEND,
    Reason.BYTE_ORDER_MARK: "Write UTF-8 without a byte-order mark. " + _RESEND,
    Reason.LINE_TOO_LONG: "Lines end with LF or CRLF and stay short; check the line endings. " + _RESEND,
    Reason.BAD_CSV: "Quote fields as RFC 4180 does (double quotes, doubled inside). " + _RESEND,
    Reason.BAD_HEADER: "The first row must be exactly the documented column names, in order. " + _RESEND,
    Reason.EMPTY_LINE: "Remove empty lines. " + _RESEND,
    Reason.FIELD_COUNT: "Every row has exactly the documented columns. " + _RESEND,
    Reason.BAD_FIELD: "Correct the named field as docs/formats/pension.md describes. " + _RESEND,
    Reason.NON_ASCII: "Write usage numbers in half-width ASCII (no full-width digits or letters). " + _RESEND,
    Reason.RECORD_SEQ_ORDER: "Number rows with record_seq strictly increasing, without repeats. " + _RESEND,
    Reason.NO_RECORDS: "A request needs at least one person. Drop no file when there is nobody to check.",
    Reason.INDIVIDUAL_NUMBER: "POLICY: these files never carry an Individual Number (個人番号). Remove the "
    "value, report the incident to the information security officer, and send the file again. The refused "
    "file is kept owner-only in rejected/ for the investigation; delete it afterwards.",
    Reason.NAME_ALREADY_USED: "This name was used by an earlier, different file. Use a new name per batch.",
    Reason.ALREADY_PROCESSED: "Nothing to do: this exact file was already processed. Do not drop it again.",
    Reason.BATCH_ID_REUSED: "This batch id belongs to an earlier, different file. Use a new batch id.",
    Reason.BASIC_INFO_INCOMPLETE: "J-LIS answers a number acquisition query only with all four of 氏名, "
    "生年月日, 性別 and 住所, or the three without 性別: sex may be empty, name, birth_date and address may "
    "not. Complete the row from the entitlement's records. " + _RESEND,
    Reason.INVALID_INDIVIDUAL_NUMBER: "A dependant's 個人番号 is 12 half-width digits whose last is the "
    "check digit; check the row against the declaration form. The refused file was deleted (it held "
    "numbers). " + _RESEND,
    Reason.ACTOR_NOT_PERMITTED: "The manifest's actor is not in the actor list, or may not do this "
    "file's 事務: "
    "(2) dependants' declarations, (6) and (9) are done by a 構成組合 only (actor: its code); (4), (5) and "
    "(7) by the federation only (actor: federation). Set actor to the body on whose behalf the file is sent "
    "(see docs/legal-basis.md). " + _RESEND,
    Reason.PERSON_RUN_BROKEN: "Write each person's rows one after another, in the order they must apply "
    "(sort the changes by person, keeping each person's own order); the named line continues a person "
    "whose rows ended earlier. " + _RESEND,
    Reason.PERSON_RUN_TOO_LONG: "One person's rows travel in one message, which carries at most the "
    "number the report names: send that person's further changes in a later file. " + _RESEND,
}


class PensionFileProblem(RenkeiError):
    """A pension exchange file refused as a whole.

    Attributes:
        reason: why, as a :class:`Reason`.
        line: 1-based physical line of the data file (the header is line 1), if one line is at fault.
        column: the column at fault, if one is.
        action: what the producer should do about it.
    """

    def __init__(
        self, problem: str, *, reason: Reason, line: int | None = None, column: str | None = None
    ) -> None:
        where = "" if line is None else f"line {line}" + ("" if column is None else f", column {column}")
        super().__init__(f"{where}: {problem}" if where else problem, code=reason.code)
        self.problem = problem
        self.reason = reason
        self.line = line
        self.column = column
        self.action = ACTIONS[reason]


class MalformedPensionFile(PensionFileProblem, WireFormatError):
    """The file breaks its documented format (docs/formats/pension.md)."""


class IndividualNumberInFile(PensionFileProblem, PolicyRefused):
    """A value with the form of an Individual Number (12 digits, valid check digit) is in the file."""

    def __init__(self, *, line: int | None = None, column: str | None = None) -> None:
        super().__init__(
            "a 12-digit value with a valid 個人番号 check digit: the file is refused whole",
            reason=Reason.INDIVIDUAL_NUMBER,
            line=line,
            column=column,
        )


class OutcomeFileConflict(PermanentError):
    """A complete outcome file for this chunk already exists and its content differs.

    A redelivered or replayed outcome message produces identical bytes; different bytes mean a second,
    different answer for the same chunk, which the pension system may already have read. An operator
    decides.
    """

    code = "pension_outcome_conflict"


class AcknowledgeRefused(PermanentError):
    """The acknowledged source is not the one last polled, or its file changed since it was polled."""

    code = "pension_acknowledge_refused"


class DirectoryLinkOnly(ConfigurationError):
    """The pension system's link is its exchange directory; it never sends files over the broker."""

    code = "pension_directory_link_only"


class PensionDirectoryUnavailable(CounterpartUnavailable):
    """The exchange directory could not be read or written (disk full, unmounted, permissions)."""

    code = "pension_directory_unavailable"


TRANSIENT_ERRORS: Final = (PensionDirectoryUnavailable,)
"""The errors of this adapter worth retrying later."""

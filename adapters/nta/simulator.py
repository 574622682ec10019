"""The simulated National Tax Agency: e-Tax receiving withholding-slip files.

:class:`NtaSimulator` implements :class:`contracts.link.Simulator`. For every file the federation submits it
returns one receipt (受信通知, :mod:`adapters.nta.receipt`), named after the submission and carrying its
correlation id. It reads the file with the adapter's own layout (:func:`~adapters.nta.slip.read_slips`) and
takes or refuses the file as a whole:

* a slip that breaks the layout: refused, each problem its own error (line, item, the problem's code);
* a slip without the recipient's number (item 53): refused, :data:`NUMBER_MISSING`;
* every ``reject_every``-th file received (counting each file once, however often it is redelivered):
  refused, :data:`PAYER_UNKNOWN` on the payer's 法人番号, so that the demo shows the error path;
* anything else: accepted.

It keeps no data of any person, only counters and the order the files came in; the answers are
deterministic, so a redelivered file gets the same receipt (dated by the injected clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Final

from adapters.nta.errors import NtaFileError
from adapters.nta.names import COUNTERPART, correlation_of, parse_name, receipt_file_name
from adapters.nta.receipt import MAX_ERRORS, ErrorEntry, ReceiptFile, write_receipt
from adapters.nta.slip import read_slips
from adapters.records.fields import ProblemKind
from contracts.link import CounterpartFile
from contracts.messages.eltax import ReceiptStatus

__all__ = ["DEFAULT_REJECT_EVERY", "NUMBER_MISSING", "PAYER_UNKNOWN", "NtaSimulator"]

NUMBER_MISSING: Final = "E110"
"""A slip without the recipient's Individual Number (支払を受ける者の個人番号の記載なし)."""
PAYER_UNKNOWN: Final = "E120"
"""The payer's 法人番号 is not one the Agency knows for this payer (提出義務者の法人番号の誤り)."""
DEFAULT_REJECT_EVERY: Final = 7
"""By default every seventh file is refused, so that a demo of a few chunks shows the error path."""


class NtaSimulator:
    """A simulated National Tax Agency.

    Args:
        clock: the day a file is received.
        reject_every: refuse every n-th distinct file (``None``: refuse none but the broken ones).

    Attributes:
        files_received: files handled, redeliveries included.
        slips: slips accepted and rejected so far (``accepted``, ``rejected``), by the file's status.
    """

    def __init__(
        self, *, clock: Callable[[], date] = date.today, reject_every: int | None = DEFAULT_REJECT_EVERY
    ) -> None:
        if reject_every is not None and reject_every < 1:
            raise ValueError("reject_every is a positive number of files, or None")
        self.name: str = COUNTERPART
        self._clock = clock
        self._reject_every = reject_every
        self._order: dict[str, int] = {}
        self.files_received = 0
        self.slips: Counter[str] = Counter()

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one submitted file with its receipt.

        Raises:
            NtaFileError: the file is not one the federation submits to the Agency.
        """
        name = parse_name(file.name)
        correlation_of(file)
        if name.kind != "submission":
            raise NtaFileError("the Agency does not take this file from the federation")
        self.files_received += 1
        ordinal = self._order.setdefault(file.name, len(self._order) + 1)
        receipt = self._receipt(file, ordinal)
        self.slips[receipt.status.value] += receipt.slips
        answer = CounterpartFile(
            COUNTERPART, receipt_file_name(file.name), write_receipt(receipt), file.correlation_id
        )
        return [answer]

    def _receipt(self, file: CounterpartFile, ordinal: int) -> ReceiptFile:
        reading = read_slips(file.content)
        errors: list[ErrorEntry] = [
            (None, None if p.field is None else p.field.name, p.kind.value) for p in reading.problems
        ]
        for row in reading.rows:
            errors += [
                (row.line, None if p.field is None else p.field.name, p.kind.value) for p in row.problems
            ]
            if row.record is not None and row.record.individual_number is None:
                errors.append((row.line, "individual_number", NUMBER_MISSING))
        slips = len(reading.rows)
        if slips > MAX_ERRORS:
            slips, errors = 0, [(None, None, ProblemKind.STRUCTURE.value)]
        if not errors and self._reject_every is not None and ordinal % self._reject_every == 0:
            errors.append((None, "payer_corporate_number", PAYER_UNKNOWN))
        tax_year = reading.tax_year if reading.tax_year is not None else self._clock().year - 1
        return ReceiptFile(
            submission=file.name,
            tax_year=tax_year,
            received_on=self._clock(),
            status=ReceiptStatus.REJECTED if errors else ReceiptStatus.ACCEPTED,
            slips=slips,
            errors=tuple(errors[:MAX_ERRORS]),
        )

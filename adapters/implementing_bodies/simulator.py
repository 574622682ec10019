"""The simulated other implementing bodies: each receives forwarding files and answers a receipt.

:class:`ImplementingBodiesSimulator` implements :class:`contracts.link.Simulator`. For every forwarding
file it returns one receipt named after it, carrying its correlation id. It reads the file leniently with the
adapter's own layouts (:func:`~adapters.implementing_bodies.wire.read_forwarding`), and per claim:

* a claim whose lines break the layout: returned (返戻), the first problem's code and item;
* a file whose header breaks the layout: every claim returned with that problem;
* deterministically, a claim whose ``record_seq`` plus the destination's 種別 is a multiple of
  ``return_every``: returned, :data:`PAGES_MISSING` (添付書類の不足), so that the demo shows the error path;
* anything else: accepted.

It keeps no data of any person, only counters; a redelivered file gets the same receipt.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Final

from adapters.implementing_bodies.errors import IbFileError
from adapters.implementing_bodies.names import COUNTERPART, correlation_of, parse_name, receipt_file_name
from adapters.implementing_bodies.wire import (
    DESTINATION_CODES,
    ReceiptFile,
    Returned,
    read_forwarding,
    write_receipt,
)
from contracts.link import CounterpartFile

__all__ = ["DEFAULT_RETURN_EVERY", "PAGES_MISSING", "ImplementingBodiesSimulator"]

PAGES_MISSING: Final = "R010"
"""A claim returned for missing attachments (添付書類の不足) [renkei's own code]."""
DEFAULT_RETURN_EVERY: Final = 10
"""By default one claim in ten is returned, so that a small demo shows the error path."""
_SPECIES: Final = {body: int(code) for code, body in DESTINATION_CODES}


class ImplementingBodiesSimulator:
    """Simulated 日本年金機構, 国家公務員共済組合連合会, other 地方公務員共済組合 and 私学共済.

    Args:
        clock: the day a file is received.
        return_every: return one claim in this many (``None``: return none but the broken ones).

    Attributes:
        files_received: files handled, redeliveries included.
        claims: claims accepted and returned so far.
    """

    def __init__(
        self, *, clock: Callable[[], date] = date.today, return_every: int | None = DEFAULT_RETURN_EVERY
    ) -> None:
        if return_every is not None and return_every < 1:
            raise ValueError("return_every is a positive number of claims, or None")
        self.name: str = COUNTERPART
        self._clock = clock
        self._return_every = return_every
        self.files_received = 0
        self.claims: Counter[str] = Counter()

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one forwarding file with its receipt.

        Raises:
            IbFileError: the file is not one a 構成組合 forwards.
        """
        name = parse_name(file.name)
        correlation_of(file)
        if name.kind != "forwarding":
            raise IbFileError("the implementing bodies do not take this file from the federation")
        self.files_received += 1
        head, problems, claims = read_forwarding(file.content)
        accepted: list[int] = []
        returned: list[Returned] = []
        for claim in claims:
            seq = claim.record_seq
            if seq is None or seq in accepted or any(r[0] == seq for r in returned):
                continue  # a claim it cannot name, or names twice, it cannot answer for
            found = problems or claim.problems
            if found:
                returned.append(
                    (seq, None if found[0].field is None else found[0].field.name, found[0].kind.value)
                )
            elif (
                self._return_every is not None
                and (seq + _SPECIES[name.destination]) % self._return_every == 0
            ):
                returned.append((seq, "pages", PAGES_MISSING))
            else:
                accepted.append(seq)
        self.claims["accepted"] += len(accepted)
        self.claims["returned"] += len(returned)
        batch = head.get("batch_id") or "unreadable"
        receipt = ReceiptFile(
            forwarding=file.name,
            batch_id=batch,
            destination=name.destination,
            received_on=self._clock(),
            accepted=tuple(accepted),
            returned=tuple(returned),
        )
        content = write_receipt(receipt)
        return [CounterpartFile(COUNTERPART, receipt_file_name(file.name), content, file.correlation_id)]

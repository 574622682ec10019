"""Rows kept together: one person's run of rows, contiguous in the file and never split between messages.

A kind whose rows must reach the hub in order, in one message, per person (the 副本 changes: a person's
insert, update and delete) declares its :class:`PersonRuns`. The exchange directory then

* refuses the file whole when a person's rows are not contiguous (a row of a person seen earlier, after
  another person's rows), or when one person has more rows than one message may carry, naming the line
  and the column, never the value (:meth:`PersonRuns.check`);
* notes the length of every run as it validates the file (:meth:`PersonRuns.lengths`), so that the adapter
  can cut chunks at person boundaries (:func:`packed_sizes`) without reading the file again.

The rule is checked on every reading of the file: the record of the people seen is about 100 bytes a
person (a million people, about 100 MB) while a file is read, and is dropped with the reading.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from adapters.pension.errors import Reason
from adapters.pension.wire import field_refusal

__all__ = ["PersonRuns", "packed_sizes"]


@dataclass(frozen=True, slots=True)
class PersonRuns:
    """How a kind keeps each person's rows together.

    Attributes:
        person: the person a parsed row belongs to (a compact key: it is kept for every person of a file).
        column: the column a refusal names (where the person is written).
        most: the most rows one person may have in a file: the records one message may carry.
    """

    person: Callable[[Any], Hashable]
    column: str
    most: int

    def check(self) -> Callable[[Any, int], None]:
        """A fresh check for one reading of a file: ``check(row, line)`` for each row, in file order.

        Raises (from the check):
            MalformedPensionFile: the row continues a person whose run ended on an earlier line
                (``person_run_broken``), or makes the person's run longer than :attr:`most`
                (``person_run_too_long``).
        """
        seen: set[Hashable] = set()
        current: Hashable = None  # the person of the run being read
        length = 0

        def check(row: Any, line: int) -> None:
            nonlocal current, length
            person = self.person(row)
            if length and person == current:
                length += 1
                if length > self.most:
                    rule = f"one person has more than {self.most} rows, the most one message carries"
                    raise field_refusal(line, self.column, rule, Reason.PERSON_RUN_TOO_LONG)
                return
            if person in seen:
                rule = (
                    "continues a person whose rows ended on an earlier line (a person's rows are contiguous)"
                )
                raise field_refusal(line, self.column, rule, Reason.PERSON_RUN_BROKEN)
            seen.add(person)
            current, length = person, 1

        return check

    def lengths(self, rows: Iterable[Any]) -> array[int]:
        """The length of each person's run, in file order, reading ``rows`` to the end."""
        runs: array[int] = array("L")
        last: Hashable = None
        for row in rows:
            person = self.person(row)
            if runs and person == last:
                runs[-1] += 1
            else:
                runs.append(1)
                last = person
        return runs


def packed_sizes(runs: Sequence[int], limit: int) -> list[int]:
    """The rows of each chunk when whole runs are packed in file order, at most ``limit`` rows a chunk.

    A chunk takes the next run while it stays within ``limit``; a run longer than ``limit`` is a chunk of
    its own (the run's length is bounded by :attr:`PersonRuns.most`). No run is ever split; an empty
    file is one empty chunk, as :func:`~adapters.pension.mapping.chunk_sizes` gives.
    """
    sizes: list[int] = []
    for run in runs:
        if sizes and sizes[-1] + run <= limit:
            sizes[-1] += run
        else:
            sizes.append(run)
    return sizes or [0]

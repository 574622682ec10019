"""The code store and the pending-query store in memory, with the SQL stores' rules.

宛名番号 are drawn at random (fifteen digits, never starting with 0, never given twice) and handed out in
no particular order, as :class:`~hub.infra.stores.codes.SqlCodeStore` does. The SQL store encrypts each code
at rest under the vault's KEK; nothing rests here, so the twin keeps codes only in this process's memory,
as the SQL store holds them once decrypted.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from contracts.errors import StoreUnavailable
from hub.ports.codes import DuplicateRecordId, PendingQuery, PendingStatus
from hub.ports.vault import SubjectId, UnknownSubject

__all__ = ["InMemoryCodeStore", "InMemoryPendingQueries"]

_DIGITS: Final = 15
_LOW: Final = 10 ** (_DIGITS - 1)


class InMemoryCodeStore:
    """:class:`~hub.ports.codes.CodeStore` in memory."""

    def __init__(self) -> None:
        self._atena: dict[SubjectId, int] = {}
        self._subjects: dict[int, SubjectId] = {}
        self._codes: dict[SubjectId, str] = {}

    def atena_numbers(self, subjects: Sequence[SubjectId], *, allocate: bool = False) -> dict[SubjectId, str]:
        """The 宛名番号 of each subject; with ``allocate``, new random ones for subjects without."""
        wanted = list(dict.fromkeys(subjects))
        if allocate:
            for subject in wanted:
                if subject not in self._atena:
                    self._allocate(subject)
        return {s: f"{self._atena[s]:0{_DIGITS}d}" for s in wanted if s in self._atena}

    def _allocate(self, subject: SubjectId) -> None:
        # Random, not sequential: a 宛名番号 says nothing about when or in which order people were seen.
        for _ in range(100):
            drawn = _LOW + secrets.randbelow(9 * _LOW)
            if drawn not in self._subjects:
                self._atena[subject], self._subjects[drawn] = drawn, subject
                return
        raise StoreUnavailable("could not draw a free 宛名番号; the batch will be retried")

    def subjects_by_atena(self, atena_numbers: Sequence[str]) -> dict[str, SubjectId]:
        """The subjects of 宛名番号; unknown or malformed ones are absent."""
        found: dict[str, SubjectId] = {}
        for text in atena_numbers:
            if len(text) == _DIGITS and text.isascii() and text.isdigit() and int(text) in self._subjects:
                found[text] = self._subjects[int(text)]
        return found

    def codes_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """The codes held."""
        return {s: self._codes[s] for s in subjects if s in self._codes}

    def store_codes(self, links: Sequence[tuple[SubjectId, str]]) -> None:
        """Keep the codes the network issued; a subject's earlier code is replaced.

        Raises:
            UnknownSubject: a subject was never given a 宛名番号.
        """
        unknown = [s for s, _ in links if s not in self._atena]
        if unknown:
            raise UnknownSubject("a code arrived for a subject without a 宛名番号", subjects=unknown)
        self._codes.update(links)

    def erase(self, subjects: Sequence[SubjectId]) -> int:
        """Forget the subjects' 宛名番号 and codes; returns how many were held."""
        erased = 0
        for subject in dict.fromkeys(subjects):
            atena = self._atena.pop(subject, None)
            if atena is not None:
                erased += 1
                del self._subjects[atena]
            self._codes.pop(subject, None)
        return erased


class InMemoryPendingQueries:
    """:class:`~hub.ports.codes.PendingQueryStore` in memory."""

    def __init__(self) -> None:
        self._queries: dict[str, PendingQuery] = {}

    def add(self, queries: Sequence[PendingQuery]) -> None:
        """Keep queries as they leave.

        Raises:
            DuplicateRecordId: a record id repeats or is already held; nothing of the batch is written.
        """
        ids = [q.record_id for q in queries]
        if len(set(ids)) != len(ids) or any(i in self._queries for i in ids):
            raise DuplicateRecordId("a query with this record identification number was already sent")
        self._queries.update((q.record_id, q) for q in queries)

    def get(self, record_ids: Sequence[str]) -> dict[str, PendingQuery]:
        """The queries of these record ids; unknown ones are absent."""
        return {i: self._queries[i] for i in record_ids if i in self._queries}

    def settle(self, record_ids: Sequence[str], *, status: PendingStatus, at: datetime) -> None:
        """Mark queries answered, empty or failed (unknown ones are ignored)."""
        for record_id in set(record_ids) & set(self._queries):
            self._queries[record_id] = dataclasses.replace(
                self._queries[record_id], status=status, settled_at=at
            )

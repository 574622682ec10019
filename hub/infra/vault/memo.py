"""A vault that remembers, for the rest of its transaction, what it has already read.

The hub handles a batch of messages in one transaction, one handler call per message. Before the
handlers run, the worker lets a *prefetcher* look up the whole batch's people at once (a few chunked
statements); the handlers then ask for their own people one message at a time and are answered from
memory. Without this, a batch of 200 one-person messages cost some 1,600 vault statements; with it, about
ten.

What is remembered is only ever what this transaction read (negative answers included), so it is exactly
what the database would answer again, until something changes it:

* every write through this vault forgets what it might change (before and after writing, because some
  writes read through the memo first);
* :meth:`MemoisingVault.forget` forgets everything; the unit of work calls it when a savepoint rolls
  back, since tokens recorded inside it are then gone from the database.

Writes outside this vault (another connection, the retention job) are other transactions, which this one
would not have seen consistently anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Connection

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber
from hub.infra.keys.bundles import VaultKeys
from hub.infra.vault.sql import SqlVault
from hub.infra.vault.store import DEFAULT_CHUNK
from hub.ports.vault import Ground, Retention, SubjectId, TokenScope

__all__ = ["MemoisingVault"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def _through(
    memo: dict[K, V | None], keys: Iterable[K], fetch: Callable[[list[K]], Mapping[K, V]]
) -> dict[K, V]:
    """Answer ``keys`` from ``memo``, fetching (once, in bulk) those it has never seen."""
    wanted = list(dict.fromkeys(keys))
    missing = [k for k in wanted if k not in memo]
    if missing:
        found = fetch(missing)
        for key in missing:
            memo[key] = found.get(key)
    return {k: v for k in wanted if (v := memo[k]) is not None}


class MemoisingVault(SqlVault):
    """:class:`~hub.infra.vault.sql.SqlVault` with a memory of its reads for one transaction.

    Remembered: subjects by usage number, primary usage numbers, current numbers, tokens and their
    reverse, and which subjects are live (exist and were not erased). Everything else goes to the
    database every time.
    """

    _by_usage: dict[UsageNumber, SubjectId | None]
    _usage_of: dict[SubjectId, UsageNumber | None]
    _numbers: dict[SubjectId, IndividualNumber | None]
    _tokens: dict[tuple[str, SubjectId], str | None]
    _by_token: dict[tuple[str, str], SubjectId | None]
    _grounds: dict[SubjectId, frozenset[Ground] | None]
    _alive: dict[SubjectId, SubjectId | None]

    def __init__(
        self,
        conn: Connection,
        keys: VaultKeys,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(conn, keys, chunk_size=chunk_size, clock=clock)
        self.forget()

    def forget(self) -> None:
        """Forget everything read so far."""
        self._by_usage, self._usage_of, self._numbers = {}, {}, {}
        self._tokens, self._by_token = {}, {}
        self._grounds = {}
        self._alive = {}

    # --- reads ---------------------------------------------------------------------------------------------

    def subjects_by_usage(self, usage: Sequence[UsageNumber]) -> dict[UsageNumber, SubjectId]:
        """See :meth:`SqlVault.subjects_by_usage`; remembered."""
        return _through(self._by_usage, usage, super().subjects_by_usage)

    def usage_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, UsageNumber]:
        """See :meth:`SqlVault.usage_of`; remembered."""
        return _through(self._usage_of, subjects, super().usage_of)

    def numbers_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, IndividualNumber]:
        """See :meth:`SqlVault.numbers_of`; remembered."""
        return _through(self._numbers, subjects, super().numbers_of)

    def grounds_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, frozenset[Ground]]:
        """See :meth:`SqlVault.grounds_of`; remembered."""
        return _through(self._grounds, subjects, super().grounds_of)

    def tokens(self, scope: TokenScope, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """See :meth:`SqlVault.tokens` (which also records new tokens); remembered."""
        fetch = super().tokens

        def fetched(keys: list[tuple[str, SubjectId]]) -> dict[tuple[str, SubjectId], str]:
            return {(scope, s): t for s, t in fetch(scope, [s for _, s in keys]).items()}

        found = _through(self._tokens, ((scope, s) for s in subjects), fetched)
        return {s: t for (_, s), t in found.items()}

    def _live(self, chunk: Sequence[SubjectId]) -> list[SubjectId]:
        """Which subjects exist and were not erased; remembered.

        So the tokens of a second scope (a chunk's audit tokens, then its J-LIS references) do not ask
        again (py-spy: 2 to 5% of the hub's samples in `renkei bench`). An erasure is another transaction.
        """
        fetch = self._store.live
        found = _through(self._alive, chunk, lambda missing: {s: s for s in fetch(missing)})
        return [s for s in dict.fromkeys(chunk) if s in found]

    def subjects_of_tokens(self, scope: TokenScope, tokens_: Sequence[str]) -> Mapping[str, SubjectId]:
        """See :meth:`SqlVault.subjects_of_tokens`; remembered."""
        fetch = super().subjects_of_tokens

        def fetched(keys: list[tuple[str, str]]) -> dict[tuple[str, str], SubjectId]:
            return {(scope, t): s for t, s in fetch(scope, [t for _, t in keys]).items()}

        found = _through(self._by_token, ((scope, t) for t in tokens_), fetched)
        return {t: s for (_, t), s in found.items()}

    # --- writes: forget what they may change ---------------------------------------------------------------

    def enrol(
        self,
        links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
        *,
        retention: Retention,
        source: str,
    ) -> dict[UsageNumber, SubjectId]:
        """See :meth:`SqlVault.enrol`."""
        self.forget()
        try:
            return super().enrol(links, retention=retention, source=source)
        finally:
            self.forget()

    def link_numbers(
        self, links: Sequence[tuple[SubjectId, IndividualNumber]], *, retention: Retention, source: str
    ) -> None:
        """See :meth:`SqlVault.link_numbers`; only numbers are forgotten (nothing else changes)."""
        try:
            super().link_numbers(links, retention=retention, source=source)
        finally:
            self._numbers = {}

    def add_grounds(self, links: Sequence[tuple[SubjectId, Ground]], *, source: str) -> None:
        """See :meth:`SqlVault.add_grounds`; only grounds are forgotten."""
        self._grounds = {}
        try:
            super().add_grounds(links, source=source)
        finally:
            self._grounds = {}

    def add_usage_numbers(self, links: Sequence[tuple[SubjectId, UsageNumber]]) -> None:
        """See :meth:`SqlVault.add_usage_numbers`."""
        self.forget()
        try:
            super().add_usage_numbers(links)
        finally:
            self.forget()

    def retire_usage_numbers(self, usage: Sequence[UsageNumber]) -> None:
        """See :meth:`SqlVault.retire_usage_numbers`."""
        try:
            super().retire_usage_numbers(usage)
        finally:
            self.forget()

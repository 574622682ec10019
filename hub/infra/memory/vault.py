"""The vault in memory: subjects, numbers, usage numbers, grounds and tokens in plain Python structures.

It decides every link with the same planner as :class:`~hub.infra.vault.sql.SqlVault`
(:mod:`hub.infra.vault.plan`), so that a batch is refused whole before anything is written, and makes its
tokens with the same :class:`~hub.infra.crypto.tokens.Tokenizer` (passed in, so this module imports no
``cryptography``). Numbers are held as :class:`~contracts.individual_number.IndividualNumber` values in this
process's memory only, as the SQL vault holds them once decrypted; nothing is written anywhere. Erasure is
no part of the port: :meth:`InMemoryVault.erase` forgets subjects the way the retention job does, for tests.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber
from hub.infra.vault.plan import Holding, plan_enrol, plan_links, plan_usage_numbers, primary_rank
from hub.ports.vault import (
    Ground,
    NumberRecord,
    Retention,
    SubjectId,
    TokenScope,
    UnknownSubject,
    UsageRecord,
)

__all__ = ["InMemoryVault", "TokenMaker"]


class TokenMaker(Protocol):
    """What the vault needs of :class:`~hub.infra.crypto.tokens.Tokenizer`."""

    @property
    def current_version(self) -> int:
        """The root version new tokens are made under."""
        ...

    def tokens(self, scope: str, subject_ids: Sequence[str], version: int | None = None) -> list[str]:
        """The tokens of ``subject_ids`` in ``scope``."""
        ...

    def belongs_to(self, scope: str, token: str) -> bool:
        """Whether ``token`` could be a token of ``scope`` under a root version held."""
        ...


@dataclass(slots=True)
class _NumberRow:
    id: int
    subject: SubjectId
    number: IndividualNumber
    is_current: bool
    valid_from: datetime
    valid_to: datetime | None
    retention: Retention
    source: str

    def holding(self) -> Holding:
        return Holding(self.subject, self.id, self.is_current, self.retention)


@dataclass(slots=True)
class _UsageRow:
    id: int
    subject: SubjectId
    usage: UsageNumber
    valid_from: datetime
    valid_to: datetime | None


class InMemoryVault:
    """The :class:`~hub.ports.vault.Vault` in memory.

    Args:
        tokenizer: makes and recognises tokens (``Tokenizer(keys.token_root)``, as the SQL vault builds).
        clock: the time source (tests).
    """

    def __init__(self, tokenizer: TokenMaker, *, clock: Callable[[], datetime] | None = None) -> None:
        self._tokenizer = tokenizer
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ids = itertools.count(1)
        self._subjects: dict[SubjectId, bool] = {}  # subject -> erased
        self._numbers: list[_NumberRow] = []
        self._usage: list[_UsageRow] = []
        self._grounds: dict[SubjectId, set[Ground]] = {}
        self._tokens: dict[tuple[str, str], SubjectId] = {}  # (scope, token) -> subject
        self._tokenised: set[tuple[str, int, SubjectId]] = set()  # (scope, version, subject) recorded

    # --- helpers -------------------------------------------------------------------------------------------

    def _live(self, subjects: Sequence[SubjectId]) -> list[SubjectId]:
        return [s for s in subjects if self._subjects.get(s) is False]

    def _require_live(self, wanted: Sequence[SubjectId]) -> None:
        missing = [s for s in wanted if self._subjects.get(s) is not False]
        if missing:
            raise UnknownSubject(f"{len(missing)} subject(s) are unknown or erased", subjects=missing)

    def _holders(self, wanted: Sequence[IndividualNumber]) -> dict[IndividualNumber, Holding]:
        asked = set(wanted)
        found: dict[IndividualNumber, Holding] = {}
        for row in self._numbers:
            if row.number in asked and (
                row.number not in found or (row.is_current and not found[row.number].is_current)
            ):
                found[row.number] = row.holding()
        return found

    def _current_rows(self, wanted: Sequence[SubjectId]) -> dict[SubjectId, Holding]:
        asked = set(wanted)
        return {r.subject: r.holding() for r in self._numbers if r.is_current and r.subject in asked}

    def _insert_numbers(
        self,
        links: Sequence[tuple[SubjectId, IndividualNumber]],
        retention: Retention,
        source: str,
        now: datetime,
    ) -> None:
        for subject, number in links:
            self._numbers.append(
                _NumberRow(next(self._ids), subject, number, True, now, None, retention, source)
            )

    def _update_retention(self, updates: Mapping[int, Retention]) -> None:
        for row in self._numbers:
            if row.id in updates:
                row.retention = updates[row.id]

    def _insert_usage(self, links: Sequence[tuple[SubjectId, UsageNumber]], now: datetime) -> None:
        self._usage.extend(_UsageRow(next(self._ids), s, u, now, None) for s, u in links)

    # --- subjects and usage numbers ------------------------------------------------------------------------

    def subjects_by_usage(self, usage: Sequence[UsageNumber]) -> dict[UsageNumber, SubjectId]:
        """Subjects of the given usage numbers in force; unknown ones are absent from the result."""
        asked = set(usage)
        return {r.usage: r.subject for r in self._usage if r.valid_to is None and r.usage in asked}

    def usage_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, UsageNumber]:
        """The primary usage number in force of each subject (ranked by :func:`primary_rank`)."""
        asked = set(subjects)
        best: dict[SubjectId, tuple[tuple[int, int], UsageNumber]] = {}
        for row in self._usage:
            if row.valid_to is not None or row.subject not in asked:
                continue
            rank = (primary_rank(row.usage.kind), row.id)
            if row.subject not in best or rank < best[row.subject][0]:
                best[row.subject] = (rank, row.usage)
        return {s: u for s, (_, u) in best.items()}

    def usage_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[UsageRecord]]:
        """Every usage number each subject has had, oldest first."""
        asked = set(subjects)
        history: dict[SubjectId, list[UsageRecord]] = {}
        for row in sorted(self._usage, key=lambda r: (r.valid_from, r.id)):
            if row.subject in asked:
                history.setdefault(row.subject, []).append(
                    UsageRecord(row.usage, row.valid_from, row.valid_to)
                )
        return history

    def add_usage_numbers(self, links: Sequence[tuple[SubjectId, UsageNumber]]) -> None:
        """Give subjects further usage numbers; see :meth:`hub.ports.vault.Vault.add_usage_numbers`."""
        self._require_live(list({s for s, _ in links}))
        self._insert_usage(plan_usage_numbers(links, by_usage=self.subjects_by_usage), self._clock())

    def retire_usage_numbers(self, usage: Sequence[UsageNumber]) -> None:
        """End usage numbers in force (they stay in the history); unknown ones are ignored."""
        asked, now = set(usage), self._clock()
        for row in self._usage:
            if row.valid_to is None and row.usage in asked:
                row.valid_to = now

    # --- grounds -------------------------------------------------------------------------------------------

    def add_grounds(self, links: Sequence[tuple[SubjectId, Ground]], *, source: str) -> None:
        """Record grounds of subjects; those already recorded are kept as they are."""
        del source  # the SQL vault keeps it for people; nothing reads it back through the port
        if not links:
            return
        self._require_live(list({s for s, _ in links}))
        for subject, ground in links:
            self._grounds.setdefault(subject, set()).add(ground)

    def grounds_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, frozenset[Ground]]:
        """The grounds recorded for each subject; subjects without any are absent."""
        return {s: frozenset(self._grounds[s]) for s in set(subjects) if self._grounds.get(s)}

    # --- numbers -------------------------------------------------------------------------------------------

    def enrol(
        self,
        links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
        *,
        retention: Retention,
        source: str,
    ) -> dict[UsageNumber, SubjectId]:
        """Create (or find) a subject per usage number and link its number; see the port."""
        plan = plan_enrol(
            links,
            retention,
            by_usage=self.subjects_by_usage,
            holders=self._holders,
            current=self._current_rows,
        )
        now = self._clock()
        for subject in plan.new_subjects:
            self._subjects[subject] = False
        self._insert_usage(plan.usage_inserts, now)
        self._insert_numbers(plan.number_inserts, retention, source, now)
        self._update_retention(plan.retention_updates)
        return plan.result

    def link_number(
        self, subject: SubjectId, number: IndividualNumber, *, retention: Retention, source: str
    ) -> None:
        """Link ``number`` to ``subject``; a different current number moves to history (番号法 7条2項)."""
        self.link_numbers([(subject, number)], retention=retention, source=source)

    def link_numbers(
        self, links: Sequence[tuple[SubjectId, IndividualNumber]], *, retention: Retention, source: str
    ) -> None:
        """Batch form of :meth:`link_number`; see the port."""
        self._require_live(list({s for s, _ in links}))
        plan = plan_links(links, retention, holders=self._holders, current=self._current_rows)
        now = self._clock()
        retired = set(plan.to_history)
        for row in self._numbers:
            if row.id in retired:
                row.is_current, row.valid_to = False, now
        self._insert_numbers(plan.number_inserts, retention, source, now)
        self._update_retention(plan.retention_updates)

    def numbers_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, IndividualNumber]:
        """Current numbers of the subjects that have one."""
        asked = set(subjects)
        return {r.subject: r.number for r in self._numbers if r.is_current and r.subject in asked}

    def number_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[NumberRecord]]:
        """Every number each subject has had and the vault still holds, oldest first."""
        asked = set(subjects)
        history: dict[SubjectId, list[NumberRecord]] = {}
        for row in sorted(self._numbers, key=lambda r: (r.valid_from, r.id)):
            if row.subject in asked:
                history.setdefault(row.subject, []).append(
                    NumberRecord(
                        row.number, row.is_current, row.valid_from, row.valid_to, row.retention, row.source
                    )
                )
        return history

    def subjects_by_number(self, numbers: Sequence[IndividualNumber]) -> dict[IndividualNumber, SubjectId]:
        """Subjects by number; a number matches current and earlier numbers."""
        return {n: h.subject for n, h in self._holders(numbers).items()}

    def set_retention(self, subjects: Sequence[SubjectId], retention: Retention) -> None:
        """Replace the retention of the subjects' current numbers."""
        asked = set(subjects)
        for row in self._numbers:
            if row.is_current and row.subject in asked:
                row.retention = retention

    # --- tokens --------------------------------------------------------------------------------------------

    def tokens(self, scope: TokenScope, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """Tokens of the subjects in ``scope``; unknown and erased subjects are absent."""
        version = self._tokenizer.current_version
        live = self._live(list(dict.fromkeys(subjects)))
        result: dict[SubjectId, str] = {}
        for subject, token in zip(live, self._tokenizer.tokens(scope, live, version), strict=True):
            result[subject] = token
            if (scope, version, subject) not in self._tokenised:
                self._tokenised.add((scope, version, subject))
                self._tokens[(scope, token)] = subject
        return result

    def subjects_of_tokens(self, scope: TokenScope, tokens: Sequence[str]) -> Mapping[str, SubjectId]:
        """Reverse of :meth:`tokens`; unknown tokens, and tokens of another scope, are absent."""
        return {
            t: self._tokens[(scope, t)]
            for t in set(tokens)
            if self._tokenizer.belongs_to(scope, t) and (scope, t) in self._tokens
        }

    # --- test support --------------------------------------------------------------------------------------

    def erase(self, subjects: Sequence[SubjectId]) -> None:
        """Forget the subjects' numbers, usage numbers, grounds and tokens; they stay known as erased."""
        gone = set(subjects) & set(self._subjects)
        for subject in gone:
            self._subjects[subject] = True
            self._grounds.pop(subject, None)
        self._numbers = [r for r in self._numbers if r.subject not in gone]
        self._usage = [r for r in self._usage if r.subject not in gone]
        self._tokens = {k: s for k, s in self._tokens.items() if s not in gone}
        self._tokenised = {k for k in self._tokenised if k[2] not in gone}

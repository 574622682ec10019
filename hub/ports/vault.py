"""The vault port: the only place where Individual Numbers rest (encrypted) and are linked to people.

A *subject* is a random internal id (like a 団体内統合宛名番号) that links a person's usage numbers to
their Individual Number and its history. Everything the vault returns outside itself is a subject id,
a token or an :class:`~contracts.individual_number.IndividualNumber` value object; the vault is bound to
the unit of work's transaction, so its changes commit or roll back with the work they serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, NewType, Protocol

from contracts.errors import PermanentError, PolicyRefused
from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber

__all__ = [
    "AUDIT_SCOPE",
    "Ground",
    "NumberConflict",
    "NumberRecord",
    "Retention",
    "SubjectId",
    "TokenScope",
    "UnknownSubject",
    "UsageRecord",
    "Vault",
]

SubjectId = NewType("SubjectId", str)
"""26 random letters (about 122 bits; no digits, so never mistaken for a number); never leaves the hub."""

TokenScope = NewType("TokenScope", str)
"""A tokenisation scope such as ``audit`` or ``jlis.ref``: tokens of two scopes cannot be linked."""
AUDIT_SCOPE: Final = TokenScope("audit")
"""The token scope in which access records (and operators' views of them) name people."""


@dataclass(frozen=True, slots=True)
class Retention:
    """Why a number is kept and until when (the day after which it must be erased)."""

    basis: str
    purge_after: date | None = None


@dataclass(frozen=True, slots=True, order=True)
class Ground:
    """Why the vault holds a subject's number: the person's role and the basis it was obtained under.

    Both are codes of the purpose table (``[[role]]`` and ``[[held_under]]``), e.g. ``recipient`` + ``jlis``
    for a pensioner whose number came from J-LIS, ``dependant`` + ``declaration`` for a child named on a
    扶養親族等申告書. A subject may have several; every use of the number is checked against them.
    """

    role: str
    held_under: str


@dataclass(frozen=True, slots=True)
class NumberRecord:
    """One number a subject has had, current or earlier (番号法 7条2項), with its retention."""

    number: IndividualNumber
    is_current: bool
    valid_from: datetime
    valid_to: datetime | None
    retention: Retention
    source: str


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One usage number a subject has had; ``valid_to`` is set once it was retired."""

    usage: UsageNumber
    valid_from: datetime
    valid_to: datetime | None


class NumberConflict(PolicyRefused):
    """Linking would join two people or silently replace a number: refused, nothing was written.

    A number already belongs to another subject, or a known usage number arrives with a number other than
    its subject's current one. Such links are never made automatically (the 2023 紐付け誤り); the caller
    holds them for a person to resolve, and may retry the rest of the batch without them.

    Attributes:
        usage: the usage numbers whose links conflict (``enrol``).
        subjects: the subjects whose links conflict (``link_numbers``).
    """

    code = "number_conflict"

    def __init__(
        self, message: str, *, usage: Sequence[UsageNumber] = (), subjects: Sequence[SubjectId] = ()
    ) -> None:
        super().__init__(message)
        self.usage = tuple(usage)
        self.subjects = tuple(subjects)


class UnknownSubject(PermanentError):
    """A subject id the vault does not know, or one that was erased.

    Attributes:
        subjects: the unknown or erased subjects.
    """

    code = "unknown_subject"

    def __init__(self, message: str, *, subjects: Sequence[SubjectId] = ()) -> None:
        super().__init__(message)
        self.subjects = tuple(subjects)


class Vault(Protocol):
    """Subjects, their numbers, usage numbers and tokens. All methods work in batches."""

    def enrol(
        self,
        links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
        *,
        retention: Retention,
        source: str,
    ) -> dict[UsageNumber, SubjectId]:
        """Create (or find) a subject per usage number and link its number; returns the subjects.

        A usage number in force finds its subject; otherwise the number (current) finds it, and the usage
        number is added to that subject; otherwise a new subject is made. A number already linked keeps the
        longer of its retentions (no date outlasts every date).

        Raises:
            NumberConflict: a link would join two subjects or replace a known subject's number (use
                :meth:`link_number` for a change); raised before anything of the batch is written.
        """
        ...

    def subjects_by_usage(self, usage: Sequence[UsageNumber]) -> dict[UsageNumber, SubjectId]:
        """Subjects of the given usage numbers; unknown ones are absent from the result."""
        ...

    def usage_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, UsageNumber]:
        """The current primary usage number of each subject."""
        ...

    def numbers_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, IndividualNumber]:
        """Current Individual Numbers of the subjects that have one (decrypted in memory only)."""
        ...

    def subjects_by_number(self, numbers: Sequence[IndividualNumber]) -> dict[IndividualNumber, SubjectId]:
        """Look subjects up by number through the keyed blind index."""
        ...

    def link_number(
        self, subject: SubjectId, number: IndividualNumber, *, retention: Retention, source: str
    ) -> None:
        """Link ``number`` to ``subject``; a different current number moves to history (番号法 7条2項)."""
        ...

    # --- additions: batch linking, history, usage numbers, retention --------------------------------------

    def link_numbers(
        self, links: Sequence[tuple[SubjectId, IndividualNumber]], *, retention: Retention, source: str
    ) -> None:
        """Batch form of :meth:`link_number`.

        Raises:
            UnknownSubject: a subject is unknown or erased.
            NumberConflict: a number belongs to another subject; raised before anything is written.
        """
        ...

    def number_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[NumberRecord]]:
        """Every number each subject has had and the vault still holds, oldest first (decrypted in memory)."""
        ...

    def usage_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[UsageRecord]]:
        """Every usage number each subject has had, oldest first."""
        ...

    def add_usage_numbers(self, links: Sequence[tuple[SubjectId, UsageNumber]]) -> None:
        """Give subjects further usage numbers (a usage number in force belongs to one subject only).

        Raises:
            UnknownSubject: a subject is unknown or erased.
            NumberConflict: a usage number is in force for another subject.
        """
        ...

    def retire_usage_numbers(self, usage: Sequence[UsageNumber]) -> None:
        """End usage numbers (they stay in the history); unknown ones are ignored."""
        ...

    def set_retention(self, subjects: Sequence[SubjectId], retention: Retention) -> None:
        """Replace the retention of the subjects' current numbers (for example when a pension ends)."""
        ...

    def add_grounds(self, links: Sequence[tuple[SubjectId, Ground]], *, source: str) -> None:
        """Record why the vault holds the subjects' numbers (grounds already recorded are kept as they are).

        Raises:
            UnknownSubject: a subject is unknown or erased.
        """
        ...

    def grounds_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, frozenset[Ground]]:
        """The grounds recorded for each subject (subjects without any are absent)."""
        ...

    def tokens(self, scope: TokenScope, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """Deterministic, opaque tokens of the subjects in ``scope``."""
        ...

    def subjects_of_tokens(self, scope: TokenScope, tokens: Sequence[str]) -> Mapping[str, SubjectId]:
        """Reverse of :meth:`tokens`; unknown tokens are absent."""
        ...

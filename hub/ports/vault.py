"""The vault port: the only place where Individual Numbers rest (encrypted) and are linked to people.

A *subject* is a random internal id (like a 団体内統合宛名番号) that links a person's usage numbers to
their Individual Number and its history. Everything the vault returns outside itself is a subject id,
a token or an :class:`~contracts.individual_number.IndividualNumber` value object; the vault is bound to
the unit of work's transaction, so its changes commit or roll back with the work they serve.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NewType, Protocol

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber

__all__ = ["Retention", "SubjectId", "TokenScope", "Vault"]

SubjectId = NewType("SubjectId", str)
"""A random 128-bit id, hex; never leaves the hub."""

TokenScope = NewType("TokenScope", str)
"""A tokenisation scope such as ``audit`` or ``jlis.ref``: tokens of two scopes cannot be linked."""


@dataclass(frozen=True, slots=True)
class Retention:
    """Why a number is kept and until when (the day after which it must be erased)."""

    basis: str
    purge_after: date | None = None


class Vault(Protocol):
    """Subjects, their numbers, usage numbers and tokens. All methods work in batches."""

    def enrol(
        self, links: Sequence[tuple[UsageNumber, IndividualNumber | None]], *, retention: Retention, source: str
    ) -> dict[UsageNumber, SubjectId]:
        """Create (or find) a subject per usage number and link its number; returns the subjects."""
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

    def tokens(self, scope: TokenScope, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """Deterministic, opaque tokens of the subjects in ``scope``."""
        ...

    def subjects_of_tokens(self, scope: TokenScope, tokens: Sequence[str]) -> Mapping[str, SubjectId]:
        """Reverse of :meth:`tokens`; unknown tokens are absent."""
        ...

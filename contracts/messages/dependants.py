"""Dependants' declarations (公的年金等の受給者の扶養親族等申告書) from the pension system to the hub.

The one exchange in which the pension system hands over Individual Numbers: a declaration names the
declarant's dependants (spouse, children, parents, ...) with their numbers, which the pension adapter seals
for the hub at once, as it reads the file (field :func:`dependant_number_field`). The hub stores them in the
vault under the dependants' usage numbers (扶養親族キー) with their retention basis and end (所得税法施行規則
第76条の3: seven years from 11 January of the year after the filing deadline), and acknowledges each
declaration by usage number, never with a number::

    pension ──DependantsDeclarationSubmitted──▶ hub
    pension ◀─DependantsDeclarationAcknowledged─ hub
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.messages.common import ChunkInfo, NumberFreeText
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "MAX_DEPENDANTS",
    "DeclarationAck",
    "DeclarationStatus",
    "DeclaredDependant",
    "DependantRelation",
    "DependantsDeclaration",
    "DependantsDeclarationAcknowledged",
    "DependantsDeclarationSubmitted",
    "dependant_number_field",
]

MAX_RECORDS = 50_000
MAX_DEPENDANTS = 6
"""Dependants per declaration: the form's slots (源泉控除対象配偶者 and 控除対象扶養親族 / 16歳未満)."""


def dependant_number_field(record_seq: int, dependant_seq: int) -> str:
    """The field a dependant's number is sealed under (bound to the message id)."""
    return f"records.{record_seq}.dependants.{dependant_seq}.individual_number"


class DependantRelation(StrEnum):
    """The dependant's relation to the declarant (続柄)."""

    SPOUSE = "spouse"
    """源泉控除対象配偶者."""
    CHILD = "child"
    PARENT = "parent"
    OTHER_RELATIVE = "other_relative"


class DeclaredDependant(ContractModel):
    """One dependant: the federation's key for them, the relation, and the number sealed for the hub."""

    dependant_seq: int = Field(ge=1, le=MAX_DEPENDANTS)
    usage_number: UsageNumber
    relation: DependantRelation
    individual_number: SealedNumber

    @model_validator(mode="after")
    def _keyed_as_a_dependant(self) -> DeclaredDependant:
        if self.usage_number.kind is not UsageNumberKind.DEPENDANT:
            raise ValueError("a dependant is keyed by a usage number of kind dependant (扶養親族キー)")
        return self


class DependantsDeclaration(ContractModel):
    """One declaration: who declared, when, and whom."""

    record_seq: int = Field(ge=0)
    declarant: UsageNumber
    submitted_on: date
    dependants: tuple[DeclaredDependant, ...] = Field(min_length=1, max_length=MAX_DEPENDANTS)

    @model_validator(mode="after")
    def _dependants_in_order(self) -> DependantsDeclaration:
        seqs = [d.dependant_seq for d in self.dependants]
        if seqs != sorted(set(seqs)):
            raise ValueError("dependant_seq increases strictly within a declaration")
        keys = [d.usage_number for d in self.dependants]
        if len(set(keys)) != len(keys) or self.declarant in keys:
            raise ValueError("a declaration names each dependant once, and never the declarant")
        return self


@register("pension.dependants_declaration.submitted", 1)
class DependantsDeclarationSubmitted(ContractModel):
    """A chunk of declarations for one tax year; every number in it is sealed for the hub."""

    chunk: ChunkInfo
    tax_year: int = Field(ge=2016, le=2100)
    filing_deadline: date = Field(description="提出期限: the retention runs from it, not from the filing day")
    records: tuple[DependantsDeclaration, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class DeclarationStatus(StrEnum):
    """What the hub did with one declaration."""

    STORED = "stored"
    """Every dependant's number is in the vault with the declaration's retention."""
    REFUSED = "refused"
    """Nothing of it was stored: a dependant's key is linked to another number (an operator checks it)."""


class DeclarationAck(ContractModel):
    """The acknowledgement of one declaration, keyed by the declarant's usage number; never a number."""

    record_seq: int = Field(ge=0)
    declarant: UsageNumber
    status: DeclarationStatus
    dependants_stored: int = Field(ge=0, le=MAX_DEPENDANTS)
    retention_basis: NumberFreeText = Field(min_length=1, max_length=64)
    purge_after: date
    reason: NumberFreeText | None = Field(None, max_length=200)


@register("pension.dependants_declaration.acknowledged", 1)
class DependantsDeclarationAcknowledged(ContractModel):
    """A chunk of acknowledgements for the pension system."""

    chunk: ChunkInfo
    tax_year: int = Field(ge=2016, le=2100)
    records: tuple[DeclarationAck, ...] = Field(min_length=1, max_length=MAX_RECORDS)

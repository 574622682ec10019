"""Usage numbers (利用番号): how the pension system knows a person, never by the Individual Number."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from contracts.base import ContractModel
from contracts.redaction import holds_number

__all__ = ["UsageNumber", "UsageNumberKind"]


class UsageNumberKind(StrEnum):
    """The kinds of usage number the federation keeps."""

    PENSION_CERTIFICATE = "pension_certificate"
    """年金証書記号番号: the pension certificate symbol and number of a recipient."""
    BASIC_PENSION = "basic_pension"
    """基礎年金番号: the ten-digit basic pension number."""
    DEPENDANT = "dependant"
    """扶養親族キー: the federation's key for a dependant named on a declaration, or for a
    加給年金額対象配偶者."""
    SAME_ADDRESS = "same_address"
    """同一住所者キー: the federation's key for a person living at a pensioner's address
    (年金受給権者と同一住所の者,
    a 利用番号 kind since 2019)."""


class UsageNumber(ContractModel):
    """A typed usage number. Hashable, so it can key dictionaries."""

    kind: UsageNumberKind
    value: str = Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z-]+$")

    @field_validator("value")
    @classmethod
    def _not_an_individual_number(cls, value: str) -> str:
        # The pension system knows people by usage numbers precisely so that it never holds their
        # Individual Number: one sent in its place must not travel on (to the outbox, queues and files).
        if holds_number(value):
            raise ValueError("a usage number never has the form of an Individual Number")
        return value

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.value}"

"""What the two statutory pension documents say alike about a recipient.

The payment report to the municipality (公的年金等支払報告書, eLTAX) and the withholding slip to the tax
office (公的年金等の源泉徴収票, the National Tax Agency) state the same facts about a recipient: who it is
(name, kana, address, birth date, correction, abroad) and its deductions (the disability flags, the spouse,
the dependants counted by kind, the social insurance paid, the widow flag and the remarks, 摘要). Both
adapters declare their records on :class:`Recipient` and fill it from the contract's record with
:func:`recipient_fields`, so that the two documents cannot state a recipient differently.

Shared by the adapters (they never import each other); imports nothing of the hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from contracts.messages.eltax import DependantKind, PaymentAmounts, SubmissionRecord

__all__ = ["Amounts", "Deductions", "Recipient", "recipient_fields", "section_amounts"]


@dataclass(frozen=True, slots=True)
class Amounts:
    """The four amounts of one 所得税法 第203条の3 section, in yen; ``None`` is a blank item."""

    paid: int | None = None
    unpaid: int | None = None
    withheld: int | None = None
    unwithheld: int | None = None


def section_amounts(section: PaymentAmounts | None) -> Amounts | None:
    """The amounts of one of the contract's sections (``None``: the section is blank)."""
    if section is None:
        return None
    return Amounts(section.paid, section.unpaid, section.withheld, section.unwithheld)


@dataclass(frozen=True, slots=True, kw_only=True)
class Deductions:
    """A recipient's deductions and counts as both documents state them; ``None`` is a blank item."""

    special_disabled: bool = False
    other_disabled: bool = False
    spouse_status: int | None = None
    elderly_dependants: int | None = None
    other_dependants: int | None = None
    specific_dependants: int | None = None
    under_16_dependants: int | None = None
    disabled_special_count: int | None = None
    disabled_other_count: int | None = None
    disabled_special_cohabiting: int | None = None
    social_insurance: int | None = None
    remarks: str | None = None
    widow: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient(Deductions):
    """Who the recipient is, as both documents state it, with its :class:`Deductions`."""

    name: str
    kana_name: str
    address: str
    birth_date: date
    correction: int = 0
    abroad: bool = False


def _count(n: int) -> int | None:
    return n or None


def recipient_fields(record: SubmissionRecord) -> dict[str, Any]:
    """The :class:`Recipient` fields of ``record``, as keywords for a document's record.

    The dependants are counted by kind (a count of none is a blank item); the rest is what the pension
    system sent and the recipient declared.
    """
    kinds = [d.kind for d in record.dependants]
    declared = record.deductions
    return {
        "name": record.name,
        "kana_name": record.kana_name,
        "address": record.address,
        "birth_date": record.birth_date,
        "correction": record.correction,
        "abroad": record.abroad,
        "special_disabled": declared.special_disabled,
        "other_disabled": declared.other_disabled,
        "spouse_status": declared.spouse_status,
        "elderly_dependants": _count(kinds.count(DependantKind.ELDERLY)),
        "other_dependants": _count(kinds.count(DependantKind.OTHER)),
        "specific_dependants": _count(kinds.count(DependantKind.SPECIFIC)),
        "under_16_dependants": _count(kinds.count(DependantKind.UNDER_16)),
        "disabled_special_count": declared.disabled_special_count,
        "disabled_other_count": declared.disabled_other_count,
        "disabled_special_cohabiting": declared.disabled_special_cohabiting,
        "social_insurance": declared.social_insurance,
        "remarks": record.remarks,
        "widow": declared.widow,
    }

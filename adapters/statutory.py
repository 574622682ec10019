"""What the two statutory pension documents say alike about a recipient.

The payment report to the municipality (公的年金等支払報告書, eLTAX) and the withholding slip to the tax
office (公的年金等の源泉徴収票, the National Tax Agency) state the same facts about a recipient: who it is
(name, kana, address, birth date, correction, abroad) and its deductions (the disability flags, the spouse,
the dependants counted by kind, the social insurance paid, the widow flag and the remarks, 摘要). Both
adapters declare their records on :class:`Recipient` and fill it from the contract's record with
:func:`recipient_fields`, so that the two documents cannot state a recipient differently.

Their rows say it alike, too, each in its own layout: the amounts of a section are four items
(:func:`section_items`, written by :func:`section_values`, read back by :func:`sections_read`); the
recipient is named and dated by the same items (:func:`recipient_values`, :func:`recipient_read`); and the
rules that join items are the same (:func:`birth_problems`, :func:`named_entries`,
:func:`count_problems`).

Shared by the adapters (they never import each other); imports nothing of the hub.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from adapters.records.era import from_era, to_era
from adapters.records.fields import Field, FieldType, Problem, ProblemKind, field
from contracts.messages.eltax import DependantKind, PaymentAmounts, SubmissionRecord

__all__ = [
    "AMOUNT_ITEMS",
    "Amounts",
    "Deductions",
    "Recipient",
    "birth_problems",
    "count_problems",
    "named_entries",
    "recipient_fields",
    "recipient_read",
    "recipient_values",
    "section_amounts",
    "section_items",
    "section_values",
    "sections_read",
]

AMOUNT_ITEMS: Final = (
    ("paid", "支払金額"),
    ("unpaid", "未払金額"),
    ("withheld", "源泉徴収税額"),
    ("unwithheld", "未徴収税額"),
)
"""The four items of a section: the field of :class:`Amounts` each holds, and its label."""
_BIRTH_ITEMS: Final = ("birth_era", "birth_year", "birth_month", "birth_day")


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


def section_items(sections: Sequence[str], article: str, *, source: str) -> Iterator[Field]:
    """The amount items of ``sections``, four a section: ``s1_paid`` ... ``s<n>_unwithheld``.

    Each is labelled ``{article}{section}適用分 {amount}``: the documents cite the article each its own way.
    """
    for n, section in enumerate(sections, start=1):
        for name, label in AMOUNT_ITEMS:
            yield field(
                f"s{n}_{name}",
                f"{article}{section}適用分 {label}",
                10,
                FieldType.DIGITS,
                required=False,
                source=source,
            )


def section_values(sections: Sequence[Amounts | None]) -> dict[str, int | None]:
    """The amount items of a record's sections; a section that is ``None`` leaves its four items blank."""
    return {
        f"s{n}_{name}": None if section is None else getattr(section, name)
        for n, section in enumerate(sections, start=1)
        for name, _ in AMOUNT_ITEMS
    }


def sections_read(values: Mapping[str, Any], count: int) -> tuple[Amounts | None, ...]:
    """The ``count`` sections of a row read back; a section whose four items are blank is ``None``."""
    return tuple(
        None
        if all(values.get(f"s{n}_{name}") is None for name, _ in AMOUNT_ITEMS)
        else Amounts(*(values.get(f"s{n}_{name}") for name, _ in AMOUNT_ITEMS))
        for n in range(1, count + 1)
    )


def recipient_values(r: Recipient) -> dict[str, Any]:
    """The items that name and date the recipient: correction, address, name, kana and birth date.

    The birth date is four items, its era (元号, :mod:`adapters.records.era`'s code) and the year, month and
    day in it; a date no era holds leaves the era and year blank, which the layout then refuses.
    """
    era = to_era(r.birth_date)
    return {
        "correction": r.correction,
        "address": r.address,
        "name": r.name,
        "kana_name": r.kana_name,
        "birth_era": era[0] if era else None,
        "birth_year": era[1] if era else None,
        "birth_month": r.birth_date.month,
        "birth_day": r.birth_date.day,
    }


def recipient_read(values: Mapping[str, Any]) -> dict[str, Any]:
    """The :class:`Recipient` fields :func:`recipient_values` wrote, from a row that passed its rules."""
    born = from_era(*(values[name] for name in _BIRTH_ITEMS))
    assert born is not None  # birth_problems checked it
    return {
        "name": values["name"],
        "kana_name": values["kana_name"],
        "address": values["address"],
        "birth_date": born,
        "correction": values["correction"],
    }


def birth_problems(values: Mapping[str, Any], by_name: Mapping[str, Field]) -> list[Problem]:
    """A birth date whose four items are each valid but name no day of their era (平成 31 年 5 月 1 日)."""
    if all(values.get(name) is not None for name in _BIRTH_ITEMS) and (
        from_era(*(values[name] for name in _BIRTH_ITEMS)) is None
    ):
        return [Problem(by_name["birth_year"], "is not a date of its era", ProblemKind.RANGE)]
    return []


def named_entries(
    prefix: str,
    slots: int,
    values: Mapping[str, Any],
    by_name: Mapping[str, Field],
    found: list[Problem],
    *,
    required: str | None = None,
) -> int:
    """How many entries of a repeated group (``dependant_1_name``, ``dependant_2_name`` ...) are named.

    Adds to ``found``: an entry with parts but no name, a named entry after an unnamed one, and (when
    ``required`` names a part, such as the slip's ``category``) a named entry without that part.
    """
    named = 0
    for k in range(1, slots + 1):
        parts = [name for name in by_name if name.startswith(f"{prefix}_{k}_")]
        present = [p for p in parts if values.get(p) is not None]
        if values.get(f"{prefix}_{k}_name") is None:
            if present:
                found.append(
                    Problem(by_name[present[0]], "is only allowed with a name", ProblemKind.CONSISTENCY)
                )
            continue
        if named != k - 1:
            found.append(
                Problem(by_name[f"{prefix}_{k}_name"], "leaves a gap before it", ProblemKind.CONSISTENCY)
            )
        if required is not None and values.get(f"{prefix}_{k}_{required}") is None:
            found.append(
                Problem(by_name[f"{prefix}_{k}_{required}"], "is required with a name", ProblemKind.REQUIRED)
            )
        named += 1
    return named


def count_problems(
    values: Mapping[str, Any], by_name: Mapping[str, Field], *, named: int, minors: int
) -> list[Problem]:
    """Counts below the people the row names.

    ``named`` dependants need as many counted as elderly, other and specific together; ``minors`` need as
    many counted under 16.
    """
    found = []
    deductible = sum(
        (values.get(n) or 0) for n in ("elderly_dependants", "other_dependants", "specific_dependants")
    )
    if named > deductible:
        found.append(
            Problem(
                by_name["other_dependants"],
                "counts fewer dependants than are named",
                ProblemKind.CONSISTENCY,
            )
        )
    if minors > (values.get("under_16_dependants") or 0):
        found.append(
            Problem(by_name["under_16_dependants"], "counts fewer than are named", ProblemKind.CONSISTENCY)
        )
    return found

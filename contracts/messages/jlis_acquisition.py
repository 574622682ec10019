"""Number acquisition by 基本4情報 (個人番号の取得照会): new entitlements, pension system to J-LIS and back.

Four messages, one per leg::

    pension ──NumberAcquisitionRequested──▶ hub ──JlisNumberAcquisitionQuery──▶ jlis adapter ──▶ J-LIS
    pension ◀──NumberAcquisitionOutcomes─── hub ◀──JlisNumberAcquisitionResult── jlis adapter ◀── J-LIS

The query carries the person's 基本4情報 (氏名, 生年月日, 性別, 住所) and never a number: since the 2023
紐付け誤り J-LIS answers a query for a 個人番号 only with **all four items, or three without 性別**
(domain.md §1.3). :func:`basic_info_problem` is that rule, enforced by :class:`BasicInfo` and by the pension
adapter when it parses the request file, so that a query with less never leaves.

J-LIS answers per person with a match status: ``unique`` (the number, sealed for the hub), ``multiple
candidates`` (each candidate's number sealed for the hub, for an operator to choose from: never linked
automatically) or ``none``. The pension system learns only ``linked``, ``held`` or ``refused``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.messages.common import ChunkInfo, NumberFreeText, PlainText
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber

__all__ = [
    "MAX_CANDIDATES",
    "AcquisitionCandidate",
    "AcquisitionOutcomeRecord",
    "AcquisitionRequestRecord",
    "AcquisitionStatus",
    "BasicInfo",
    "HoldReason",
    "JlisAcquisitionQueryRecord",
    "JlisAcquisitionResultRecord",
    "JlisNumberAcquisitionQuery",
    "JlisNumberAcquisitionResult",
    "MatchStatus",
    "NoMatchReason",
    "NumberAcquisitionOutcomes",
    "NumberAcquisitionRequested",
    "Sex",
    "basic_info_problem",
    "candidate_number_field",
    "unique_number_field",
]

MAX_RECORDS = 50_000
MAX_CANDIDATES = 9
"""More candidates than this are not listed by J-LIS: the query is too vague to resolve by hand."""
_REF = r"^[a-z][a-z0-9_]*$"


class Sex(StrEnum):
    """性別, as 本人確認情報 records it."""

    MALE = "male"
    FEMALE = "female"


def _blank(text: str | None) -> bool:
    # A full-width space (U+3000) is blank too: it separates family and given names, it is not a name.
    return text is None or not text.strip(" \u3000\t")


def basic_info_problem(
    *, name: str | None, birth_date: date | None, sex: Sex | None, address: str | None
) -> str | None:
    """Why a number acquisition query with these items may not be sent, or ``None`` when it may.

    J-LIS answers a query for a 個人番号 only with 基本4情報 (氏名, 生年月日, 性別, 住所), or the three of
    them without 性別 (domain.md §1.3): 氏名, 生年月日 and 住所 are required, 性別 is optional. Anything
    less, such as name and birth date alone, is refused before it leaves. The text names missing items only.
    """
    del sex  # optional: four items with it, three without it
    checks = (
        ("氏名 name", _blank(name)),
        ("生年月日 birth_date", birth_date is None),
        ("住所 address", _blank(address)),
    )
    missing = [label for label, absent in checks if absent]
    if not missing:
        return None
    return (
        "a number acquisition query needs all four of 氏名, 生年月日, 性別 and 住所, or three without 性別; "
        f"missing: {', '.join(missing)}"
    )


class BasicInfo(ContractModel):
    """基本4情報 of one person: 氏名, 生年月日, 性別 (optional) and 住所; 氏名カナ travels as a hint only.

    Validation enforces :func:`basic_info_problem`: a value with fewer items cannot be built.
    """

    name: PlainText | None = Field(None, min_length=1, max_length=50, description="氏名 (kanji)")
    name_kana: PlainText | None = Field(None, min_length=1, max_length=50, description="氏名カナ (a hint)")
    birth_date: date | None = None
    sex: Sex | None = None
    address: PlainText | None = Field(None, min_length=1, max_length=160, description="住所, as written")

    @model_validator(mode="after")
    def _four_items_or_three_without_sex(self) -> BasicInfo:
        problem = basic_info_problem(
            name=self.name, birth_date=self.birth_date, sex=self.sex, address=self.address
        )
        if problem is not None:
            raise ValueError(problem)
        return self

    @property
    def items(self) -> Literal[3, 4]:
        """How many of the four items the query carries: 4, or 3 without 性別."""
        return 4 if self.sex is not None else 3


class AcquisitionRequestRecord(ContractModel):
    """One new entitlement whose number is to be obtained, by usage number."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    basic_info: BasicInfo


@register("pension.number_acquisition.requested", 1)
class NumberAcquisitionRequested(ContractModel):
    """A chunk of new entitlements from the pension system (usage numbers and 4情報, never a number)."""

    chunk: ChunkInfo
    as_of: date
    records: tuple[AcquisitionRequestRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class JlisAcquisitionQueryRecord(ContractModel):
    """One person J-LIS is asked to find: a J-LIS-scope reference token and the 4情報."""

    record_seq: int = Field(ge=0)
    ref: str = Field(min_length=8, max_length=64, pattern=_REF)
    basic_info: BasicInfo


@register("jlis.number_acquisition.query", 1)
class JlisNumberAcquisitionQuery(ContractModel):
    """A chunk of the query as the hub sends it to the J-LIS adapter (no number in it)."""

    chunk: ChunkInfo
    as_of: date
    records: tuple[JlisAcquisitionQueryRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class MatchStatus(StrEnum):
    """How many people J-LIS found for a query."""

    UNIQUE = "unique"
    MULTIPLE_CANDIDATES = "multiple_candidates"
    """Several people fit (typically a three-item query): an operator chooses; never linked automatically."""
    NONE = "none"


class NoMatchReason(StrEnum):
    """Why J-LIS found nobody."""

    NO_RECORD = "no_record"
    """No 住民票 fits the items (a typo, a person never registered)."""
    NO_RESIDENT_CODE = "no_resident_code"
    """The person's record has no 住民票コード, so 住基ネット holds no number for it."""


def unique_number_field(record_seq: int) -> str:
    """The field the number of a unique match is sealed under (bound to the result's message id)."""
    return f"records.{record_seq}.individual_number"


def candidate_number_field(record_seq: int, candidate_no: int) -> str:
    """The field a candidate's number is sealed under (bound to the result's message id)."""
    return f"records.{record_seq}.candidates.{candidate_no}.individual_number"


class AcquisitionCandidate(ContractModel):
    """One of several people who fit a query: the number sealed for the hub and J-LIS's 4情報 of them."""

    candidate_no: int = Field(ge=1, le=MAX_CANDIDATES)
    individual_number: SealedNumber
    matched: BasicInfo


class JlisAcquisitionResultRecord(ContractModel):
    """J-LIS's answer for one query record."""

    record_seq: int = Field(ge=0)
    ref: str = Field(min_length=8, max_length=64, pattern=_REF)
    match_status: MatchStatus
    candidate_count: int = Field(ge=0, le=MAX_CANDIDATES)
    individual_number: SealedNumber | None = Field(None, description="unique only, sealed for the hub")
    matched: BasicInfo | None = Field(None, description="unique only: the 4情報 J-LIS holds")
    candidates: tuple[AcquisitionCandidate, ...] = Field((), max_length=MAX_CANDIDATES)
    no_match_reason: NoMatchReason | None = None
    address_normalised: bool = Field(
        False, description="the address matched only after normalising its notation (住所の表記ゆれ)"
    )

    @model_validator(mode="after")
    def _status_has_its_facts(self) -> JlisAcquisitionResultRecord:
        problem = _result_problem(self)
        if problem is not None:
            raise ValueError(problem)
        return self


def _result_problem(r: JlisAcquisitionResultRecord) -> str | None:
    numbers = [c.candidate_no for c in r.candidates]
    if r.match_status is MatchStatus.UNIQUE:
        if r.individual_number is None or r.candidate_count != 1 or r.candidates or r.no_match_reason:
            return "a unique match has one number, candidate_count 1, no candidates and no reason"
    elif r.match_status is MatchStatus.MULTIPLE_CANDIDATES:
        if r.individual_number is not None or r.matched is not None or r.no_match_reason:
            return "several candidates carry their numbers in candidates only"
        if r.candidate_count < 2 or len(r.candidates) != r.candidate_count:
            return "several candidates: candidate_count is at least 2 and equals the candidates listed"
        if numbers != list(range(1, len(numbers) + 1)):
            return "candidates are numbered 1, 2, ... in order"
    elif (
        r.individual_number is not None
        or r.matched is not None
        or r.candidates
        or r.candidate_count
        or r.no_match_reason is None
    ):
        return "no match carries no number, candidate_count 0 and a no_match_reason"
    return None


@register("jlis.number_acquisition.result", 1)
class JlisNumberAcquisitionResult(ContractModel):
    """A chunk of J-LIS's answers, as the J-LIS adapter sends them to the hub."""

    chunk: ChunkInfo
    fee_units: int = Field(ge=0, description="records J-LIS charges for (情報提供手数料)")
    records: tuple[JlisAcquisitionResultRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class AcquisitionStatus(StrEnum):
    """What became of a new entitlement's number, as the pension system learns it."""

    LINKED = "linked"
    """The number is in the vault, linked to the usage number."""
    HELD = "held"
    """Held for an operator (``renkei vault pending``): several candidates, none, or a conflict."""
    REFUSED = "refused"
    """An operator rejected every candidate; the pension system checks the person's 4情報."""
    NOT_PERMITTED = "not_permitted"
    """Not asked: J-LIS may be asked only about 年金受給権者 and 加給年金額対象配偶者 (the purpose table); the
    ``note`` names the reason (role_not_permitted, actor_not_permitted, ...)."""


class HoldReason(StrEnum):
    """Why a link waits for an operator."""

    MULTIPLE_CANDIDATES = "multiple_candidates"
    NO_MATCH = "no_match"
    NUMBER_CONFLICT = "number_conflict"
    """The number J-LIS gave belongs to another subject in the vault: never joined automatically."""


class AcquisitionOutcomeRecord(ContractModel):
    """One outcome for the pension system, keyed by usage number; never a number."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    status: AcquisitionStatus
    hold_id: str | None = Field(None, pattern=r"^hold-[a-z]{12}$")
    hold_reason: HoldReason | None = None
    candidate_count: int | None = Field(None, ge=0, le=MAX_CANDIDATES)
    no_match_reason: NoMatchReason | None = None
    note: NumberFreeText | None = Field(
        None, max_length=200, description="already_linked, or the operator's reason"
    )

    @model_validator(mode="after")
    def _held_says_why(self) -> AcquisitionOutcomeRecord:
        if self.status is AcquisitionStatus.HELD and (self.hold_id is None or self.hold_reason is None):
            raise ValueError("a held outcome names its hold_id and hold_reason")
        return self


@register("pension.number_acquisition.outcome", 1)
class NumberAcquisitionOutcomes(ContractModel):
    """A chunk of acquisition outcomes for the pension system (no Individual Number, ever).

    ``answered_by`` is ``jlis`` for answers to the query, ``hub`` for records the hub answered at once (a
    usage number already linked), ``operator`` for a hold resolved with ``renkei vault resolve``.
    """

    chunk: ChunkInfo
    answered_by: Literal["jlis", "hub", "operator"] = "jlis"
    records: tuple[AcquisitionOutcomeRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

"""The bimonthly survival/change inquiry (生存異動照会) from the pension system to J-LIS and back.

Four messages, one per leg::

    pension ──SurvivalInquiryRequested──▶ hub ──JlisSurvivalChangeInquiry──▶ jlis adapter ──▶ J-LIS
    pension ◀──SurvivalCheckOutcomes──── hub ◀──JlisSurvivalChangeResult──── jlis adapter ◀── J-LIS

The pension system speaks usage numbers only; J-LIS is asked by Individual Number, which travels sealed
for the J-LIS adapter, and new numbers coming back travel sealed for the hub.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.messages.common import Address, ChunkInfo, NumberFreeText, PlainText
from contracts.purpose_table import RefusalReason
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber

__all__ = [
    "JlisInquiryRecord",
    "JlisResultRecord",
    "JlisSurvivalChangeInquiry",
    "JlisSurvivalChangeResult",
    "MoveKind",
    "PensionAction",
    "SurvivalCheckOutcomes",
    "SurvivalInquiryRecord",
    "SurvivalInquiryRequested",
    "SurvivalOutcome",
    "SurvivalOutcomeRecord",
    "UnmatchedReason",
]

MAX_RECORDS = 50_000
_CYCLE = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class SurvivalOutcome(StrEnum):
    """What J-LIS said about one person this cycle."""

    ALIVE = "alive"
    DEAD = "dead"
    MOVED = "moved"
    NAME_CHANGED = "name_changed"
    NUMBER_CHANGED = "number_changed"
    NOT_FOUND = "not_found"
    NO_NUMBER = "no_number"
    """The hub holds no Individual Number for the person: nothing was asked (number acquisition needed)."""
    NOT_PERMITTED = "not_permitted"
    """The purpose table does not permit asking J-LIS about the person (a 扶養控除対象者 only, for example:
    J-LIS is asked about 年金受給権者 and 加給年金額対象配偶者 only): nothing was sent."""


class MoveKind(StrEnum):
    """The kind of move (異動事由)."""

    RELOCATION = "relocation"
    """転居: a new address in the same municipality."""
    MOVED_IN = "moved_in"
    """転出 then 転入: a new address in another municipality."""
    MOVED_OUT_PENDING = "moved_out_pending"
    """転出 recorded, 転入 not yet: the person is between municipalities at the cut-off."""
    MOVED_ABROAD = "moved_abroad"
    """国外転出: deleted from the register; only the 附票 knows the address abroad."""


class UnmatchedReason(StrEnum):
    """Why J-LIS could not answer for a person (the 現況届 workflow follows)."""

    ABROAD = "abroad"
    NO_RESIDENT_CODE = "no_resident_code"
    NOT_CONNECTED_MUNICIPALITY = "not_connected_municipality"
    NUMBER_UNKNOWN = "number_unknown"


class PensionAction(StrEnum):
    """What the pension system must do with an outcome."""

    CONTINUE_PAYMENT = "continue_payment"
    TERMINATE_AFTER_MONTH_OF_DEATH = "terminate_after_month_of_death"
    """失権: stop after the month of death; compute 未支給 and 過払."""
    UPDATE_ADDRESS = "update_address"
    HOLD_UNTIL_MOVE_IN = "hold_until_move_in"
    REQUEST_NAME_DOCUMENTS = "request_name_documents"
    """Name changes need an 異動届 with 戸籍 evidence before they are applied."""
    SEND_GENKYO_TODOKE = "send_genkyo_todoke"
    """現況届: ask the person to confirm they are alive; payment is suspended if it is not returned."""
    ACQUIRE_NUMBER = "acquire_number"
    REVIEW_PURPOSE = "review_purpose"
    """Not sent (``not_permitted``): remove the person from the request, or correct the person's role or the
    basis their number is held under (``not_permitted_reason`` says which) before asking again."""


class SurvivalInquiryRecord(ContractModel):
    """One person to check, by usage number."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber


@register("pension.survival_inquiry.requested", 1)
class SurvivalInquiryRequested(ContractModel):
    """A chunk of the cycle's inquiry, from the pension system (usage numbers only)."""

    chunk: ChunkInfo
    cycle: str = Field(pattern=_CYCLE, description="the payment month the inquiry serves, YYYY-MM")
    as_of: date
    records: tuple[SurvivalInquiryRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class JlisInquiryRecord(ContractModel):
    """One person J-LIS is asked about: a reference token and the number, sealed for the J-LIS adapter."""

    record_seq: int = Field(ge=0)
    ref: str = Field(min_length=8, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    individual_number: SealedNumber


@register("jlis.survival_change.inquiry", 1)
class JlisSurvivalChangeInquiry(ContractModel):
    """A chunk of the inquiry as the hub sends it to the J-LIS adapter."""

    chunk: ChunkInfo
    cycle: str = Field(pattern=_CYCLE)
    as_of: date
    records: tuple[JlisInquiryRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class JlisResultRecord(ContractModel):
    """J-LIS's answer for one person; a new number travels sealed for the hub."""

    record_seq: int = Field(ge=0)
    ref: str = Field(min_length=8, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")
    outcome: SurvivalOutcome
    death_date: date | None = None
    move_kind: MoveKind | None = None
    moved_on: date | None = None
    new_address: Address | None = None
    new_name: PlainText | None = Field(None, min_length=1, max_length=50)
    name_changed_on: date | None = None
    new_individual_number: SealedNumber | None = None
    unmatched_reason: UnmatchedReason | None = None

    @model_validator(mode="after")
    def _outcome_has_its_facts(self) -> JlisResultRecord:
        required = {
            SurvivalOutcome.DEAD: ("death_date",),
            SurvivalOutcome.MOVED: ("move_kind",),
            SurvivalOutcome.NAME_CHANGED: ("new_name",),
            SurvivalOutcome.NUMBER_CHANGED: ("new_individual_number",),
            SurvivalOutcome.NOT_FOUND: ("unmatched_reason",),
        }.get(self.outcome, ())
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"outcome {self.outcome.value} needs {', '.join(missing)}")
        return self


@register("jlis.survival_change.result", 1)
class JlisSurvivalChangeResult(ContractModel):
    """A chunk of J-LIS's answers, as the J-LIS adapter sends them to the hub."""

    chunk: ChunkInfo
    cycle: str = Field(pattern=_CYCLE)
    fee_units: int = Field(ge=0, description="records J-LIS charges for (情報提供手数料)")
    records: tuple[JlisResultRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)


class SurvivalOutcomeRecord(ContractModel):
    """One outcome for the pension system, keyed by usage number, with the actions it implies."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    outcome: SurvivalOutcome
    actions: tuple[PensionAction, ...] = Field(min_length=1)
    death_date: date | None = None
    move_kind: MoveKind | None = None
    moved_on: date | None = None
    new_address: Address | None = None
    new_name: NumberFreeText | None = None
    needs_document: bool = False
    unmatched_reason: UnmatchedReason | None = None
    not_permitted_reason: RefusalReason | None = Field(
        None, description="why the record was not sent (outcome not_permitted); absent otherwise"
    )


@register("pension.survival_check.outcomes", 1)
class SurvivalCheckOutcomes(ContractModel):
    """A chunk of outcomes for the pension system (no Individual Number, ever)."""

    chunk: ChunkInfo
    cycle: str = Field(pattern=_CYCLE)
    answered_by: Literal["jlis", "hub"] = Field(
        "jlis", description="jlis: J-LIS answered; hub: the hub answered at once (no number to ask with)"
    )
    records: tuple[SurvivalOutcomeRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

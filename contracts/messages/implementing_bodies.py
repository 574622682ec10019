"""The other implementing bodies (他の実施機関): claims forwarded electronically (ワンストップサービス).

Since 被用者年金一元化 (2015-10-01) a claim for 厚生年金 may be filed at any one implementing body
(実施機関, 厚生年金保険法 第2条の5): 日本年金機構 (第1号), 国家公務員共済組合 and its federation
(第2号), 地方公務員共済組合 (第3号), 日本私立学校振興・共済事業団 (第4号). The body that received it
forwards (回付) it to the other bodies concerned, and each decides and pays its own part. The
federation's 事務 (6), 年金請求書等を他の実施機関に電子回付する事務, is a 構成組合's alone::

    pension ──ClaimForwardingRequested──▶ hub ──ClaimForwarding (per destination)──▶ adapter ──▶ 他の実施機関
    pension ◀──ClaimForwardingOutcomes─── hub ◀──ForwardingReceipt───────────────── adapter ◀── 他の実施機関

The claimant (and, for a survivor's claim, the deceased) travel by usage number from the pension system; the
hub adds their numbers sealed for ``implementing_bodies``. The scanned pages of the claim (届書画像) travel by
name and SHA-256 digest only, never as images. Which claims the one-stop service covers is declared once here
(:data:`ONE_STOP`, :data:`NOT_ONE_STOP`); the hub refuses the others at its door, naming why.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Final

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.envelope import ACTOR_PATTERN
from contracts.purpose_table import default_table
from contracts.purposes import IB_CLAIM_FORWARDING
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.text import NumberFreeText
from contracts.usage_number import UsageNumber

__all__ = [
    "CLAIM_FORWARDING_PURPOSE",
    "MAX_CLAIMS",
    "MAX_PAGES",
    "NOT_ONE_STOP",
    "ONE_STOP",
    "ClaimForwarding",
    "ClaimForwardingOutcomes",
    "ClaimForwardingRequested",
    "ClaimKind",
    "ClaimOutcome",
    "ClaimRequest",
    "ForwardedClaim",
    "ForwardingReceipt",
    "ForwardingStatus",
    "ImplementingBody",
    "ReturnedClaim",
    "ScannedPage",
    "claimant_number_field",
    "deceased_number_field",
]

MAX_CLAIMS: Final = 500
"""The most claims one message (and so one forwarding file) holds."""
MAX_PAGES: Final = 30
"""The most scanned pages one claim lists."""

CLAIM_FORWARDING_PURPOSE: Final = default_table().use(IB_CLAIM_FORWARDING).purpose
"""Claims forwarded to the other implementing bodies: the only purpose under which they receive numbers."""


class ClaimKind(StrEnum):
    """What a claim asks for (the pension system's kinds; only :data:`ONE_STOP` kinds are forwarded)."""

    OLD_AGE_SPECIAL = "old_age_special"
    """特別支給の老齢厚生年金 決定請求."""
    OLD_AGE_EARLY = "old_age_early"
    """老齢厚生年金 決定請求 (繰上げ)."""
    OLD_AGE_DEFERRED = "old_age_deferred"
    """老齢厚生年金 決定請求 (繰下げ)."""
    SURVIVORS = "survivors"
    """遺族厚生年金 決定請求 (names the deceased too)."""
    DISABILITY = "disability"
    """障害厚生年金・障害手当金 決定請求: not one-stop."""
    OLD_AGE_AT_65 = "old_age_at_65"
    """The 本来支給 claim at 65 of a 特別支給 recipient (turn-around claim): not one-stop."""
    PRE_UNIFICATION = "pre_unification"
    """A 共済年金 whose right arose before 一元化 (2015-10-01): not one-stop."""


ONE_STOP: Final = frozenset(
    {ClaimKind.OLD_AGE_SPECIAL, ClaimKind.OLD_AGE_EARLY, ClaimKind.OLD_AGE_DEFERRED, ClaimKind.SURVIVORS}
)
"""The claims one body receives for all (老齢厚生年金 特別支給・繰上げ・繰下げ, 遺族厚生年金)."""

NOT_ONE_STOP: Final[Mapping[ClaimKind, str]] = {
    ClaimKind.DISABILITY: (
        "障害厚生年金・障害手当金の請求は初診日に加入していた実施機関に提出する (ワンストップの対象外)"
    ),
    ClaimKind.OLD_AGE_AT_65: (
        "特別支給の受給者の65歳からの本来支給の請求は各実施機関に提出する (ワンストップの対象外)"
    ),
    ClaimKind.PRE_UNIFICATION: "一元化 (2015-10-01) 前に受給権が発生した共済年金の請求はワンストップの対象外",
}
"""Why each other kind is not forwarded: the refusal the pension system is told."""


class ImplementingBody(StrEnum):
    """The implementing bodies a claim is forwarded to (厚生年金保険法 第2条の5), by 被保険者の種別."""

    JPS = "jps"
    """日本年金機構 (第1号厚生年金被保険者期間)."""
    KKR = "kkr"
    """国家公務員共済組合連合会 (第2号)."""
    LOCAL = "local"
    """another 地方公務員共済組合 (第3号) [inferred: one code for all of them]."""
    SHIGAKU = "shigaku"
    """日本私立学校振興・共済事業団 (第4号)."""


class ScannedPage(ContractModel):
    """One scanned page of the claim (届書画像ファイル), by name and SHA-256 digest: never the image."""

    name: NumberFreeText = Field(pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


_BASIC_PENSION_NUMBER = r"^[0-9]{10}$"
"""基礎年金番号: ten digits (4-digit 記号 and 6-digit 番号), never an Individual Number's twelve."""


class ClaimRequest(ContractModel):
    """One claim the 構成組合 received, as the pension system names it (usage numbers only)."""

    record_seq: int = Field(ge=0)
    kind: ClaimKind
    received_on: date = Field(description="受付年月日")
    claimant: UsageNumber
    basic_pension_number: str = Field(pattern=_BASIC_PENSION_NUMBER)
    deceased: UsageNumber | None = None
    deceased_basic_pension_number: str | None = Field(None, pattern=_BASIC_PENSION_NUMBER)
    destinations: tuple[ImplementingBody, ...] = Field(min_length=1, max_length=4)
    pages: tuple[ScannedPage, ...] = Field(min_length=1, max_length=MAX_PAGES)

    @model_validator(mode="after")
    def _shape(self) -> ClaimRequest:
        if len(set(self.destinations)) != len(self.destinations):
            raise ValueError("a claim names each destination once")
        survivor = self.kind is ClaimKind.SURVIVORS
        if survivor != (self.deceased is not None and self.deceased_basic_pension_number is not None):
            raise ValueError("a survivor's claim, and only one, names the deceased and their 基礎年金番号")
        return self


def _unique_seqs(seqs: list[int]) -> None:
    if len(set(seqs)) != len(seqs):
        raise ValueError("record_seq repeats")


@register("pension.claim_forwarding.requested", 1)
class ClaimForwardingRequested(ContractModel):
    """Claims a 構成組合 received, to forward to the other implementing bodies (事務 (6))."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    records: tuple[ClaimRequest, ...] = Field(min_length=1, max_length=MAX_CLAIMS)

    @model_validator(mode="after")
    def _seqs(self) -> ClaimForwardingRequested:
        _unique_seqs([r.record_seq for r in self.records])
        return self


def claimant_number_field(record_seq: int) -> str:
    """The field a claimant's number is sealed under in a forwarding (bound to its message id)."""
    return f"claims.{record_seq}.individual_number"


def deceased_number_field(record_seq: int) -> str:
    """The field the deceased's number is sealed under in a forwarding."""
    return f"claims.{record_seq}.deceased_individual_number"


class ForwardedClaim(ContractModel):
    """One claim as the destination receives it: numbers sealed for ``implementing_bodies``."""

    record_seq: int = Field(ge=0)
    kind: ClaimKind
    received_on: date
    individual_number: SealedNumber | None = None
    basic_pension_number: str = Field(pattern=_BASIC_PENSION_NUMBER)
    deceased_individual_number: SealedNumber | None = None
    deceased_basic_pension_number: str | None = Field(None, pattern=_BASIC_PENSION_NUMBER)
    pages: tuple[ScannedPage, ...] = Field(min_length=1, max_length=MAX_PAGES)

    @model_validator(mode="after")
    def _one_stop(self) -> ForwardedClaim:
        if self.kind not in ONE_STOP:
            raise ValueError("only a one-stop claim is forwarded")
        if self.kind is not ClaimKind.SURVIVORS and (
            self.deceased_individual_number is not None or self.deceased_basic_pension_number is not None
        ):
            raise ValueError("only a survivor's claim names the deceased")
        return self


@register("implementing_bodies.claim.forwarding", 1)
class ClaimForwarding(ContractModel):
    """The claims of one batch for one destination: the adapter writes them as one forwarding file."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    destination: ImplementingBody
    forwarded_by: str = Field(pattern=ACTOR_PATTERN, description="the 構成組合 that received the claims")
    claims: tuple[ForwardedClaim, ...] = Field(min_length=1, max_length=MAX_CLAIMS)

    @model_validator(mode="after")
    def _seqs(self) -> ClaimForwarding:
        _unique_seqs([c.record_seq for c in self.claims])
        return self


class ReturnedClaim(ContractModel):
    """A claim the destination returned (返戻): its record, the item at fault if any, a reason code."""

    record_seq: int = Field(ge=0)
    field: str | None = Field(None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    reason: str = Field(pattern=r"^[ER][0-9]{3}$")


@register("implementing_bodies.receipt", 1)
class ForwardingReceipt(ContractModel):
    """What the destination said about one forwarding file: the claims it took and those it returned."""

    forwarding: str = Field(pattern=r"^IB-FWD-(jps|kkr|local|shigaku)-[0-9a-f]{32}\.csv$")
    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    destination: ImplementingBody
    received_on: date
    accepted: tuple[int, ...] = Field((), max_length=MAX_CLAIMS)
    returned: tuple[ReturnedClaim, ...] = Field((), max_length=MAX_CLAIMS)

    @model_validator(mode="after")
    def _each_once(self) -> ForwardingReceipt:
        _unique_seqs([*self.accepted, *(r.record_seq for r in self.returned)])
        return self


class ForwardingStatus(StrEnum):
    """What became of one claim for one destination."""

    FORWARDED = "forwarded"
    """The destination took it (回付済)."""
    RETURNED = "returned"
    """The destination returned it (返戻), with its reason."""
    REFUSED = "refused"
    """The hub did not forward it: not a one-stop claim, or a number it may not carry."""


class ClaimOutcome(ContractModel):
    """One claim's outcome for one destination (``None``: every destination, refused by the hub)."""

    record_seq: int = Field(ge=0)
    destination: ImplementingBody | None = None
    status: ForwardingStatus
    reason: str | None = Field(None, pattern=r"^(not_one_stop|not_permitted|[ER][0-9]{3})$")
    message: NumberFreeText | None = Field(None, max_length=600)


@register("pension.claim_forwarding.outcomes", 1)
class ClaimForwardingOutcomes(ContractModel):
    """What became of a batch's claims, for the pension system (no number, ever)."""

    batch_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    outcomes: tuple[ClaimOutcome, ...] = Field(min_length=1, max_length=MAX_CLAIMS * 4)

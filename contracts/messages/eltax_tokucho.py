"""eLTAX special collection (年金からの個人住民税特別徴収, 年金特徴): the notices of the yearly cycle.

The federation (年金保険者, 特別徴収義務者コード 700) and the municipalities exchange notices through eLTAX
(地方税法 第321条の7の2 ff.): 00 target notices in May, 01 request notices by July 31, results and
changes through the year (see ``docs/formats/eltax.md``). Part of :mod:`contracts.messages.eltax`, which
re-exports everything here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Final

from pydantic import Field, model_validator

from contracts.base import ContractModel
from contracts.messages.common import ChunkInfo, PlainText
from contracts.registry import register
from contracts.sealing import SealedNumber
from contracts.usage_number import UsageNumber, UsageNumberKind

__all__ = [
    "CATEGORIES",
    "FROM_FEDERATION",
    "FROM_MUNICIPALITIES",
    "EltaxTokuchoInbound",
    "EltaxTokuchoNotice",
    "EltaxTokuchoRecord",
    "InstructionKind",
    "NumberCheck",
    "Sex",
    "TokuchoAmounts",
    "TokuchoInstruction",
    "TokuchoInstructions",
    "TokuchoNoticeCode",
    "TokuchoNoticeRequested",
    "TokuchoRecord",
]

MAX_RECORDS = 50_000
_TOKUCHO_MUNICIPALITY = r"^[0-9]{5}$"
_FULLWIDTH_KANA = r"^[ァ-ヴー・\u3000]+$"


class TokuchoNoticeCode(StrEnum):
    """通知内容コード of the special collection exchange."""

    TARGET = "00"
    """特別徴収対象者情報 (May): the federation's list of people who may be collected from."""
    REQUEST = "01"
    """特別徴収依頼通知 (July): the municipality's request with the amounts."""
    REQUEST_RESULT = "02"
    """特別徴収依頼処理結果通知."""
    COLLECTION_RESULT = "22"
    """特別徴収結果通知 (odd months, after each even-month payment)."""
    ADDITIONAL_CANDIDATE = "30"
    """特別徴収追加候補者情報."""
    ADDITIONAL_REQUEST = "31"
    """特別徴収追加依頼通知."""
    ADDITIONAL_RESULT = "32"
    """特別徴収追加依頼処理結果通知."""
    LOSS = "41"
    """資格喪失等の通知: death, moving out, special circumstances, exemption."""
    LOSS_RESULT = "42"
    """資格喪失等処理結果通知."""
    PROVISIONAL_CHANGE = "61"
    """仮徴収額変更通知."""
    PROVISIONAL_CHANGE_RESULT = "62"
    """仮徴収額変更処理結果通知."""


_C = TokuchoNoticeCode
FROM_FEDERATION: Final = frozenset(
    {
        _C.TARGET,
        _C.REQUEST_RESULT,
        _C.COLLECTION_RESULT,
        _C.ADDITIONAL_CANDIDATE,
        _C.ADDITIONAL_RESULT,
        _C.LOSS_RESULT,
        _C.PROVISIONAL_CHANGE_RESULT,
    }
)
"""Notices the federation (年金保険者) sends to municipalities."""
FROM_MUNICIPALITIES: Final = frozenset({_C.REQUEST, _C.ADDITIONAL_REQUEST, _C.LOSS, _C.PROVISIONAL_CHANGE})
"""Notices municipalities send to the federation."""
CATEGORIES: Final[dict[TokuchoNoticeCode, frozenset[str]]] = {
    _C.TARGET: frozenset({"01", "02", "70"}),  # 新規者, 前年度継続者, ダミー
    _C.REQUEST: frozenset({"01", "02", "03"}),  # 対象者, 対象者(住所地特例), 非対象者
    _C.ADDITIONAL_REQUEST: frozenset({"01", "02", "03"}),
    _C.COLLECTION_RESULT: frozenset(
        {"00", "01", "02", "03", "05", "10"}
    ),  # 正常, 失権, 差止, 不足, 他制度中止
    _C.ADDITIONAL_CANDIDATE: frozenset({"01", "02"}),  # 新規者, 住所変更者
    _C.LOSS: frozenset({"01", "02", "03", "04"}),  # 死亡, 転出, 特別事情, 適用除外
}
"""各種区分 allowed per notice (D-code); a notice absent here echoes the category it answers, if any."""


class Sex(StrEnum):
    """性別 (1 男, 2 女 on the wire)."""

    MALE = "male"
    FEMALE = "female"


class TokuchoAmounts(ContractModel):
    """The amounts a notice may carry (each notice uses some of them), in yen."""

    annual_pension: int | None = Field(None, ge=0, lt=10**11, description="年金年額 (00, 30)")
    previous_year_tax: int | None = Field(None, ge=0, lt=10**11, description="前年度特別徴収税額 (00, 30)")
    main_october: int | None = Field(None, ge=0, lt=10**11, description="本徴収 10月 (01, 31)")
    main_december: int | None = Field(None, ge=0, lt=10**11, description="本徴収 12月 (01, 31)")
    main_february: int | None = Field(None, ge=0, lt=10**11, description="本徴収 2月 (01, 31)")
    provisional_april: int | None = Field(None, ge=0, lt=10**11, description="仮徴収 4月 (01, 31, 61)")
    provisional_june: int | None = Field(None, ge=0, lt=10**11, description="仮徴収 6月 (01, 31, 61)")
    provisional_august: int | None = Field(None, ge=0, lt=10**11, description="仮徴収 8月 (01, 31, 61)")
    collected: int | None = Field(None, ge=0, lt=10**11, description="徴収額 (22)")


class TokuchoRecord(ContractModel):
    """One person in a special collection notice, as the layout carries them (no number)."""

    record_seq: int = Field(ge=0)
    municipality_code: str = Field(pattern=_TOKUCHO_MUNICIPALITY)
    usage_number: UsageNumber = Field(description="共済年金証書記号番号")
    basic_pension_number: str = Field(pattern=r"^[0-9]{10}$", description="基礎年金番号")
    pension_code: str = Field(pattern=r"^[0-9]{4}$", description="年金コード")
    birth_date: date
    sex: Sex
    kana_name: str = Field(min_length=1, max_length=25, pattern=_FULLWIDTH_KANA)
    name: PlainText = Field(min_length=1, max_length=25)
    postal_code: str | None = Field(None, pattern=r"^[0-9]{7}$")
    kana_address: PlainText | None = Field(None, min_length=1, max_length=80)
    address: PlainText | None = Field(None, min_length=1, max_length=80)
    category: str | None = Field(None, pattern=r"^[0-9]{2}$", description="各種区分")
    result: str | None = Field(None, pattern=r"^[0-9]{2}$", description="処理結果")
    event_date: date | None = Field(None, description="各種年月日")
    amounts: TokuchoAmounts = TokuchoAmounts()

    @model_validator(mode="after")
    def _certificate_key(self) -> TokuchoRecord:
        if self.usage_number.kind is not UsageNumberKind.PENSION_CERTIFICATE:
            raise ValueError("a special collection record is keyed by the pension certificate number")
        return self


def _categories_fit(code: TokuchoNoticeCode, records: tuple[TokuchoRecord, ...]) -> None:
    allowed = CATEGORIES.get(code)
    for r in records:
        if allowed is not None and r.category not in allowed:
            raise ValueError(f"record_seq {r.record_seq}: category is not one of notice {code.value}")


@register("pension.tokucho.notice_requested", 1)
class TokuchoNoticeRequested(ContractModel):
    """A notice the federation sends to municipalities, from the pension system (usage numbers only)."""

    chunk: ChunkInfo
    notice_code: TokuchoNoticeCode
    fiscal_year: int = Field(ge=2019, le=2100, description="the 年度 the collection serves")
    created_on: date = Field(description="作成年月日 of the notice files")
    records: tuple[TokuchoRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _from_federation(self) -> TokuchoNoticeRequested:
        if self.notice_code not in FROM_FEDERATION:
            raise ValueError("the federation does not send this notice")
        _categories_fit(self.notice_code, self.records)
        return self


class EltaxTokuchoRecord(TokuchoRecord):
    """A notice record on the eLTAX leg, with the number sealed (only where the notice carries one)."""

    individual_number: SealedNumber | None = None


@register("eltax.tokucho.notice", 1)
class EltaxTokuchoNotice(ContractModel):
    """A notice for the eLTAX adapter, which writes one file per municipality.

    Only the target notice (00) carries numbers, sealed for eLTAX under ``records.<seq>.individual_number``.
    """

    chunk: ChunkInfo
    notice_code: TokuchoNoticeCode
    fiscal_year: int = Field(ge=2019, le=2100)
    created_on: date
    records: tuple[EltaxTokuchoRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _numbers_only_in_targets(self) -> EltaxTokuchoNotice:
        if self.notice_code not in FROM_FEDERATION:
            raise ValueError("the federation does not send this notice")
        _categories_fit(self.notice_code, self.records)
        if self.notice_code is not TokuchoNoticeCode.TARGET and any(
            r.individual_number for r in self.records
        ):
            raise ValueError("only the target notice (00) carries Individual Numbers")
        return self


@register("eltax.tokucho.inbound", 1)
class EltaxTokuchoInbound(ContractModel):
    """A municipality's notice (01, 31, 41, 61), as the eLTAX adapter read it from one file.

    Numbers the file carried are sealed for the hub under ``records.<seq>.individual_number``, where
    ``<seq>`` is the record's position among the file's data records (from 1).
    """

    source_file: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    notice_code: TokuchoNoticeCode
    municipality_code: str = Field(pattern=_TOKUCHO_MUNICIPALITY)
    created_on: date
    records: tuple[EltaxTokuchoRecord, ...] = Field(min_length=1, max_length=MAX_RECORDS)

    @model_validator(mode="after")
    def _from_municipality(self) -> EltaxTokuchoInbound:
        if self.notice_code not in FROM_MUNICIPALITIES:
            raise ValueError("municipalities do not send this notice")
        _categories_fit(self.notice_code, self.records)
        if any(r.municipality_code != self.municipality_code for r in self.records):
            raise ValueError("every record of a municipality's notice names that municipality")
        return self


class InstructionKind(StrEnum):
    """What the pension system must do for one person."""

    START_DEDUCTION = "start_deduction"
    """依頼 (01, 31): deduct the amounts from the payments they name."""
    NO_DEDUCTION = "no_deduction"
    """非対象者 (01, 31 category 03): nothing to deduct."""
    STOP_DEDUCTION = "stop_deduction"
    """資格喪失 (41): stop deducting from the event on; the reason is in ``category``."""
    CHANGE_PROVISIONAL = "change_provisional"
    """仮徴収額変更 (61): deduct the new provisional amounts in April, June and August."""


class NumberCheck(StrEnum):
    """How a number in a municipality's notice compared with the vault (it is never relinked)."""

    MATCH = "match"
    MISMATCH = "mismatch"
    """Held for a person to resolve; never linked automatically (the 2023 紐付け誤り)."""
    ABSENT = "absent"
    """The notice carried no number."""
    UNKNOWN_PERSON = "unknown_person"
    """The vault knows no one by this usage number."""


class TokuchoInstruction(ContractModel):
    """One instruction for the pension system, by usage number (no number, ever)."""

    record_seq: int = Field(ge=0)
    usage_number: UsageNumber
    basic_pension_number: str = Field(pattern=r"^[0-9]{10}$")
    pension_code: str = Field(pattern=r"^[0-9]{4}$")
    instruction: InstructionKind
    category: str | None = Field(None, pattern=r"^[0-9]{2}$")
    event_date: date | None = None
    amounts: TokuchoAmounts = TokuchoAmounts()
    number_check: NumberCheck


@register("pension.tokucho.instructions", 1)
class TokuchoInstructions(ContractModel):
    """Deduction instructions and changes from one municipality's notice, for the pension system."""

    source_file: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.-]+$")
    notice_code: TokuchoNoticeCode
    municipality_code: str = Field(pattern=_TOKUCHO_MUNICIPALITY)
    created_on: date
    records: tuple[TokuchoInstruction, ...] = Field(min_length=1, max_length=MAX_RECORDS)

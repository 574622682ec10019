"""Builders for the eLTAX tests: wire records, contracts and real sealing, all synthetic."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from adapters.eltax import EltaxAdapter, EltaxSimulator, MunicipalRegister, Rates
from adapters.eltax.report import (
    ReportDependantEntry,
    ReportFile,
    ReportMinorEntry,
    ReportPayer,
    ReportRecord,
    ReportSpouseEntry,
)
from adapters.eltax.tokucho import NoticeFile, NoticeHeader, NoticeRecord
from adapters.statutory import Amounts
from contracts.envelope import Envelope, new_envelope
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    DependantKind,
    EltaxPaymentReportSubmission,
    EltaxTokuchoNotice,
    EltaxTokuchoRecord,
    PaymentAmounts,
    PaymentReportPayer,
    SealedDependant,
    SealedSpouse,
    Sex,
    SubmissionRecord,
    TokuchoAmounts,
    TokuchoNoticeCode,
    notice_number_field,
    purpose_of_notice,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.keyring import Keyring, generate_keyring

PAYER = ReportPayer("全国市町村職員共済組合連合会", "東京都千代田区平河町二丁目", "03-0000-0000")
CONTRACT_PAYER = PaymentReportPayer(name=PAYER.name, address=PAYER.address, phone=PAYER.phone)
MUNICIPALITIES = ("01100", "13101", "27100")
NAMES = (
    ("佐藤　茂", "サトウ　シゲル"),
    ("鈴木　和子", "スズキ　カズコ"),
    ("渡辺　健一", "ワタナベ　ケンイチ"),
)


def number(seed: int) -> IndividualNumber:
    """A synthetic number, the same for the same seed."""
    return synthetic_individual_number(random.Random(seed))


def certificate(index: int) -> UsageNumber:
    """The pension certificate usage number of person ``index``."""
    return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{index:010d}")


def report_record(index: int, *, people: bool = True) -> ReportRecord:
    """A full row: numbers, a spouse, two dependants and a minor when ``people``."""
    name, kana = NAMES[index % len(NAMES)]
    return ReportRecord(
        recipient_number=certificate(index).value,
        name=name,
        kana_name=kana,
        address="北海道札幌市本町三丁目１２番５号",
        birth_date=date(1940, 1, 1) + timedelta(days=97 * index),
        sections=(Amounts(2_400_000, None, 60_000, None), None, Amounts(paid=120_000)),
        spouse_status=1 if people else None,
        elderly_dependants=1 if people else None,
        other_dependants=1 if people else None,
        under_16_dependants=1 if people else None,
        social_insurance=180_000,
        remarks="扶養親族の異動あり" if index % 2 else None,
        individual_number=number(10 * index + 1),
        spouse=ReportSpouseEntry("佐藤　節子", number(10 * index + 2)) if people else None,
        dependants=(
            ReportDependantEntry("佐藤　一郎", "サトウ　イチロウ", "elderly", number(10 * index + 3)),
            ReportDependantEntry("佐藤　春子", "サトウ　ハルコ", "other", None),
        )
        if people
        else (),
        minors=(ReportMinorEntry("佐藤　明", number(10 * index + 4)),) if people else (),
    )


def report_file(count: int = 3, municipality: str = "13101") -> ReportFile:
    """A submission of ``count`` rows."""
    return ReportFile(PAYER, 2026, municipality, tuple(report_record(i) for i in range(count)))


def notice_record(index: int, code: TokuchoNoticeCode = TokuchoNoticeCode.TARGET) -> NoticeRecord:
    """A data record valid in notice ``code``."""
    name, kana = NAMES[index % len(NAMES)]
    target: dict[str, Any] = {
        "category": "01",
        "amounts": (1_800_000, 36_000, None, None, None, None),
        "individual_number": number(index),
    }
    request: dict[str, Any] = {"category": "01", "amounts": (10_000, 9_000, 9_000, 6_000, 6_000, 6_000)}
    per_code: dict[TokuchoNoticeCode, dict[str, Any]] = {
        TokuchoNoticeCode.TARGET: target,
        TokuchoNoticeCode.ADDITIONAL_CANDIDATE: target,
        TokuchoNoticeCode.REQUEST: request,
        TokuchoNoticeCode.ADDITIONAL_REQUEST: request,
        TokuchoNoticeCode.COLLECTION_RESULT: {
            "category": "00",
            "event_date": date(2026, 10, 15),
            "amounts": (9_000, None, None, None, None, None),
        },
        TokuchoNoticeCode.LOSS: {"category": "01", "event_date": date(2026, 11, 3)},
        TokuchoNoticeCode.PROVISIONAL_CHANGE: {
            "event_date": date(2027, 4, 1),
            "amounts": (None, None, None, 7_000, 7_000, 7_000),
        },
    }
    return NoticeRecord(
        certificate_number=certificate(index).value,
        basic_pension_number=f"{1_000_000_000 + index}",
        pension_code="1150",
        birth_date=date(1945, 5, 5) + timedelta(days=index),
        sex=Sex.MALE if index % 2 else Sex.FEMALE,
        kana_name=kana,
        kanji_name=name,
        postal_code="0600001",
        kana_address="サッポロシ　チュウオウク",
        kanji_address="北海道札幌市本町三丁目１２番５号",
        **per_code.get(code, {"result": "00"}),
    )


def notice_file(
    code: TokuchoNoticeCode = TokuchoNoticeCode.TARGET,
    count: int = 3,
    municipality: str = "01100",
    created_on: date = date(2026, 5, 20),
) -> NoticeFile:
    """A notice of ``count`` records."""
    header = NoticeHeader(municipality, code, created_on)
    return NoticeFile(header, tuple(notice_record(i, code) for i in range(count)))


class Sealing:
    """The real sealing of the hub, with a keyring made in memory."""

    def __init__(self) -> None:
        self.keyring: Keyring = generate_keyring()
        self.sealer = HpkeSealer(self.keyring.sealing_for())
        self.for_eltax = HpkeUnsealer(self.keyring.unsealing("eltax"))
        self.for_hub = HpkeUnsealer(self.keyring.unsealing("hub"))

    def adapter(self) -> EltaxAdapter:
        """An adapter holding the eLTAX and hub keys."""
        return EltaxAdapter(self.for_eltax, self.sealer)

    def seal(self, value: IndividualNumber | None, message_id: uuid.UUID, field: str) -> str | None:
        """``value`` sealed for eLTAX, or ``None``."""
        if value is None:
            return None
        return self.sealer.seal(value, recipient="eltax", message_id=message_id, field=field)


def simulator(**rates: float) -> EltaxSimulator:
    """A simulator with a fixed clock and seed."""
    return EltaxSimulator(MunicipalRegister(seed=7, rates=Rates(**rates)), clock=lambda: date(2027, 1, 20))


def submission(
    sealing: Sealing, count: int = 6, *, message_id: uuid.UUID | None = None, name: str | None = None
) -> Envelope:
    """A hub -> eLTAX submission envelope over three municipalities, numbers sealed for eLTAX."""
    mid = message_id or uuid.uuid4()
    records = []
    for i in range(count):
        kanji, kana = NAMES[i % len(NAMES)]
        records.append(
            SubmissionRecord(
                record_seq=i,
                usage_number=certificate(i),
                destination_municipality_code=MUNICIPALITIES[i % len(MUNICIPALITIES)],
                name=name if (name is not None and i == count - 1) else kanji,
                kana_name=kana,
                address="東京都千代田区本町一丁目１番１号",
                birth_date=date(1948, 2, 1) + timedelta(days=41 * i),
                sections=(PaymentAmounts(paid=2_000_000, withheld=40_000), None, None),
                individual_number=sealing.seal(number(100 + i), mid, recipient_number_field(i)),
                spouse=SealedSpouse(
                    name="佐藤　節子",
                    individual_number=sealing.seal(number(200 + i), mid, spouse_number_field(i)),
                ),
                dependants=(
                    SealedDependant(
                        name="佐藤　一郎",
                        kana_name="サトウ　イチロウ",
                        kind=DependantKind.ELDERLY,
                        individual_number=sealing.seal(
                            number(300 + i), mid, report_dependant_number_field(i, 0)
                        ),
                    ),
                    SealedDependant(
                        name="佐藤　明",
                        kana_name="サトウ　アキラ",
                        kind=DependantKind.UNDER_16,
                        individual_number=sealing.seal(
                            number(400 + i), mid, report_dependant_number_field(i, 1)
                        ),
                    ),
                ),
            )
        )
    payload = EltaxPaymentReportSubmission(
        chunk=ChunkInfo(batch_id="b1", chunk_index=0, chunk_count=1, total_records=count),
        tax_year=2026,
        payer=CONTRACT_PAYER,
        records=tuple(records),
    )
    return new_envelope(
        message_type="eltax.payment_report.submission",
        schema_version=1,
        source="hub",
        destination="eltax",
        purpose=PAYMENT_REPORT_PURPOSE,
        payload=payload_dict(payload),
        message_id=mid,
    )


def notice(
    sealing: Sealing,
    code: TokuchoNoticeCode,
    count: int = 6,
    *,
    created_on: date = date(2026, 5, 20),
    message_id: uuid.UUID | None = None,
) -> Envelope:
    """A hub -> eLTAX notice envelope over two municipalities (numbers only in a target notice)."""
    mid = message_id or uuid.uuid4()
    records = []
    for i in range(count):
        wire = notice_record(i, code)
        amounts_by_code = {
            TokuchoNoticeCode.TARGET: TokuchoAmounts(
                annual_pension=2_400_000 + 10_000 * i, previous_year_tax=48_000
            ),
            TokuchoNoticeCode.COLLECTION_RESULT: TokuchoAmounts(collected=9_000),
        }
        records.append(
            EltaxTokuchoRecord(
                record_seq=i,
                municipality_code=MUNICIPALITIES[i % 2],
                usage_number=certificate(i),
                basic_pension_number=wire.basic_pension_number,
                pension_code=wire.pension_code,
                birth_date=wire.birth_date,
                sex=wire.sex,
                kana_name=wire.kana_name,
                name=wire.kanji_name,
                postal_code=wire.postal_code,
                kana_address=wire.kana_address,
                address=wire.kanji_address,
                category=wire.category if code is not TokuchoNoticeCode.TARGET else ("01", "02")[i % 2],
                result=wire.result,
                event_date=wire.event_date,
                amounts=amounts_by_code.get(code, TokuchoAmounts()),
                individual_number=sealing.seal(number(500 + i), mid, notice_number_field(i))
                if code is TokuchoNoticeCode.TARGET
                else None,
            )
        )
    payload = EltaxTokuchoNotice(
        chunk=ChunkInfo(batch_id="t1", chunk_index=0, chunk_count=1, total_records=count),
        notice_code=code,
        fiscal_year=2026,
        created_on=created_on,
        records=tuple(records),
    )
    return new_envelope(
        message_type="eltax.tokucho.notice",
        schema_version=1,
        source="hub",
        destination="eltax",
        purpose=purpose_of_notice(code),
        payload=payload_dict(payload),
        message_id=mid,
    )


def decoded(envelope: Envelope) -> Decoded:
    """An envelope as the adapter's host hands it over: encoded, then decoded against the registry."""
    return decode(encode(envelope))

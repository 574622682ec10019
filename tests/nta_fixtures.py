"""Builders for the NTA tests: wire slips, submissions and real sealing (HPKE), all synthetic."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from adapters.nta import NtaAdapter, NtaSimulator
from adapters.nta.slip import SlipFile, SlipMinor, SlipPayer, SlipPerson, SlipRecord
from adapters.statutory import Amounts
from contracts.envelope import Envelope, Purpose, new_envelope
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.eltax import (
    DependantKind,
    PaymentAmounts,
    PaymentReportPayer,
    SealedDependant,
    SealedSpouse,
    SubmissionRecord,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.messages.nta import WITHHOLDING_SLIP_PURPOSE, NtaWithholdingSlipSubmission
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.bundles import SealingKeys, UnsealingKeys
from hub.infra.keys.keyring import RECIPIENTS, Keyring, generate_keyring

CORPORATE_NUMBER = "1234567890123"
PAYER = SlipPayer(
    "全国市町村職員共済組合連合会", "東京都千代田区平河町二丁目", CORPORATE_NUMBER, "03-0000-0000"
)
CONTRACT_PAYER = PaymentReportPayer(
    name=PAYER.name, address=PAYER.address, phone=PAYER.phone, corporate_number=CORPORATE_NUMBER
)
NAMES = (
    ("佐藤　茂", "サトウ　シゲル"),
    ("鈴木　和子", "スズキ　カズコ"),
    ("渡辺　健一", "ワタナベ　ケンイチ"),
)
TAX_YEAR = 2026
RECEIVED = date(2027, 1, 20)


def number(seed: int) -> IndividualNumber:
    """A synthetic number, the same for the same seed."""
    return synthetic_individual_number(random.Random(seed))


def slip_record(index: int, *, people: bool = True) -> SlipRecord:
    """A full slip: numbers, a spouse, a dependant and a minor when ``people``."""
    name, kana = NAMES[index % len(NAMES)]
    return SlipRecord(
        name=name,
        kana_name=kana,
        address="北海道札幌市本町三丁目１２番５号",
        birth_date=date(1940, 1, 1) + timedelta(days=97 * index),
        sections=(Amounts(2_400_000, None, 60_000, None), None, Amounts(paid=120_000), None),
        spouse_status=1 if people else 2,
        elderly_dependants=1 if people else None,
        other_dependants=1 if people else None,
        under_16_dependants=1 if people else None,
        social_insurance=180_000,
        remarks="扶養親族の異動あり" if index % 2 else None,
        individual_number=number(10 * index + 1),
        spouse=SlipPerson("佐藤　節子", None, "resident", number(10 * index + 2)) if people else None,
        dependants=(
            SlipPerson("佐藤　一郎", "サトウ　イチロウ", "resident", number(10 * index + 3)),
            SlipPerson("佐藤　春子", "サトウ　ハルコ", "non_resident_student", None),
        )
        if people
        else (),
        minors=(SlipMinor("佐藤　明", "サトウ　アキラ", "resident"),) if people else (),
    )


def slip_file(count: int = 3) -> SlipFile:
    """A submission of ``count`` slips."""
    return SlipFile(PAYER, TAX_YEAR, tuple(slip_record(i) for i in range(count)))


class Sealing:
    """The real sealing of the hub (HPKE), with a keyring made in memory.

    Until the keyring names ``nta`` among its recipients (step 4 of docs/adapters.md), the tests seal for
    ``nta`` with a key pair of their own: one generated for another recipient, held under the name ``nta``
    alone, so that nothing else opens what is sealed for ``nta`` here.
    """

    def __init__(self) -> None:
        self.keyring: Keyring = generate_keyring()
        if "nta" in RECIPIENTS:
            self.sealer = HpkeSealer(self.keyring.sealing_for())
            self.for_nta = HpkeUnsealer(self.keyring.unsealing("nta"))
        else:
            others = {r: self.keyring.public_keys(r) for r in RECIPIENTS if r != "jlis"}
            self.sealer = HpkeSealer(SealingKeys({**others, "nta": self.keyring.public_keys("jlis")}))
            self.for_nta = HpkeUnsealer(UnsealingKeys("nta", self.keyring.sealing_keys("jlis")))

    def adapter(self) -> NtaAdapter:
        """An adapter holding the NTA key."""
        return NtaAdapter(self.for_nta)

    def seal(
        self, value: IndividualNumber | None, message_id: uuid.UUID, field: str, recipient: str = "nta"
    ) -> str | None:
        """``value`` sealed for ``recipient``, or ``None``."""
        if value is None:
            return None
        return self.sealer.seal(value, recipient=recipient, message_id=message_id, field=field)


def simulator(reject_every: int | None = None) -> NtaSimulator:
    """A simulator with a fixed clock (refusing no file unless ``reject_every``)."""
    return NtaSimulator(clock=lambda: RECEIVED, reject_every=reject_every)


def certificate(index: int) -> UsageNumber:
    """The pension certificate usage number of person ``index``."""
    return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{index:010d}")


def submission_record(sealing: Sealing, mid: uuid.UUID, i: int, *, minors: int = 1) -> SubmissionRecord:
    """Recipient ``i``: a spouse, two deductible dependants (one sealed) and ``minors`` under 16."""
    kanji, kana = NAMES[i % len(NAMES)]
    under_16 = tuple(
        SealedDependant(name="佐藤　明", kana_name="サトウ　アキラ", kind=DependantKind.UNDER_16)
        for _ in range(minors)
    )
    return SubmissionRecord(
        record_seq=i,
        usage_number=certificate(i),
        destination_municipality_code="13101",
        name=kanji,
        kana_name=kana,
        address="東京都千代田区本町一丁目１番１号",
        birth_date=date(1948, 2, 1) + timedelta(days=41 * i),
        sections=(PaymentAmounts(paid=2_000_000, withheld=40_000), None, PaymentAmounts(paid=100_000)),
        individual_number=sealing.seal(number(100 + i), mid, recipient_number_field(i)),
        spouse=SealedSpouse(
            name="佐藤　節子", individual_number=sealing.seal(number(200 + i), mid, spouse_number_field(i))
        ),
        dependants=(
            SealedDependant(
                name="佐藤　一郎",
                kana_name="サトウ　イチロウ",
                kind=DependantKind.ELDERLY,
                individual_number=sealing.seal(number(300 + i), mid, report_dependant_number_field(i, 0)),
            ),
            *under_16,
            SealedDependant(name="佐藤　春子", kana_name="サトウ　ハルコ", kind=DependantKind.SPECIFIC),
        ),
    )


def submission(
    sealing: Sealing,
    count: int = 3,
    *,
    message_id: uuid.UUID | None = None,
    purpose: Purpose = WITHHOLDING_SLIP_PURPOSE,
    records: tuple[SubmissionRecord, ...] | None = None,
) -> Envelope:
    """A hub -> NTA submission envelope of ``count`` slips, numbers sealed for ``nta``."""
    mid = message_id or uuid.uuid4()
    payload = NtaWithholdingSlipSubmission(
        chunk=ChunkInfo(batch_id="w1", chunk_index=0, chunk_count=1, total_records=count),
        tax_year=TAX_YEAR,
        payer=CONTRACT_PAYER,
        records=records or tuple(submission_record(sealing, mid, i) for i in range(count)),
    )
    return new_envelope(
        message_type="nta.withholding_slip.submission",
        schema_version=1,
        source="hub",
        destination="nta",
        purpose=purpose,
        payload=payload_dict(payload),
        message_id=mid,
    )


def decoded(envelope: Envelope) -> Decoded:
    """An envelope as the adapter's host hands it over: encoded, then decoded against the registry."""
    return decode(encode(envelope))

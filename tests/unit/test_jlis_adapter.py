"""The J-LIS adapter end to end: inquiry -> request file -> simulator -> result file -> result envelope."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from adapters.jlis import (
    JLIS_PURPOSE,
    JlisAdapter,
    JlisFileError,
    JlisMappingError,
    JlisPurposeRefused,
    JlisSimulator,
    JlisWireError,
    Rates,
    SyntheticPopulation,
    parse_request,
    parse_result,
    request_file_name,
    result_file_name,
    result_message_id,
    write_result,
)
from contracts.envelope import Envelope, LegalBasis, Purpose, new_envelope
from contracts.errors import SealError, UnknownMessageType
from contracts.ids import looks_like_a_number, stable_id
from contracts.individual_number import IndividualNumber
from contracts.link import Adapter, CounterpartFile, Simulator
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import (
    JlisInquiryRecord,
    JlisSurvivalChangeInquiry,
    JlisSurvivalChangeResult,
    MoveKind,
    SurvivalOutcome,
    UnmatchedReason,
)
from contracts.redaction import find_numbers
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.sealing import is_sealed
from tests.adapter_links import JlisGateway

CYCLE = "2025-10"


class FakeSealing:
    """A tiny reversible stand-in for the hub's sealing: XOR with a keystream bound to the context.

    Not cryptography: it only keeps the contract (recipient, message id and field are bound; a moved or
    foreign seal fails with SealError) and keeps the digits out of the text.
    """

    def __init__(self, owner: str) -> None:
        self.owner = owner

    @staticmethod
    def _stream(recipient: str, message_id: uuid.UUID, field: str) -> bytes:
        return hashlib.sha512(f"{recipient}|{message_id}|{field}".encode()).digest()

    def seal(self, number: IndividualNumber, *, recipient: str, message_id: uuid.UUID, field: str) -> str:
        plain = b"renkei-fake-seal" + number.reveal().encode() + b"0" * 20
        stream = self._stream(recipient, message_id, field)
        body = bytes(a ^ b for a, b in zip(plain, stream, strict=False))
        text = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"sealed:v1:{recipient}:fake1:{text}"

    def unseal(self, sealed: str, *, message_id: uuid.UUID, field: str) -> IndividualNumber:
        parts = sealed.split(":")
        if len(parts) != 5 or parts[2] != self.owner:
            raise SealError("not sealed for this owner")
        body = base64.urlsafe_b64decode(parts[4] + "=" * (-len(parts[4]) % 4))
        stream = self._stream(self.owner, message_id, field)
        plain = bytes(a ^ b for a, b in zip(body, stream, strict=False))
        if not plain.startswith(b"renkei-fake-seal"):
            raise SealError("the seal does not open for this message and field")
        return IndividualNumber(plain[16:28].decode())


HUB_SEAL = FakeSealing("hub")  # the hub seals for jlis and opens what is sealed for the hub
JLIS_SEAL = FakeSealing("jlis")  # the adapter opens what is sealed for jlis


def _find_kinds(pop: SyntheticPopulation) -> dict[str, int]:
    """One person per kind of answer, found through the pure expected_outcome."""
    found: dict[str, int] = {}
    for index in range(pop.size):
        outcome = pop.expected_outcome(index, CYCLE)
        kind = outcome.outcome.value
        if outcome.move_kind is not None:
            kind += f"/{outcome.move_kind.value}"
        if outcome.unmatched_reason is not None:
            kind += f"/{outcome.unmatched_reason.value}"
        found.setdefault(kind, index)
    return found


@pytest.fixture(scope="module")
def population() -> SyntheticPopulation:
    rates = Rates(
        relocation=0.05,
        moved_in=0.05,
        moved_out_pending=0.05,
        moved_abroad=0.05,
        name_change=0.05,
        number_change=0.02,
        abroad=0.02,
        no_resident_code=0.02,
        not_connected=0.02,
    )
    return SyntheticPopulation(2_000, seed=11, rates=rates)


@pytest.fixture(scope="module")
def kinds(population: SyntheticPopulation) -> dict[str, int]:
    return _find_kinds(population)


def _inquiry(
    indexes: list[int],
    population: SyntheticPopulation,
    *,
    extra_numbers: tuple[IndividualNumber, ...] = (),
    purpose: Purpose = JLIS_PURPOSE,
    chunk: ChunkInfo | None = None,
) -> Decoded:
    message_id = uuid.uuid4()
    numbers = [population.individual_number(i) for i in indexes] + list(extra_numbers)
    records = tuple(
        JlisInquiryRecord(
            record_seq=seq * 3,
            ref=f"ref_{seq:08d}",
            individual_number=HUB_SEAL.seal(
                number, recipient="jlis", message_id=message_id, field=f"records.{seq * 3}.individual_number"
            ),
        )
        for seq, number in enumerate(numbers)
    )
    payload = JlisSurvivalChangeInquiry(
        chunk=chunk
        or ChunkInfo(batch_id="cycle-2025-10", chunk_index=2, chunk_count=5, total_records=240_000),
        cycle=CYCLE,
        as_of=date(2025, 9, 20),
        records=records,
    )
    env = new_envelope(
        message_type="jlis.survival_change.inquiry",
        schema_version=1,
        source="hub",
        destination="jlis",
        purpose=purpose,
        payload=payload_dict(payload),
        message_id=message_id,
        correlation_id=uuid.uuid4(),
    )
    return decode(encode(env))  # through the registry, as the host does


def _round(adapter: JlisAdapter, sim: JlisSimulator, inquiry: Decoded) -> tuple[CounterpartFile, Envelope]:
    out = adapter.from_hub(inquiry)
    assert out.to_hub == ()
    (request,) = out.to_counterpart
    (result,) = JlisGateway(sim).exchange(request)
    back = adapter.from_counterpart(result)
    (envelope,) = back.to_hub
    return result, envelope


def test_protocols_are_met(population: SyntheticPopulation) -> None:
    adapter: Adapter = JlisAdapter(JLIS_SEAL, HUB_SEAL)
    simulator: Simulator = JlisSimulator(population)
    assert adapter.name == "jlis"
    assert simulator.name == "jlis"


def test_request_file_holds_the_unsealed_numbers(population: SyntheticPopulation) -> None:
    inquiry = _inquiry([0, 1, 2], population)
    out = JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(inquiry)
    (file,) = out.to_counterpart
    env = inquiry.envelope
    assert file.counterpart == "jlis"
    assert file.name == request_file_name(env.message_id)
    assert file.correlation_id == str(env.correlation_id)
    assert out.details == {"requested_records": 3}
    request = parse_request(file.content)
    assert request.header.request_id == env.message_id
    assert [r.record_seq for r in request.records] == [0, 3, 6]
    assert [r.individual_number for r in request.records] == [
        population.individual_number(i) for i in (0, 1, 2)
    ]
    # the same inquiry gives the same file (a redelivery is deduplicated downstream by name)
    assert JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(inquiry).to_counterpart == (file,)


def test_every_outcome_kind_round_trips(population: SyntheticPopulation, kinds: dict[str, int]) -> None:
    expected_kinds = {
        "alive",
        "dead",
        "moved/relocation",
        "moved/moved_in",
        "moved/moved_out_pending",
        "moved/moved_abroad",
        "name_changed",
        "number_changed",
        "not_found/abroad",
        "not_found/no_resident_code",
        "not_found/not_connected_municipality",
    }
    assert expected_kinds <= set(kinds)
    indexes = [kinds[k] for k in sorted(expected_kinds)]
    stranger = SyntheticPopulation(10_000, seed=11).individual_number(9_999)  # nobody in `population`
    inquiry = _inquiry(indexes, population, extra_numbers=(stranger,))
    adapter, sim = JlisAdapter(JLIS_SEAL, HUB_SEAL), JlisSimulator(population, fee_units_per_record=2)

    result_file, env = _round(adapter, sim, inquiry)

    assert env.message_type == "jlis.survival_change.result"
    assert env.schema_version == 1
    assert (env.source, env.destination) == ("jlis", "hub")
    assert env.purpose.code == "jlis.survival_change"
    # The purpose table's bases: 住基法 第30条の9 and its 別表第一 items 19, 74 and 77の9.
    assert env.purpose.legal_basis[0] == LegalBasis(law="住民基本台帳法", article="第30条の9")
    assert [b.item for b in env.purpose.legal_basis[1:]] == [
        "別表第一 19の項",
        "別表第一 74の項",
        "別表第一 77の9の項",
    ]
    assert env.message_id == result_message_id(result_file.name)
    assert env.message_id == stable_id(uuid.UUID("2f0d4d55-8e0b-5c52-9a57-6a6c69732e72"), result_file.name)
    assert not looks_like_a_number(env.message_id)
    assert env.correlation_id == inquiry.envelope.correlation_id
    assert env.causation_id == inquiry.envelope.message_id
    assert result_file.name == result_file_name(inquiry.envelope.message_id)

    decoded = decode(encode(env))  # the hub's ingress accepts it
    result = decoded.payload
    assert isinstance(result, JlisSurvivalChangeResult)
    assert result.chunk == ChunkInfo(
        batch_id="cycle-2025-10", chunk_index=2, chunk_count=5, total_records=240_000
    )
    assert result.cycle == CYCLE
    assert result.fee_units == 2 * (len(indexes) + 1)
    assert sim.fee_units == 2 * (len(indexes) + 1)

    by_seq = {r.record_seq: r for r in result.records}
    for seq, index in enumerate(indexes):
        want = population.expected_outcome(index, CYCLE)
        got = by_seq[seq * 3]
        assert got.ref == f"ref_{seq:08d}"
        assert got.outcome is want.outcome
        assert got.death_date == want.death_date
        assert got.move_kind == want.move_kind
        assert got.moved_on == want.moved_on
        assert got.new_name == want.new_name
        assert got.name_changed_on == want.name_changed_on
        assert got.unmatched_reason == want.unmatched_reason
        if want.new_address is None:
            assert got.new_address is None
        else:
            assert got.new_address is not None
            assert got.new_address.text == want.new_address
            assert got.new_address.postal_code == want.postal_code
            assert got.new_address.municipality_code == want.municipality_code
            assert got.new_address.abroad is bool(want.abroad)
        if want.new_individual_number is None:
            assert got.new_individual_number is None
        else:
            assert got.new_individual_number is not None
            assert is_sealed(got.new_individual_number)
            opened = HUB_SEAL.unseal(
                got.new_individual_number,
                message_id=env.message_id,
                field=f"records.{seq * 3}.new_individual_number",
            )
            assert opened == want.new_individual_number == population.individual_number(index, 1)
    last = by_seq[len(indexes) * 3]
    assert last.outcome is SurvivalOutcome.NOT_FOUND
    assert last.unmatched_reason is UnmatchedReason.NUMBER_UNKNOWN
    moved_abroad = by_seq[3 * sorted(expected_kinds).index("moved/moved_abroad")]
    assert moved_abroad.move_kind is MoveKind.MOVED_ABROAD
    assert moved_abroad.new_address is not None
    assert moved_abroad.new_address.abroad


def test_no_plain_number_leaves_in_the_envelope(
    population: SyntheticPopulation, kinds: dict[str, int]
) -> None:
    inquiry = _inquiry([kinds["number_changed"], kinds["alive"]], population)
    _, env = _round(JlisAdapter(JLIS_SEAL, HUB_SEAL), JlisSimulator(population), inquiry)
    text = encode(env).decode()
    assert find_numbers(text) == []
    assert population.individual_number(kinds["number_changed"], 1).reveal() not in text


def test_a_redelivered_result_file_gives_the_same_message(population: SyntheticPopulation) -> None:
    inquiry = _inquiry([3, 4, 5], population)
    adapter, sim = JlisAdapter(JLIS_SEAL, HUB_SEAL), JlisSimulator(population)
    (request,) = adapter.from_hub(inquiry).to_counterpart
    (first,) = sim.handle(request)
    (again,) = sim.handle(request)
    assert first == again  # the simulator is deterministic, byte for byte
    assert sim.fee_units == 6  # and charges every time it is asked
    one, two = adapter.from_counterpart(first), adapter.from_counterpart(again)
    assert one.to_hub[0].message_id == two.to_hub[0].message_id
    assert one.to_hub[0].payload == two.to_hub[0].payload
    assert one.completed_records == 3
    assert sum(v for k, v in one.details.items() if k != "fee_units") == 3
    assert one.details["fee_units"] == 3


def test_other_message_types_are_refused(population: SyntheticPopulation) -> None:
    inquiry = _inquiry([0], population)
    other = replace(inquiry, envelope=inquiry.envelope.model_copy(update={"message_type": "jlis.other"}))
    with pytest.raises(UnknownMessageType):
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(other)
    newer = replace(inquiry, envelope=inquiry.envelope.model_copy(update={"schema_version": 2}))
    with pytest.raises(UnknownMessageType):
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(newer)


def test_a_purpose_without_a_jlis_code_is_refused(population: SyntheticPopulation) -> None:
    purpose = Purpose(
        code="pension.other", legal_basis=(LegalBasis(law="住民基本台帳法", article="第30条の9"),)
    )
    with pytest.raises(JlisPurposeRefused):
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(_inquiry([0], population, purpose=purpose))


def test_a_number_sealed_for_another_message_does_not_open(population: SyntheticPopulation) -> None:
    inquiry = _inquiry([0, 1], population)
    moved = replace(inquiry, envelope=inquiry.envelope.model_copy(update={"message_id": uuid.uuid4()}))
    with pytest.raises(SealError):
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(moved)


def _result_file(population: SyntheticPopulation) -> tuple[CounterpartFile, CounterpartFile]:
    (request,) = JlisAdapter(JLIS_SEAL, HUB_SEAL).from_hub(_inquiry([0, 1], population)).to_counterpart
    (result,) = JlisSimulator(population).handle(request)
    return request, result


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "JLIS-SVQ1-" + "0" * 32 + ".dat"}, "not a J-LIS result file name"),
        ({"name": "result.dat"}, "not a J-LIS result file name"),
        ({"name": "JLIS-SVR1-" + "0" * 32 + ".dat"}, "answers another request"),
        ({"counterpart": "eltax"}, "not from the J-LIS link"),
        ({"correlation_id": "not-a-uuid"}, "correlation id"),
    ],
)
def test_files_that_are_not_ours_are_refused(
    population: SyntheticPopulation, change: dict[str, Any], message: str
) -> None:
    _, result = _result_file(population)
    with pytest.raises(JlisFileError, match=message):
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_counterpart(replace(result, **change))


def test_the_gateway_refuses_an_answer_that_does_not_pair(population: SyntheticPopulation) -> None:
    request, result = _result_file(population)

    class Confused:
        name = "jlis"

        def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
            return [replace(result, correlation_id=str(uuid.uuid4()))]

    with pytest.raises(JlisFileError, match="correlation"):
        JlisGateway(Confused()).exchange(request)


def test_a_malformed_result_file_is_a_wire_error_without_digits(population: SyntheticPopulation) -> None:
    _, result = _result_file(population)
    content = bytearray(result.content)
    content[802 + 745] = ord("x")  # inside record #2's new_individual_number (blank for an alive person)
    with pytest.raises(JlisWireError) as info:
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_counterpart(replace(result, content=bytes(content)))
    assert info.value.record_no == 2
    assert info.value.field == "new_individual_number"


def test_a_record_the_contract_refuses_is_a_mapping_error(population: SyntheticPopulation) -> None:
    _, result = _result_file(population)
    parsed = parse_result(result.content)
    long_name = "A" * 51  # fits the wire's 150 bytes, not the contract's 50 characters
    records = (replace(parsed.records[0], outcome=SurvivalOutcome.NAME_CHANGED, new_name=long_name,
                       name_changed_on=date(2025, 8, 3), death_date=None, move_kind=None, moved_on=None,
                       new_address=None, postal_code=None, municipality_code=None, abroad=None,
                       new_individual_number=None, unmatched_reason=None),)  # fmt: skip
    content = write_result(replace(parsed, records=records))
    with pytest.raises(JlisMappingError) as info:
        JlisAdapter(JLIS_SEAL, HUB_SEAL).from_counterpart(replace(result, content=content))
    assert "new_name" in str(info.value)
    assert long_name not in str(info.value)
    assert info.value.__context__ is None


def test_the_result_envelope_is_valid_json_without_numbers(population: SyntheticPopulation) -> None:
    _, result = _result_file(population)
    env = JlisAdapter(JLIS_SEAL, HUB_SEAL).from_counterpart(result).to_hub[0]
    body = json.loads(encode(env))
    assert body["payload"]["records"][0]["ref"] == "ref_00000000"


def test_the_package_exports_what_it_lists() -> None:
    import adapters.jlis as package

    assert sorted(package.__all__) == sorted(set(package.__all__))
    for name in package.__all__:
        assert getattr(package, name) is not None

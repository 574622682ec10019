"""Number acquisition by 基本4情報 at the J-LIS edge: wire files, the register, the simulator, the adapter."""

from __future__ import annotations

import gc
import hashlib
import json
import tracemalloc
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.jlis import (
    ACQUISITION_PURPOSE,
    JlisAdapter,
    JlisFileError,
    JlisPurposeRefused,
    JlisSimulator,
    JlisWireError,
    NewEntitlementRegister,
    RegisterRates,
    SyntheticPopulation,
    flow_of,
    request_file_name,
    result_file_name,
)
from adapters.jlis.register import FIRST_BIRTH_DAY, normalise_address, variant_notation
from adapters.jlis.wire import markdown_table
from adapters.jlis.wire_acquisition import (
    QUERY_LAYOUTS,
    RESULT_LAYOUTS,
    AcquisitionHeader,
    MatchRow,
    QueryFile,
    QueryRecord,
    ResultFile,
    parse_query,
    parse_result,
    write_query,
    write_result,
)
from contracts.envelope import LegalBasis, Purpose, new_envelope
from contracts.individual_number import synthetic_individual_number
from contracts.link import CounterpartFile
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import (
    BasicInfo,
    JlisAcquisitionQueryRecord,
    JlisNumberAcquisitionQuery,
    JlisNumberAcquisitionResult,
    MatchStatus,
    NoMatchReason,
    Sex,
    basic_info_problem,
    candidate_number_field,
    unique_number_field,
)
from contracts.redaction import find_numbers
from contracts.registry import decode, encode, payload_dict
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.keyring import generate_keyring
from tests.adapter_links import JlisGateway

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "jlis.md"
HEADER = AcquisitionHeader(
    uuid.UUID("3c1e0f0a-6f0b-4e5a-8b7c-2d1f4a5b6c7d"), "acq-1", 0, 2, 7, date(2026, 11, 20)
)
REGISTER = NewEntitlementRegister(5_000, seed=7)


def row(seq: int, status: MatchStatus, count: int, no: int, **kw: Any) -> MatchRow:
    facts: dict[str, Any] = {}
    if status is not MatchStatus.NONE:
        facts = {
            "individual_number": synthetic_individual_number(),
            "name": "佐藤\u3000茂",
            "birth_date": date(1950, 1, 2),
            "address": "東京都千代田区本町一丁目１番２号",
            "sex": Sex.MALE,
        }
    facts.update(kw)
    return MatchRow(seq, f"ref_{seq:08d}", status, count, no, **facts)


def result_rows() -> tuple[MatchRow, ...]:
    return (
        row(0, MatchStatus.UNIQUE, 1, 1, address_normalised=True),
        row(1, MatchStatus.MULTIPLE_CANDIDATES, 2, 1),
        row(1, MatchStatus.MULTIPLE_CANDIDATES, 2, 2, sex=Sex.FEMALE),
        row(2, MatchStatus.NONE, 0, 0, no_match_reason=NoMatchReason.NO_RECORD),
        row(3, MatchStatus.NONE, 0, 0, no_match_reason=NoMatchReason.NO_RESIDENT_CODE),
    )


# -- the contract's rule: four items, or three without sex ------------------------------------------


def test_three_items_without_sex_are_enough_and_less_is_refused() -> None:
    born = date(1950, 1, 2)
    assert basic_info_problem(name="佐藤\u3000茂", birth_date=born, sex=None, address="東京都") is None
    assert BasicInfo(name="a", birth_date=born, address="b").items == 3
    assert BasicInfo(name="a", birth_date=born, address="b", sex=Sex.FEMALE).items == 4
    problem = basic_info_problem(name="佐藤", birth_date=born, sex=Sex.MALE, address=None)
    assert problem is not None
    assert "住所" in problem
    assert "氏名" not in problem.split("missing:")[1]
    # A blank name (a full-width space only) counts as missing.
    assert basic_info_problem(name="\u3000", birth_date=born, sex=None, address="x") is not None
    with pytest.raises(ValueError, match="birth_date"):
        BasicInfo(name="a", address="b", sex=Sex.MALE)


# -- wire --------------------------------------------------------------------------------------------


def test_query_and_result_round_trip() -> None:
    query = QueryFile(
        HEADER,
        (
            QueryRecord(
                0,
                "ref_00000000",
                "髙橋\u3000𠮷子",
                date(1961, 2, 3),
                "大阪府大阪市中央一丁目２番３号",
                Sex.FEMALE,
                "タカハシ\u3000ヨシコ",
            ),
            QueryRecord(5, "ref_00000005", "佐藤\u3000茂", date(1950, 1, 2), "東京都千代田区本町1-1-2"),
        ),
    )
    content = write_query(query)
    assert len(content) == 4 * 902
    assert parse_query(content) == query
    result = ResultFile(HEADER, fee_units=4, rows=result_rows())
    content = write_result(result)
    assert len(content) == 7 * 1002
    assert parse_result(content) == result
    assert write_result(parse_result(content)) == content


def test_a_query_record_without_an_address_is_refused_whole() -> None:
    good = write_query(QueryFile(HEADER, (QueryRecord(0, "ref_00000000", "a", date(1950, 1, 2), "x"),)))
    record = bytearray(good[902 : 902 * 2])
    field = next(f for f in QUERY_LAYOUTS[1].fields if f.name == "address")
    record[field.offset : field.offset + field.length] = b" " * field.length
    broken = good[:902] + bytes(record) + good[902 * 2 :]
    with pytest.raises(JlisWireError, match=r"record #2, field address: is required"):
        parse_query(broken)


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ((row(0, MatchStatus.UNIQUE, 1, 1, individual_number=None),), "individual_number"),
        ((row(0, MatchStatus.NONE, 0, 0),), "no_match_reason"),
        ((row(0, MatchStatus.MULTIPLE_CANDIDATES, 2, 1),), "candidate_count"),  # the second is missing
        (
            (row(0, MatchStatus.MULTIPLE_CANDIDATES, 2, 2), row(0, MatchStatus.MULTIPLE_CANDIDATES, 2, 1)),
            "candidate_no",
        ),
        ((row(0, MatchStatus.UNIQUE, 2, 1),), "candidate_count"),
        ((row(0, MatchStatus.UNIQUE, 1, 1, no_match_reason=NoMatchReason.NO_RECORD),), "no_match_reason"),
    ],
)
def test_result_rows_breaking_the_status_rules_are_refused(rows: tuple[MatchRow, ...], field: str) -> None:
    with pytest.raises(JlisWireError, match=f"field {field}"):
        write_result(ResultFile(HEADER, 1, rows))


def test_split_candidates_are_refused_by_the_parser() -> None:
    rows = result_rows()
    content = write_result(ResultFile(HEADER, 1, rows))
    size = 1002
    records = [content[i : i + size] for i in range(0, len(content), size)]
    # Move the record of seq 2 between the two candidates of seq 1 (the frame stays valid).
    shuffled = [records[0], records[1], records[2], records[4], records[3], *records[5:]]
    header_and_data = b"".join(shuffled[:-1])
    trailer = bytearray(shuffled[-1])
    trailer[8:72] = hashlib.sha256(header_and_data).hexdigest().encode()
    with pytest.raises(JlisWireError, match=r"record #3, field candidate_count: the record lacks candidates"):
        parse_result(header_and_data + bytes(trailer))


_TEXT = st.text(
    # Bidirectional controls (Cf) are refused by the layout like control characters: never drawn here.
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
        blacklist_characters="\x85\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069",
    ),
    min_size=1,
    max_size=30,
).filter(lambda t: t == t.strip(" ") and t.strip())


@st.composite
def queries(draw: st.DrawFn) -> QueryFile:
    count = draw(st.integers(1, 6))
    seqs = draw(st.lists(st.integers(0, 10**9 - 1), min_size=count, max_size=count, unique=True))
    records = tuple(
        QueryRecord(
            record_seq=seq,
            ref=f"ref_{draw(st.integers(0, 10**8 - 1)):08d}",
            name=draw(_TEXT),
            birth_date=draw(st.dates(date(1900, 1, 1), date(2099, 12, 31))),
            address=draw(_TEXT),
            sex=draw(st.sampled_from([None, Sex.MALE, Sex.FEMALE])),
            name_kana=draw(st.none() | _TEXT),
        )
        for seq in seqs
    )
    return QueryFile(HEADER, records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_any_query_round_trips(query: QueryFile) -> None:
    assert parse_query(write_query(query)) == query


@settings(max_examples=60, deadline=None)
@given(queries(), st.data())
def test_a_truncated_or_flipped_query_is_refused_never_misread(query: QueryFile, data: st.DataObject) -> None:
    content = write_query(query)
    cut = data.draw(st.integers(1, len(content) - 1))
    with pytest.raises(JlisWireError):
        parse_query(content[:cut])
    position = data.draw(st.integers(0, len(content) - 1))
    flipped = bytearray(content)
    flipped[position] ^= 0x01
    with pytest.raises(JlisWireError):
        parse_query(bytes(flipped))


def test_the_documentation_shows_the_acquisition_layouts() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for lay in QUERY_LAYOUTS + RESULT_LAYOUTS:
        assert markdown_table(lay) in doc, f"docs/formats/jlis.md is out of date for the {lay.name}"


def test_file_names_pair_within_one_flow_only() -> None:
    rid = uuid.uuid4()
    assert request_file_name(rid, "acquisition").startswith("JLIS-NAQ1-")
    assert flow_of(result_file_name(rid, "acquisition")) == "acquisition"
    assert flow_of(request_file_name(rid)) == "survival"
    with pytest.raises(JlisFileError):
        flow_of("JLIS-XXQ1-" + rid.hex + ".dat")


# -- the register ------------------------------------------------------------------------------------


def test_every_entitlement_gets_the_answer_the_register_promises() -> None:
    seen: Counter[tuple[MatchStatus, NoMatchReason | None, bool]] = Counter()
    for index in range(REGISTER.size):
        e = REGISTER.entitlement(index)
        answer = REGISTER.find(name=e.name, birth_date=e.birth_date, address=e.address, sex=e.sex)
        assert answer == e.expected, f"entitlement {index}"
        seen[(answer.status, answer.no_match_reason, answer.address_normalised)] += 1
    statuses = {status for status, _, _ in seen}
    assert statuses == set(MatchStatus)
    assert seen[(MatchStatus.NONE, NoMatchReason.NO_RESIDENT_CODE, False)] > 50
    assert seen[(MatchStatus.NONE, NoMatchReason.NO_RECORD, False)] > 50
    assert seen[(MatchStatus.UNIQUE, None, True)] > 200  # found after normalising the address notation


def test_namesakes_of_the_other_sex_are_one_with_four_items_and_two_with_three() -> None:
    twin_index = next(
        i
        for i in range(REGISTER.size)
        if REGISTER.entitlement(i).expected.status is MatchStatus.MULTIPLE_CANDIDATES
    )
    person, twin = REGISTER.person(twin_index), REGISTER.person(twin_index, twin=True)
    assert (person.name, person.birth_date, person.address) == (twin.name, twin.birth_date, twin.address)
    assert person.sex is not twin.sex
    assert person.individual_number != twin.individual_number
    four = REGISTER.find(name=person.name, birth_date=person.birth_date, address=person.address, sex=twin.sex)
    assert four.status is MatchStatus.UNIQUE
    assert four.candidates == (twin,)
    three = REGISTER.find(name=person.name, birth_date=person.birth_date, address=person.address)
    assert three.candidates == (person, twin)
    assert REGISTER.locate(twin.individual_number) == (twin_index, True)
    assert REGISTER.locate(person.individual_number) == (twin_index, False)


def test_address_notations_normalise_alike() -> None:
    assert normalise_address("東京都千代田区本町二丁目１番３号") == "東京都千代田区本町2-1-3"
    assert normalise_address("東京都千代田区本町２－１－３") == "東京都千代田区本町2-1-3"
    assert normalise_address("東京都千代田区本町2丁目1番地3") == "東京都千代田区本町2-1-3"
    assert variant_notation("和歌山県和歌山市松原三丁目４番１７号") == "和歌山県和歌山市松原3-4-17"


def test_people_born_on_a_day_are_found_without_an_index_and_memory_stays_flat() -> None:
    big = NewEntitlementRegister(10_000_000, seed=3)
    gc.collect()
    tracemalloc.start()
    try:
        for index in (0, 1, 4_999_999, 9_999_999):
            person = big.person(index)
            assert index in big.born_on(person.birth_date)
            assert len(big.born_on(person.birth_date)) <= 548  # ceil(10**7 / SPAN)
            answer = big.find(
                name=person.name, birth_date=person.birth_date, address=person.address, sex=person.sex
            )
            assert person in answer.candidates or not person.has_resident_code
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000
    assert big.born_on(FIRST_BIRTH_DAY.replace(year=1930)) == []


def test_register_rates_are_checked() -> None:
    with pytest.raises(ValueError, match="shares"):
        RegisterRates(twin=0.6, three_items=0.5)


# -- the simulator and the adapter -------------------------------------------------------------------


def _query_envelope(entitlements: list[int], register: NewEntitlementRegister = REGISTER):
    records = []
    for seq, index in enumerate(entitlements):
        e = register.entitlement(index)
        info = BasicInfo(name=e.name, birth_date=e.birth_date, sex=e.sex, address=e.address)
        records.append(JlisAcquisitionQueryRecord(record_seq=seq, ref=f"ref_{index:08d}", basic_info=info))
    payload = JlisNumberAcquisitionQuery(
        chunk=ChunkInfo(batch_id="acq-1", chunk_index=0, chunk_count=1, total_records=len(records)),
        as_of=date(2026, 11, 20),
        records=tuple(records),
    )
    env = new_envelope(
        message_type="jlis.number_acquisition.query",
        schema_version=1,
        source="hub",
        destination="jlis",
        purpose=ACQUISITION_PURPOSE,
        payload=payload_dict(payload),
    )
    return decode(encode(env))


def _kinds() -> dict[str, int]:
    wanted: dict[str, int] = {}
    for index in range(REGISTER.size):
        a = REGISTER.entitlement(index).expected
        key = f"{a.status.value}:{a.no_match_reason}:{a.address_normalised}"
        wanted.setdefault(key, index)
    return wanted


def test_query_to_result_through_the_simulator_seals_every_number_for_the_hub() -> None:
    keyring = generate_keyring()
    adapter = JlisAdapter(HpkeUnsealer(keyring.unsealing("jlis")), HpkeSealer(keyring.sealing_for()))
    simulator = JlisSimulator(SyntheticPopulation(10, seed=1), register=REGISTER, fee_units_per_acquisition=3)
    kinds = _kinds()
    indexes = sorted(kinds.values())
    message = _query_envelope(indexes)
    out = adapter.from_hub(message)
    (query_file,) = out.to_counterpart
    assert flow_of(query_file.name) == "acquisition"
    assert not find_numbers(query_file.content.decode())  # the query carries no number
    (answer,) = JlisGateway(simulator).exchange(query_file)
    result = adapter.from_counterpart(answer)
    (env,) = result.to_hub
    assert not find_numbers(json.dumps(env.model_dump(mode="json"), ensure_ascii=False))
    decoded = decode(encode(env))
    payload = decoded.payload
    assert isinstance(payload, JlisNumberAcquisitionResult)
    assert payload.fee_units == 3 * len(indexes)
    assert simulator.acquisition_fee_units == simulator.fee_units == 3 * len(indexes)
    assert simulator.acquisition_records_answered == len(indexes)
    hub = HpkeUnsealer(keyring.unsealing("hub"))
    for record in payload.records:
        index = indexes[record.record_seq]
        expected = REGISTER.entitlement(index).expected
        assert record.match_status is expected.status
        assert record.no_match_reason is expected.no_match_reason
        assert record.address_normalised is expected.address_normalised
        if record.match_status is MatchStatus.UNIQUE:
            assert record.individual_number is not None
            number = hub.unseal(
                record.individual_number,
                message_id=env.message_id,
                field=unique_number_field(record.record_seq),
            )
            assert number == expected.candidates[0].individual_number
        listed = expected.candidates if record.match_status is MatchStatus.MULTIPLE_CANDIDATES else ()
        for candidate, person in zip(record.candidates, listed, strict=True):
            number = hub.unseal(
                candidate.individual_number,
                message_id=env.message_id,
                field=candidate_number_field(record.record_seq, candidate.candidate_no),
            )
            assert number == person.individual_number
            assert candidate.matched.sex is person.sex


def test_the_survival_fee_and_the_acquisition_fee_are_counted_apart() -> None:
    keyring = generate_keyring()
    adapter = JlisAdapter(HpkeUnsealer(keyring.unsealing("jlis")), HpkeSealer(keyring.sealing_for()))
    simulator = JlisSimulator(SyntheticPopulation(10, seed=1), register=None, fee_units_per_record=2)
    (query_file,) = adapter.from_hub(_query_envelope([0, 1])).to_counterpart
    (answer,) = simulator.handle(query_file)
    payload = adapter.from_counterpart(answer).to_hub[0].payload
    # Without a register J-LIS finds nobody.
    assert {r["match_status"] for r in payload["records"]} == {"none"}
    assert simulator.acquisition_fee_units == simulator.fee_units == 2  # one unit per query record by default


def test_a_query_for_another_purpose_is_refused() -> None:
    keyring = generate_keyring()
    adapter = JlisAdapter(HpkeUnsealer(keyring.unsealing("jlis")), HpkeSealer(keyring.sealing_for()))
    message = _query_envelope([0])
    other = Purpose(code="jlis.survival_change", legal_basis=(LegalBasis(law="x", article="y"),))
    env = message.envelope.model_copy(update={"purpose": other})
    with pytest.raises(JlisPurposeRefused):
        adapter.from_hub(type(message)(env, message.payload))


def test_a_result_answering_another_query_is_refused() -> None:
    keyring = generate_keyring()
    adapter = JlisAdapter(HpkeUnsealer(keyring.unsealing("jlis")), HpkeSealer(keyring.sealing_for()))
    rid, other = uuid.uuid4(), uuid.uuid4()
    content = write_result(
        ResultFile(
            replace(HEADER, request_id=other),
            1,
            (row(0, MatchStatus.NONE, 0, 0, no_match_reason=NoMatchReason.NO_RECORD),),
        )
    )
    with pytest.raises(JlisFileError):
        adapter.from_counterpart(
            CounterpartFile("jlis", result_file_name(rid, "acquisition"), content, str(rid))
        )

"""The simulated intermediate server: codes, the network's errors, late answers, 副本, notices, state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest

from adapters.intermediate_server import (
    DEMO_MUNICIPALITIES,
    IntermediateServerSimulator,
    IsFileError,
    Municipality,
    ProviderUnavailable,
    file_name,
    parse_name,
)
from adapters.intermediate_server.wire import (
    ACCEPTANCE,
    ANSWER,
    CODE_REQUEST,
    CODE_RESULT,
    DUPLICATE_REQUEST,
    DUPLICATE_RESULT,
    NOTICE,
    QUERY,
    CodeRequestRow,
    DuplicateRequestRow,
    FileHeader,
    QueryRow,
    parse,
    write,
)
from contracts.errors import is_transient
from contracts.individual_number import synthetic_individual_number
from contracts.link import CounterpartFile, Simulator
from contracts.messages.intermediate_server import DuplicateOperation, IsError, PensionKind
from tests.adapter_links import IntermediateServerGateway

CORRELATION = str(uuid.UUID(int=99))
TAX, RESIDENT = "TM00000000000021", "TM00000000000011"


def atena(i: int) -> str:
    return f"{100_000_000_000_000 + i:015d}"


def sim(**kw) -> IntermediateServerSimulator:
    return IntermediateServerSimulator(**{"seed": 5, "code_failure_every": 0, "no_data_every": 0, **kw})


def request(kind: str, layout, rows, provider: str | None = None, request_id: uuid.UUID | None = None):
    rid = request_id or uuid.uuid4()
    content = write(layout, FileHeader(kind, rid, "b1", provider), rows)
    return CounterpartFile("intermediate_server", file_name(kind, rid, provider), content, CORRELATION)


def acquire(s: IntermediateServerSimulator, people: int, seed: int = 1) -> dict[str, str]:
    import random

    rng = random.Random(seed)
    rows = [CodeRequestRow(i, atena(i), synthetic_individual_number(rng)) for i in range(people)]
    (answer,) = IntermediateServerGateway(s).exchange(request("FGQ1", CODE_REQUEST, rows))
    _, results = parse(CODE_RESULT, answer.content)
    codes: dict[str, str] = {}
    for r in results:
        if r.acquired:
            assert r.code is not None, "an acquired person's row carries the code"
            codes[r.atena_no] = r.code
    return codes


def query_row(
    i: int, code: str, *, record_id: str | None = None, spi: str = TAX, provider: str = "131016", **kw
):
    row = QueryRow(
        i,
        record_id or f"REC{i:08d}",
        atena(i),
        code,
        spi,
        "J084",
        84,
        "第86条",
        59,
        provider,
        2025 if spi == TAX else None,
    )
    return replace(row, **kw)


def accepted(files: Sequence[CounterpartFile]) -> dict[str, tuple[str, str | None]]:
    (reception,) = [f for f in files if parse_name(f.name)[0] == "SKA1"]
    return {r.record_id: (r.status, r.message) for r in parse(ACCEPTANCE, reception.content)[1]}


def test_it_is_a_simulator_and_issues_one_code_per_person_deterministically():
    s = sim()
    as_simulator: Simulator = s  # mypy checks that it meets the protocol
    assert as_simulator is s
    codes = acquire(s, 5)
    assert len(codes) == 5
    assert all(c.isalpha() and c.isupper() for c in codes.values())
    assert acquire(sim(), 5) == codes, "same seed, same people: same codes"
    assert acquire(sim(seed=6), 5) != codes
    assert s.codes_issued == 5


def test_some_people_get_no_code_and_an_atena_keeps_its_person():
    assert acquire(sim(code_failure_every=1), 3) == {}
    s = sim()
    acquire(s, 2, seed=1)
    assert acquire(s, 2, seed=2) == {}, "another person under a registered 宛名番号 gets no code"


def test_the_networks_errors_at_reception():
    s = sim()
    codes = acquire(s, 3)
    gateway = IntermediateServerGateway(s)
    rows = [
        query_row(0, codes[atena(0)]),
        query_row(1, "WRONGCODEXX"),
        replace(query_row(2, codes[atena(2)]), atena_no=atena(9)),
        query_row(0, codes[atena(0)], record_id="REC00000099", spi="TM00000000000002"),
        query_row(0, codes[atena(0)], record_id="REC00000098", legacy_item=35),
    ]
    status = accepted(gateway.exchange(request("SKQ1", QUERY, rows, "131016")))
    assert status["REC00000000"] == ("accepted", None)
    assert status["REC00000001"][0] is IsError.CODE_NOT_ACQUIRED
    assert status["REC00000002"] == (
        IsError.CODE_NOT_ACQUIRED,
        f"指定された団体内統合宛名番号「{atena(9)}」は符号が未取得です。",
    )
    assert status["REC00000099"] == (
        IsError.QUERY_NOT_PERMITTED,
        # The code in full-width characters, as the network writes it.
        "指定された特定個人情報名「ＴＭ０００００００００００００２」の照会は許可されていません。",
    )
    assert status["REC00000098"][0] is IsError.QUERY_NOT_PERMITTED
    again = accepted(gateway.exchange(request("SKQ1", QUERY, [query_row(0, codes[atena(0)])], "131016")))
    assert again["REC00000000"] == (IsError.DUPLICATE_RECORD_ID, "「レコード識別番号」が既に存在しています。")
    assert s.refusals == {
        IsError.CODE_NOT_ACQUIRED: 2,
        IsError.QUERY_NOT_PERMITTED: 2,
        IsError.DUPLICATE_RECORD_ID: 1,
    }
    unknown = accepted(
        gateway.exchange(request("SKQ1", QUERY, [query_row(1, "X" * 8, provider="999999")], "999999"))
    )
    assert unknown["REC00000001"][0] is IsError.CODE_NOT_ACQUIRED


def test_an_unknown_provider_is_not_permitted():
    s = sim()
    codes = acquire(s, 1)
    files = IntermediateServerGateway(s).exchange(
        request("SKQ1", QUERY, [query_row(0, codes[atena(0)], provider="999999")], "999999")
    )
    assert accepted(files)["REC00000000"][0] is IsError.QUERY_NOT_PERMITTED


def test_late_answers_are_released_by_ticks_until_confirmed():
    s = sim(municipalities=(Municipality("271004", "大阪市", delay_ticks=2),))
    codes = acquire(s, 2)
    rows = [
        query_row(0, codes[atena(0)], provider="271004"),
        query_row(1, codes[atena(1)], spi=RESIDENT, provider="271004"),
    ]
    immediate = s.handle(request("SKQ1", QUERY, rows, "271004"))
    assert [parse_name(f.name)[0] for f in immediate] == ["SKA1"]
    assert s.tick() == []
    (answer,) = s.tick()
    assert parse_name(answer.name)[0] == "SKR1"
    assert s.late_released == 1
    assert s.tick() == [answer], "unconfirmed: offered again"
    s.confirm([answer.name])
    assert s.tick() == []
    _, answers = parse(ANSWER, answer.content)
    assert [a.record_id for a in answers] == ["REC00000000", "REC00000001"]
    assert answers[0].tax_year == 2025
    assert answers[0].per_capita_levy in (0, 5000)
    assert answers[1].household_size is not None
    assert answers[1].household_size >= 1
    assert answers[1].relationship
    assert all(
        a.provider_name == "大阪市" and a.detail_status == "09" and a.spi_status == "01" for a in answers
    )


def test_a_municipality_without_delay_answers_with_the_reception():
    s = sim()
    codes = acquire(s, 1)
    files = s.handle(request("SKQ1", QUERY, [query_row(0, codes[atena(0)])], "131016"))
    assert [parse_name(f.name)[0] for f in files] == ["SKA1", "SKR1"]


def test_a_provider_that_is_down_refuses_the_file_until_it_is_back():
    s = sim(municipalities=(Municipality("401307", "福岡市", outage_deliveries=2),))
    codes = acquire(s, 1)
    file = request("SKQ1", QUERY, [query_row(0, codes[atena(0)], provider="401307")], "401307")
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="401307") as info:
            s.handle(file)
        assert is_transient(info.value)
    assert accepted(s.handle(file))["REC00000000"] == ("accepted", None)
    assert s.refusals[IsError.PROVIDER_UNAVAILABLE] == 2
    assert s.queries_received == 3


def test_no_data():
    s = sim(no_data_every=1)
    codes = acquire(s, 1)
    files = s.handle(request("SKQ1", QUERY, [query_row(0, codes[atena(0)])], "131016"))
    (answer,) = parse(ANSWER, files[1].content)[1]
    assert answer.spi_status == "02"
    assert answer.tax_year is None
    assert answer.message == "該当する特定個人情報が存在しません。"


def test_a_redelivered_file_gets_the_same_answer_and_no_duplicate_error():
    s = sim()
    codes = acquire(s, 1)
    file = request("SKQ1", QUERY, [query_row(0, codes[atena(0)])], "131016")
    first, second = s.handle(file), s.handle(file)
    assert [f.content for f in first] == [f.content for f in second]
    assert accepted(second)["REC00000000"] == ("accepted", None)


def dup(
    seq: int, record_id: str, op: DuplicateOperation = DuplicateOperation.INSERT, who: int = 0
) -> DuplicateRequestRow:
    row = DuplicateRequestRow(
        seq, op, record_id, atena(who), "TM00000000000051", "NENKIN01", 1, date(2026, 4, 1)
    )
    if op is DuplicateOperation.DELETE:
        return row
    return replace(
        row,
        pension_kind=PensionKind.RETIREMENT,
        annual_amount=1_000_000,
        suspended=False,
        entitled_from=date(2015, 4, 1),
    )


def test_duplicate_data_registration_and_its_errors():
    s = sim(notice_every=0)
    acquire(s, 1)
    rows = [
        dup(0, "D001"),
        dup(1, "D001", DuplicateOperation.UPDATE),
        dup(2, "D001"),
        dup(3, "D002", DuplicateOperation.DELETE),
        dup(4, "D003", who=7),
        dup(5, "D001", DuplicateOperation.DELETE),
        dup(6, "D001", DuplicateOperation.UPDATE),
    ]
    (result,) = IntermediateServerGateway(s).exchange(request("DBQ1", DUPLICATE_REQUEST, rows))
    status = [(r.record_seq, r.status) for r in parse(DUPLICATE_RESULT, result.content)[1]]
    assert status == [
        (0, "registered"),
        (1, "registered"),
        (2, IsError.DUPLICATE_RECORD_ID),
        (3, IsError.RECORD_NOT_FOUND),
        (4, IsError.CODE_NOT_ACQUIRED),
        (5, "registered"),
        (6, IsError.RECORD_NOT_FOUND),
    ]
    assert s.tick() == []


def test_inserted_duplicates_are_served_and_noticed_later():
    s = sim(notice_delay_ticks=2)
    acquire(s, 2)
    s.handle(
        request(
            "DBQ1",
            DUPLICATE_REQUEST,
            [dup(0, "D010"), dup(1, "D011", who=1), dup(2, "D010", DuplicateOperation.UPDATE)],
        )
    )
    assert s.tick() == []
    (notice,) = s.tick()
    assert parse_name(notice.name)[0] == "TKN1"
    head, rows = parse(NOTICE, notice.content)
    assert head.batch_id is None
    assert [r.record_id for r in rows] == ["D010", "D011"]
    for r in rows:
        assert r.provided_at >= r.requested_at
        assert r.requester_name
        assert r.jimu_name
        assert r.current_item in (1, 2, 83)
        assert r.legacy_item == (None if r.current_item == 83 else r.current_item)


def test_registrations_survive_a_restart_with_a_state_file(tmp_path):
    state = tmp_path / "state" / "is.jsonl"
    s = sim(state_file=state, notice_every=0)
    codes = acquire(s, 2)
    s.handle(request("DBQ1", DUPLICATE_REQUEST, [dup(0, "D100")]))
    s.handle(request("SKQ1", QUERY, [query_row(0, codes[atena(0)])], "131016"))
    assert state.stat().st_mode & 0o077 == 0
    assert "D100" in state.read_text()
    assert not any(ch.isdigit() for ch in "".join(codes.values()))

    again = sim(state_file=state, notice_every=0)
    status = accepted(
        again.handle(
            request("SKQ1", QUERY, [query_row(1, codes[atena(1)]), query_row(0, codes[atena(0)])], "131016")
        )
    )
    assert status == {
        "REC00000001": ("accepted", None),
        "REC00000000": (IsError.DUPLICATE_RECORD_ID, "「レコード識別番号」が既に存在しています。"),
    }
    (result,) = again.handle(request("DBQ1", DUPLICATE_REQUEST, [dup(0, "D100")]))
    assert parse(DUPLICATE_RESULT, result.content)[1][0].status is IsError.DUPLICATE_RECORD_ID

    again.forget_codes()
    forgetful = sim(state_file=state)
    status = accepted(
        forgetful.handle(
            request("SKQ1", QUERY, [query_row(1, codes[atena(1)], record_id="NEW00001")], "131016")
        )
    )
    assert status["NEW00001"][0] is IsError.CODE_NOT_ACQUIRED


def test_only_request_files_are_handled():
    s = sim()
    answer = CounterpartFile("intermediate_server", file_name("FGR1", uuid.uuid4()), b"", CORRELATION)
    with pytest.raises(IsFileError):
        s.handle(answer)
    with pytest.raises(IsFileError):
        IntermediateServerGateway(s).exchange(answer)
    with pytest.raises(IsFileError):
        s.handle(CounterpartFile("jlis", file_name("FGQ1", uuid.uuid4()), b"", CORRELATION))


def test_the_demo_municipalities_cover_prompt_late_and_down_providers():
    delays = {m.delay_ticks for m in DEMO_MUNICIPALITIES}
    assert 0 in delays
    assert max(delays) >= 2
    assert any(m.outage_deliveries for m in DEMO_MUNICIPALITIES)
    assert all(len(m.code) == 6 and m.code.isdigit() for m in DEMO_MUNICIPALITIES)

"""副本 change request files: a person's changes contiguous in the file and never split between messages.

(Unit tests on a temporary directory; no broker.)
"""

from __future__ import annotations

import itertools
import json
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.pension import ExchangeDirectory, MalformedPensionFile, PensionAdapter, Reason
from adapters.pension.duplicate_changes import (
    COLUMNS,
    PERSON_RUNS,
    ROW,
    format_change_row,
    parse_change_row,
)
from adapters.pension.errors import IndividualNumberInFile
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.runs import PersonRuns, packed_sizes
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.wire import columns_table
from contracts.envelope import Envelope
from contracts.messages.intermediate_server import (
    MAX_RECORDS,
    DuplicateChangeRecord,
    DuplicateDataChanged,
    DuplicateOperation,
    PensionDuplicateData,
    PensionKind,
)
from contracts.purpose_table import FEDERATION, default_table
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.pension_files import assert_row_refused, drain, fails_only_as_a_file_problem, report_of

ROOT = Path(__file__).resolve().parents[2]
KUMIAI = "m130001"
MESSAGE_TYPE = "pension.duplicate_data.changed"
OP = DuplicateOperation


def usage(person: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{person:08d}")


def change(
    seq: int, person: int, op: DuplicateOperation = OP.INSERT, *, record: int = 0
) -> DuplicateChangeRecord:
    return DuplicateChangeRecord(
        record_seq=seq,
        usage_number=usage(person),
        operation=op,
        record_id=f"D{person:07d}R{record}",
        spi_code="TM00000000000051",
        dataset_item_code="NENKIN01",
        spi_version=1,
        publication_start=date(2026, 4, 1),
        data=None
        if op is OP.DELETE
        else PensionDuplicateData(
            pension_kind=PensionKind.RETIREMENT,
            annual_amount=1_500_000 + seq,
            suspended=op is OP.UPDATE,
            entitled_from=date(2015, 4, 1),
        ),
    )


def people(*runs: int) -> list[DuplicateChangeRecord]:
    """Changes of people 0, 1, ... with ``runs[i]`` changes of person ``i``: an insert, updates, a delete."""
    records: list[DuplicateChangeRecord] = []
    for person, run in enumerate(runs):
        for k in range(run):
            op = OP.INSERT if k == 0 else OP.DELETE if k == run - 1 else OP.UPDATE
            records.append(change(len(records), person, op))
    return records


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


def drop(
    root: Path, records: list[DuplicateChangeRecord], *, batch_id: str, actor: str | None = KUMIAI
) -> Path:
    return PensionRequestsSimulator(root).drop_duplicate_changes(records, batch_id=batch_id, actor=actor)


def changes_of(envelopes: list[Envelope]) -> list[list[DuplicateChangeRecord]]:
    """Each message's changes, in the order the messages were handed out."""
    payloads = [decode(encode(e)).payload for e in envelopes]
    assert all(isinstance(p, DuplicateDataChanged) for p in payloads)
    return [list(p.records) for p in payloads if isinstance(p, DuplicateDataChanged)]


def person_of(record: DuplicateChangeRecord) -> str:
    return record.usage_number.value


def test_a_file_becomes_messages_cut_at_person_boundaries_in_file_order(root: Path) -> None:
    records = people(2, 2, 3, 1, 1)
    path = drop(root, records, batch_id="dup-1")
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=3))

    assert [e.message_type for e in envelopes] == [MESSAGE_TYPE] * 4
    assert {e.purpose for e in envelopes} == {default_table().request_purpose(MESSAGE_TYPE)}
    assert {e.actor for e in envelopes} == {KUMIAI}
    assert {e.correlation_id for e in envelopes} == {kind_correlation_id("duplicate_changes", "dup-1")}
    chunks = changes_of(envelopes)
    # 3 records a chunk, never inside a person: [2], [2], [3], [1, 1].
    assert [[r.record_seq for r in chunk] for chunk in chunks] == [[0, 1], [2, 3], [4, 5, 6], [7, 8]]
    assert [r for chunk in chunks for r in chunk] == records
    assert [[r.operation for r in chunk] for chunk in chunks][2] == [OP.INSERT, OP.UPDATE, OP.DELETE]
    assert {
        p.batch_id for e in envelopes if isinstance(p := decode(encode(e)).payload, DuplicateDataChanged)
    } == {"dup-1"}
    assert (root / "processed" / path.name).exists()


def test_a_person_with_more_changes_than_a_chunk_holds_is_a_chunk_of_their_own(root: Path) -> None:
    records = people(1, 5, 1)
    drop(root, records, batch_id="long")
    chunks = changes_of(drain(PensionAdapter(ExchangeDirectory(root), chunk_records=2)))
    assert [len(chunk) for chunk in chunks] == [1, 5, 1]
    assert {person_of(r) for r in chunks[1]} == {usage(1).value}


@pytest.mark.parametrize("actor", [FEDERATION, None, KUMIAI])
def test_the_federation_and_every_kumiai_may_change_their_fukuhon(root: Path, actor: str | None) -> None:
    # 事務(10) is done by the federation and the 構成組合 alike; a version 1 manifest runs for the federation.
    drop(root, people(1), batch_id="anyone", actor=actor)
    [envelope] = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=10))
    assert envelope.actor == (actor or FEDERATION)


def test_a_file_for_an_actor_outside_the_actor_list_is_refused_in_its_manifest(root: Path) -> None:
    path = drop(root, people(1), batch_id="stranger", actor="m999999")
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.ACTOR_NOT_PERMITTED
    assert "事務(10)" in rejection.problem
    assert report_of(root, path.name)["reason"] == "actor_not_permitted"


def test_a_person_who_comes_back_after_another_refuses_the_whole_file_naming_line_and_column(
    root: Path,
) -> None:
    # Person 0, person 1, then person 0 again (data rows on physical lines 2, 3 and 4).
    records = [change(0, 0), change(1, 1), change(2, 0, OP.UPDATE)]
    path = drop(root, records, batch_id="broken")
    good = drop(root, people(1, 1), batch_id="good")

    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=1)
    envelopes = drain(adapter)
    assert {e.payload["batch_id"] for e in envelopes} == {"good"}  # nothing of the broken file
    report = report_of(root, path.name)
    assert (report["reason"], report["line"], report["column"]) == ("person_run_broken", 4, "usage_number")
    assert usage(0).value not in json.dumps(report)
    assert (root / "rejected" / path.name).exists()
    assert (root / "processed" / good.name).exists()


def test_a_run_that_is_broken_is_found_however_far_apart_its_parts_are() -> None:
    check = PERSON_RUNS.check()
    rows = [change(i, person) for i, person in enumerate([0, 0, 1, 2, 2, 3, 0])]
    for line, row in enumerate(rows[:-1], start=2):
        check(row, line)
    with pytest.raises(MalformedPensionFile) as info:
        check(rows[-1], 8)
    assert (info.value.reason, info.value.line, info.value.column) == (
        Reason.PERSON_RUN_BROKEN,
        8,
        "usage_number",
    )
    assert usage(0).value not in str(info.value)


def test_one_persons_run_is_bounded_by_what_one_message_carries() -> None:
    assert PERSON_RUNS.most == MAX_RECORDS  # the contract's records per message
    check = PersonRuns(person=person_of, column="usage_number", most=2).check()
    check(change(0, 7), 2)
    check(change(1, 7, OP.UPDATE), 3)
    with pytest.raises(MalformedPensionFile) as info:
        check(change(2, 7, OP.DELETE), 4)
    assert (info.value.reason, info.value.line, info.value.column) == (
        Reason.PERSON_RUN_TOO_LONG,
        4,
        "usage_number",
    )


def _cells(rec: DuplicateChangeRecord, **changes: str) -> list[str]:
    cells = dict(zip(COLUMNS, format_change_row(rec), strict=True))
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


@pytest.mark.parametrize(
    ("op", "changes", "column"),
    [
        (OP.INSERT, {"operation": "upsert"}, "operation"),
        (OP.INSERT, {"usage_number_kind": "atena"}, "usage_number_kind"),
        (OP.INSERT, {"record_id": "dup-1"}, "record_id"),
        (OP.INSERT, {"spi_code": "TM51"}, "spi_code"),
        (OP.INSERT, {"dataset_item_code": "nenkin"}, "dataset_item_code"),
        (OP.INSERT, {"spi_version": "0"}, "spi_version"),  # the contract: 1 to 99
        (OP.INSERT, {"publication_start": "2026-04-31"}, "publication_start"),
        (OP.INSERT, {"publication_end": "2026-03-31"}, "publication_end"),  # ends before it starts
        (OP.INSERT, {"pension_kind": ""}, "pension_kind"),  # an insert carries the data
        (OP.UPDATE, {"suspended": ""}, "suspended"),
        (OP.UPDATE, {"suspended": "yes"}, "suspended"),
        (OP.INSERT, {"annual_amount": "100000001"}, "annual_amount"),  # the contract: at most 1億円
        (OP.DELETE, {"entitlement_ended_on": "2026-03-31"}, "entitlement_ended_on"),  # a delete carries none
    ],
)
def test_a_row_that_breaks_the_layout_or_the_contract_names_its_line_and_column(
    op: DuplicateOperation, changes: dict[str, str], column: str
) -> None:
    assert_row_refused(parse_change_row, _cells(change(5, 5, op), **changes), column, changes)


def test_an_individual_number_anywhere_in_the_row_is_a_policy_violation() -> None:
    with pytest.raises(IndividualNumberInFile) as info:
        parse_change_row(_cells(change(1, 1), record_id="123456789018"), 3)
    assert (info.value.line, info.value.column) == (3, "record_id")


def test_the_format_document_shows_the_layout_as_declared() -> None:
    page = (ROOT / "docs" / "formats" / "pension.md").read_text()
    assert columns_table(ROW) in page, (
        "regenerate the table of §17 from adapters.pension.duplicate_changes.ROW"
    )


_DATES = st.dates(date(2000, 1, 1), date(2100, 12, 31))


@st.composite
def changes(draw: st.DrawFn) -> DuplicateChangeRecord:
    op = draw(st.sampled_from(list(OP)))
    start = draw(_DATES)
    return DuplicateChangeRecord(
        # Twelve digits could be a number, which refuses the file (§5, tested above): never drawn here.
        record_seq=draw(st.integers(0, 10**11 - 1) | st.integers(10**12, 10**15 - 1)),
        usage_number=UsageNumber(
            kind=draw(st.sampled_from(list(UsageNumberKind))),
            value=draw(st.from_regex(r"[A-Z]-[0-9]{1,10}", fullmatch=True)),
        ),
        operation=op,
        record_id=draw(st.from_regex(r"[A-Z][0-9A-Z]{3,31}", fullmatch=True)),
        spi_code=draw(st.from_regex(r"TM[0-9]{14}", fullmatch=True)),
        dataset_item_code=draw(st.from_regex(r"[0-9A-Z]{1,16}", fullmatch=True)),
        spi_version=draw(st.integers(1, 99)),
        publication_start=start,
        publication_end=draw(st.none() | st.dates(start, date(2100, 12, 31))),
        data=None
        if op is OP.DELETE
        else PensionDuplicateData(
            pension_kind=draw(st.sampled_from(list(PensionKind))),
            annual_amount=draw(st.integers(0, 100_000_000)),
            suspended=draw(st.booleans()),
            entitled_from=draw(_DATES),
            entitlement_ended_on=draw(st.none() | _DATES),
        ),
    )


@settings(max_examples=60, deadline=None)
@given(changes())
def test_any_change_round_trips_through_its_row(rec: DuplicateChangeRecord) -> None:
    assert parse_change_row(format_change_row(rec), 2) == rec


_CELL = st.text(alphabet=st.sampled_from(list("0123456789-ADTMZ_ \u3000\x00insertdelufa")), max_size=16)


@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)) | st.lists(_CELL, max_size=20))
def test_arbitrary_cells_fail_only_with_the_adapters_errors(cells: list[str]) -> None:
    fails_only_as_a_file_problem(parse_change_row, cells)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    runs=st.lists(st.integers(1, 6), min_size=1, max_size=12),
    chunk_records=st.integers(1, 8),
    per_poll=st.integers(1, 20),
)
def test_chunks_never_split_a_person_and_keep_the_file_order(
    runs: list[int], chunk_records: int, per_poll: int
) -> None:
    records = people(*runs)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pension"
        drop(root, records, batch_id="prop")
        adapter = PensionAdapter(
            ExchangeDirectory(root), chunk_records=chunk_records, max_records_per_poll=per_poll
        )
        chunks = changes_of(drain(adapter))

    assert [r for chunk in chunks for r in chunk] == records  # nothing lost, nothing twice, file order
    owner = {person_of(r): i for i, chunk in enumerate(chunks) for r in chunk}
    for i, chunk in enumerate(chunks):
        assert all(owner[person_of(r)] == i for r in chunk), "a person's changes are in one message"
        if len(chunk) > chunk_records:
            assert len({person_of(r) for r in chunk}) == 1, "only one person's run outgrows a chunk"
    for this, following in itertools.pairwise(chunks):
        first_run = sum(1 for r in following if person_of(r) == person_of(following[0]))
        assert len(this) + first_run > chunk_records, "a chunk takes the next person while they fit"


@settings(deadline=None)
@given(st.lists(st.integers(1, 50), max_size=30), st.integers(1, 60))
def test_packing_keeps_every_run_whole(runs: list[int], limit: int) -> None:
    sizes = packed_sizes(runs, limit)
    assert sum(sizes) == sum(runs)
    ends = {sum(runs[: i + 1]) for i in range(len(runs))} | {0}
    assert all(sum(sizes[: i + 1]) in ends for i in range(len(sizes)))

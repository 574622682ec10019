"""Special collection request files: one notice per file, refused whole when a row or the manifest is bad.

(Unit tests on a temporary directory; no broker.)
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.pension import ExchangeDirectory, PensionAdapter, Reason
from adapters.pension.errors import IndividualNumberInFile
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.special_collection import COLUMNS, ROW, format_notice_row, parse_notice_row
from adapters.pension.wire import columns_table
from contracts.messages.eltax import (
    Sex,
    TokuchoAmounts,
    TokuchoNoticeCode,
    TokuchoNoticeRequested,
    TokuchoRecord,
)
from contracts.purpose_table import FEDERATION, default_table
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.pension_files import assert_row_refused, drain, fails_only_as_a_file_problem, report_of

ROOT = Path(__file__).resolve().parents[2]
C = TokuchoNoticeCode


def record(seq: int, *, category: str | None = "02") -> TokuchoRecord:
    return TokuchoRecord(
        record_seq=seq,
        municipality_code="13101",
        usage_number=UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{seq:08d}"),
        basic_pension_number=f"9{seq:09d}",
        pension_code="1150",
        birth_date=date(1950, 1, 2),
        sex=Sex.FEMALE if seq % 2 else Sex.MALE,
        kana_name="ヤマダ\u3000ハナコ",
        name="山田\u3000花子",
        postal_code="1000001" if seq != 3 else None,
        address='東京都千代田区一丁目２番３号, "試験"',
        category=category,
        amounts=TokuchoAmounts(annual_pension=1_800_000 + seq, previous_year_tax=30_000 if seq % 2 else None),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


def drop(
    root: Path,
    records: list[TokuchoRecord],
    *,
    batch_id: str,
    actor: str | None = FEDERATION,
    code: TokuchoNoticeCode = C.TARGET,
) -> Path:
    return PensionRequestsSimulator(root).drop_special_collection_notice(
        records,
        notice_code=code,
        fiscal_year=2026,
        created_on=date(2026, 5, 20),
        batch_id=batch_id,
        actor=actor,
    )


def rewrite(path: Path, content: bytes, **manifest_changes: Any) -> None:
    """Replace a dropped file's data (its manifest's checksum follows) and change manifest fields."""
    path.write_bytes(content)
    manifest_path = path.with_name(path.name + ".manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest.update(sha256=hashlib.sha256(content).hexdigest(), **manifest_changes)
    manifest_path.write_text(json.dumps(manifest))


def test_a_notice_file_becomes_chunked_messages_with_its_code_year_date_and_purpose(root: Path) -> None:
    records = [record(seq) for seq in range(1, 8)]
    path = drop(root, records, batch_id="sc-00")
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=3))

    message_type = "pension.tokucho.notice_requested"
    assert [e.message_type for e in envelopes] == [message_type] * 3
    assert {e.purpose for e in envelopes} == {default_table().request_purpose(message_type)}
    assert {e.actor for e in envelopes} == {FEDERATION}
    assert {e.correlation_id for e in envelopes} == {kind_correlation_id("special_collection", "sc-00")}
    payloads = [decode(encode(e)).payload for e in envelopes]
    assert all(isinstance(p, TokuchoNoticeRequested) for p in payloads)
    notices = [p for p in payloads if isinstance(p, TokuchoNoticeRequested)]
    assert [(n.chunk.chunk_index, n.chunk.chunk_count, n.chunk.total_records) for n in notices] == [
        (0, 3, 7),
        (1, 3, 7),
        (2, 3, 7),
    ]
    assert {(n.notice_code, n.fiscal_year, n.created_on) for n in notices} == {
        (C.TARGET, 2026, date(2026, 5, 20))
    }
    assert [r for n in notices for r in n.records] == records
    assert (root / "processed" / path.name).exists()


def test_a_file_for_a_kumiai_is_refused_whole_as_the_federations_jimu(root: Path) -> None:
    # 事務(7) is the federation's alone (the seed's split of 事務, the purpose table's [[jimu]]).
    path = drop(root, [record(1)], batch_id="kumiai", actor="m130001")
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.ACTOR_NOT_PERMITTED
    assert "事務(7)" in rejection.problem
    assert report_of(root, path.name)["reason"] == "actor_not_permitted"


@pytest.mark.parametrize("code", sorted(["01", "31", "41", "61"]))
def test_a_notice_the_municipalities_send_is_refused_in_the_manifest(root: Path, code: str) -> None:
    path = drop(root, [record(1)], batch_id=f"m-{code}")
    rewrite(path, path.read_bytes(), notice_code=code)
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.MANIFEST_INVALID
    assert "notice_code" in rejection.problem
    assert "municipalities" in rejection.problem


def test_a_category_its_notice_does_not_allow_refuses_the_whole_file_and_nothing_beside_it(
    root: Path,
) -> None:
    # A target notice (00) takes 01 新規者, 02 前年度継続者 or 70; 03 belongs to a request (01).
    path = drop(root, [record(1), record(2), record(3)], batch_id="bad")
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace(",02,", ",03,")  # the second data row, physical line 3
    rewrite(path, "".join(lines).encode())
    good = drop(root, [record(9, category="01")], batch_id="good")

    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=2)
    envelopes = drain(adapter)
    assert [e.payload["chunk"]["batch_id"] for e in envelopes] == ["good"]  # nothing of the bad file
    report = report_of(root, path.name)
    assert (report["reason"], report["line"], report["column"]) == ("bad_field", 3, "category")
    assert "01, 02, 70" in report["problem"]
    assert (root / "rejected" / path.name).exists()
    assert (root / "processed" / good.name).exists()


def test_a_result_notice_echoes_the_category_it_answers_whatever_it_is(root: Path) -> None:
    # 02 (依頼処理結果) has no category rule of its own: it echoes the request's, 03 (非対象者) included.
    drop(root, [record(4, category="03")], batch_id="sc-02", code=C.REQUEST_RESULT)
    [envelope] = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=10))
    assert envelope.payload["notice_code"] == "02"
    assert [r["category"] for r in envelope.payload["records"]] == ["03"]


def _cells(rec: TokuchoRecord, **changes: str) -> list[str]:
    cells = dict(zip(COLUMNS, format_notice_row(rec), strict=True))
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"birth_date": "1950-02-30"}, "birth_date"),  # the layout: not a calendar date
        ({"sex": "1"}, "sex"),
        ({"usage_number_kind": "dependant"}, "usage_number_kind"),  # a person by certificate only
        ({"municipality_code": "131010"}, "municipality_code"),
        ({"basic_pension_number": "12345"}, "basic_pension_number"),
        ({"category": "2"}, "category"),
        ({"annual_pension": "123456789012"}, "annual_pension"),
        ({"name": ""}, "name"),
        ({"kana_name": "やまだ"}, "kana_name"),  # the contract: katakana
        ({"event_date": "20260101"}, "event_date"),
    ],
)
def test_a_row_that_breaks_the_layout_or_the_contract_names_its_line_and_column(
    changes: dict[str, str], column: str
) -> None:
    assert_row_refused(parse_notice_row, _cells(record(5), **changes), column, changes)


def test_an_individual_number_anywhere_in_the_row_is_a_policy_violation() -> None:
    with pytest.raises(IndividualNumberInFile) as info:
        parse_notice_row(_cells(record(1), address="123456789018"), 3)
    assert (info.value.line, info.value.column) == (3, "address")


def test_the_format_document_shows_the_layout_as_declared() -> None:
    page = (ROOT / "docs" / "formats" / "pension.md").read_text()
    assert columns_table(ROW) in page, (
        "regenerate the table of §15 from adapters.pension.special_collection.ROW"
    )


_TEXT = st.text(alphabet='山田太郎花子東京都一二三,"ー ', min_size=1, max_size=25).filter(
    lambda t: t == t.strip()
)
_KANA = st.text(alphabet="ヤマダタロウハナコー\u3000", min_size=1, max_size=25).filter(
    lambda t: t == t.strip() and t.strip("\u3000") == t
)
_AMOUNT = st.none() | st.integers(0, 10**11 - 1)


@st.composite
def records(draw: st.DrawFn) -> TokuchoRecord:
    return TokuchoRecord(
        # Twelve digits could be a number, which refuses the file (§5, tested above): never drawn here.
        record_seq=draw(st.integers(0, 10**11 - 1) | st.integers(10**12, 10**15 - 1)),
        municipality_code=draw(st.from_regex(r"[0-9]{5}", fullmatch=True)),
        usage_number=UsageNumber(
            kind=UsageNumberKind.PENSION_CERTIFICATE,
            value=draw(st.from_regex(r"[A-Z]-[0-9]{1,10}", fullmatch=True)),
        ),
        basic_pension_number=draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
        pension_code=draw(st.from_regex(r"[0-9]{4}", fullmatch=True)),
        birth_date=draw(st.dates(date(1900, 1, 1), date(2030, 12, 31))),
        sex=draw(st.sampled_from(list(Sex))),
        kana_name=draw(_KANA),
        name=draw(_TEXT),
        postal_code=draw(st.none() | st.from_regex(r"[0-9]{7}", fullmatch=True)),
        kana_address=draw(st.none() | _TEXT),
        address=draw(st.none() | _TEXT),
        category=draw(st.none() | st.from_regex(r"[0-9]{2}", fullmatch=True)),
        result=draw(st.none() | st.from_regex(r"[0-9]{2}", fullmatch=True)),
        event_date=draw(st.none() | st.dates(date(2019, 1, 1), date(2100, 12, 31))),
        amounts=TokuchoAmounts(
            annual_pension=draw(_AMOUNT),
            main_october=draw(_AMOUNT),
            provisional_august=draw(_AMOUNT),
            collected=draw(_AMOUNT),
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_any_record_round_trips_through_its_row(rec: TokuchoRecord) -> None:
    assert parse_notice_row(format_notice_row(rec), 2) == rec


_CELL = st.text(alphabet=st.sampled_from(list("0123456789-ab_ヤ山 \u3000\x00malefemale")), max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)) | st.lists(_CELL, max_size=40))
def test_arbitrary_cells_fail_only_with_the_adapters_errors(cells: list[str]) -> None:
    fails_only_as_a_file_problem(parse_notice_row, cells)

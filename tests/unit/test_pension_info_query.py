"""Code acquisition and information query request files: the pension system's side of 情報照会.

(Unit tests on a temporary directory; no broker.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pension import ExchangeDirectory, PensionAdapter, Reason
from adapters.pension.errors import IndividualNumberInFile
from adapters.pension.info_query import COLUMNS, ROW, format_query_row, parse_query_row
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.wire import InquiryRow, columns_table
from contracts.messages.intermediate_server import (
    CodeAcquisitionRecord,
    CodeAcquisitionRequested,
    InfoKind,
    InfoQueryRecord,
    InfoQueryRequested,
    TableBasis,
)
from contracts.purpose_table import FEDERATION, default_table
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.pension_files import assert_row_refused, drain, fails_only_as_a_file_problem, report_of

ROOT = Path(__file__).resolve().parents[2]
KUMIAI = "m130001"
BASIS = TableBasis(current_item=84, current_article="第86条", legacy_item=59)


def usage(seq: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{seq:08d}")


def query(seq: int, *, kind: InfoKind = InfoKind.LOCAL_TAX) -> InfoQueryRecord:
    return InfoQueryRecord(
        record_seq=seq,
        query_ref=f"RUN.{seq}.{kind.value}",
        usage_number=usage(seq),
        info_kind=kind,
        spi_code="TM00000000000002",
        jimu_code="J084",
        basis=BASIS,
        provider_org_code="131016",
        tax_year=2026 if kind is InfoKind.LOCAL_TAX else None,
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


def test_a_code_acquisition_file_becomes_requests_of_its_batch(root: Path) -> None:
    rows = [InquiryRow(record_seq=i, usage_number=usage(i)) for i in range(5)]
    path = PensionRequestsSimulator(root).drop_code_acquisition(rows, batch_id="codes-1", actor=KUMIAI)
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=2))

    message_type = "pension.code_acquisition.requested"
    assert [e.message_type for e in envelopes] == [message_type] * 3
    assert {e.purpose for e in envelopes} == {default_table().request_purpose(message_type)}
    assert {e.actor for e in envelopes} == {KUMIAI}
    assert {e.correlation_id for e in envelopes} == {kind_correlation_id("code_acquisition", "codes-1")}
    payloads = [decode(encode(e)).payload for e in envelopes]
    requests = [p for p in payloads if isinstance(p, CodeAcquisitionRequested)]
    assert len(requests) == 3
    assert {r.batch_id for r in requests} == {"codes-1"}
    assert [r for p in requests for r in p.records] == [
        CodeAcquisitionRecord(record_seq=i, usage_number=usage(i)) for i in range(5)
    ]
    assert (root / "processed" / path.name).exists()


def test_an_info_query_file_becomes_queries_on_behalf_of_its_kumiai(root: Path) -> None:
    records = [query(i, kind=(InfoKind.LOCAL_TAX, InfoKind.RESIDENT_RECORD)[i % 2]) for i in range(4)]
    PensionRequestsSimulator(root).drop_info_queries(records, batch_id="q-1", actor=KUMIAI)
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=3))

    message_type = "pension.info_query.requested"
    assert [e.message_type for e in envelopes] == [message_type] * 2
    assert {e.purpose for e in envelopes} == {default_table().request_purpose(message_type)}
    assert {e.actor for e in envelopes} == {KUMIAI}
    requests = [p for e in envelopes if isinstance(p := decode(encode(e)).payload, InfoQueryRequested)]
    assert {r.batch_id for r in requests} == {"q-1"}
    assert [r for p in requests for r in p.records] == records


@pytest.mark.parametrize("actor", [FEDERATION, None])
def test_an_info_query_file_for_the_federation_is_refused_as_a_kumiais_jimu(
    root: Path, actor: str | None
) -> None:
    # 事務(9) 情報照会 is a 構成組合's alone; a version 1 manifest (no actor) runs for the federation.
    path = PensionRequestsSimulator(root).drop_info_queries([query(1)], batch_id="fed", actor=actor)
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.ACTOR_NOT_PERMITTED
    assert "事務(9)" in rejection.problem
    assert report_of(root, path.name)["reason"] == "actor_not_permitted"


def _cells(rec: InfoQueryRecord, **changes: str) -> list[str]:
    cells = dict(zip(COLUMNS, format_query_row(rec), strict=True))
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"query_ref": "a b"}, "query_ref"),
        ({"info_kind": "income"}, "info_kind"),
        ({"spi_code": "TM0001"}, "spi_code"),
        ({"jimu_code": "j084"}, "jimu_code"),
        ({"basis_current_item": ""}, "basis_current_item"),
        ({"basis_current_article": "86条"}, "basis_current_article"),  # the contract: 第N条
        ({"provider_org_code": "13101"}, "provider_org_code"),
        ({"tax_year": "1999"}, "tax_year"),
        ({"usage_number_kind": "atena"}, "usage_number_kind"),
    ],
)
def test_a_row_that_breaks_the_layout_or_the_contract_names_its_line_and_column(
    changes: dict[str, str], column: str
) -> None:
    assert_row_refused(parse_query_row, _cells(query(5), **changes), column, changes)


def test_an_individual_number_anywhere_in_the_row_is_a_policy_violation() -> None:
    with pytest.raises(IndividualNumberInFile) as info:
        parse_query_row(_cells(query(1), usage_number="123456789018"), 3)
    assert (info.value.line, info.value.column) == (3, "usage_number")


def test_the_format_document_shows_the_layout_as_declared() -> None:
    page = (ROOT / "docs" / "formats" / "pension.md").read_text()
    assert columns_table(ROW) in page, "regenerate the table of §16 from adapters.pension.info_query.ROW"


@st.composite
def queries(draw: st.DrawFn) -> InfoQueryRecord:
    kind = draw(st.sampled_from(list(InfoKind)))
    return InfoQueryRecord(
        # Twelve digits could be a number, which refuses the file (§5, tested above): never drawn here.
        record_seq=draw(st.integers(0, 10**11 - 1) | st.integers(10**12, 10**15 - 1)),
        query_ref=draw(st.from_regex(r"[A-Za-z_.-][A-Za-z0-9_.-]{0,20}", fullmatch=True)),
        usage_number=UsageNumber(
            kind=draw(st.sampled_from(list(UsageNumberKind))),
            value=draw(st.from_regex(r"[A-Z]-[0-9]{1,10}", fullmatch=True)),
        ),
        info_kind=kind,
        spi_code=draw(st.from_regex(r"TM[0-9]{14}", fullmatch=True)),
        jimu_code=draw(st.from_regex(r"[A-Z][A-Z0-9]{2,15}", fullmatch=True)),
        basis=TableBasis(
            current_item=draw(st.integers(1, 300)),
            current_article=f"第{draw(st.integers(1, 999))}条",
            legacy_item=draw(st.none() | st.integers(1, 300)),
        ),
        provider_org_code=draw(st.from_regex(r"[0-9A-Z]{6}", fullmatch=True)),
        tax_year=draw(st.none() | st.integers(2000, 2100)),
    )


@settings(max_examples=60, deadline=None)
@given(queries())
def test_any_query_round_trips_through_its_row(rec: InfoQueryRecord) -> None:
    assert parse_query_row(format_query_row(rec), 2) == rec


_CELL = st.text(alphabet=st.sampled_from(list("0123456789-abTMJ第条_ \u3000\x00local_tax")), max_size=16)


@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)) | st.lists(_CELL, max_size=20))
def test_arbitrary_cells_fail_only_with_the_adapters_errors(cells: list[str]) -> None:
    fails_only_as_a_file_problem(parse_query_row, cells)


def test_a_large_chunk_setting_never_makes_a_message_larger_than_the_network_takes(root: Path) -> None:
    # chunk_records may be set up to 50,000, while one intermediate-server message carries 10,000 records
    # at the most: a file of 10,001 codes is cut at the contract's limit, not the setting.
    most = CodeAcquisitionRequested.model_fields["records"].metadata
    limit = next(m.max_length for m in most if hasattr(m, "max_length"))
    rows = [InquiryRow(record_seq=i, usage_number=usage(i)) for i in range(limit + 1)]
    PensionRequestsSimulator(root).drop_code_acquisition(rows, batch_id="codes-big", actor=KUMIAI)
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=50_000))

    sizes = [len(decode(encode(e)).narrow(CodeAcquisitionRequested).payload.records) for e in envelopes]
    assert sizes == [limit, 1]
    assert not list((root / "rejected").iterdir())

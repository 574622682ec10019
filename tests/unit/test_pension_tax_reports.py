"""Payment report and withholding slip request files: one row layout, two kinds, refused whole when bad.

(Unit tests on a temporary directory; no broker.)
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.pension import ExchangeDirectory, PensionAdapter, Reason
from adapters.pension.errors import IndividualNumberInFile, MalformedPensionFile
from adapters.pension.kinds import REQUEST_KINDS
from adapters.pension.mapping import kind_correlation_id
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.tax_reports import COLUMNS, ROW, format_report_row, parse_report_row
from adapters.pension.wire import columns_table
from contracts.messages.eltax import (
    DependantKind,
    PaymentAmounts,
    PaymentReportDeductions,
    PaymentReportPayer,
    PaymentReportRecord,
    PaymentReportRequested,
    ReportDependant,
    ReportSpouse,
)
from contracts.messages.nta import WithholdingSlipRequested
from contracts.purpose_table import FEDERATION, default_table
from contracts.registry import decode, encode
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.pension_files import assert_row_refused, drain, fails_only_as_a_file_problem, report_of

ROOT = Path(__file__).resolve().parents[2]
PAYER = PaymentReportPayer(
    name="全国市町村職員共済組合連合会",
    address="東京都千代田区（試験用）",
    phone="03-0000-0000",
    corporate_number="8999900000001",
    reference_number="R01",
)
KINDS = {
    "payment_report": ("pension.payment_report.requested", PaymentReportRequested, "drop_payment_reports"),
    "withholding_slip": (
        "pension.withholding_slip.requested",
        WithholdingSlipRequested,
        "drop_withholding_slips",
    ),
}


def dependant(seq: int, k: int, kind: DependantKind) -> ReportDependant:
    return ReportDependant(
        usage_number=UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D{seq:08d}-{k}"),
        name="山田\u3000花子",
        kana_name="ヤマダ\u3000ハナコ",
        kind=kind,
    )


def record(seq: int, *, dependants: int = 2) -> PaymentReportRecord:
    kinds = [DependantKind.ELDERLY, DependantKind.UNDER_16, DependantKind.SPECIFIC, DependantKind.UNDER_16]
    return PaymentReportRecord(
        record_seq=seq,
        usage_number=UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{seq:08d}"),
        destination_municipality_code="13101",
        correction=1 if seq == 2 else 0,
        name="山田\u3000太郎",
        kana_name="ヤマダ\u3000タロウ",
        address="東京都千代田区一丁目２番３号",
        abroad=seq == 3,
        birth_date=date(1950, 1, 2),
        sections=(PaymentAmounts(paid=1_800_000, withheld=90_000), None, PaymentAmounts(unpaid=5)),
        deductions=PaymentReportDeductions(spouse_status=1, social_insurance=150_000, widow=seq % 2 == 0),
        remarks='摘要, "引用" あり' if seq == 1 else None,
        spouse=ReportSpouse(
            usage_number=UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"S{seq:08d}"),
            name="山田\u3000花子",
        ),
        dependants=tuple(dependant(seq, k, kinds[k % 4]) for k in range(dependants)),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


def drop(
    root: Path, kind: str, records: list[PaymentReportRecord], *, batch_id: str, actor: str | None
) -> Path:
    method = getattr(PensionRequestsSimulator(root), KINDS[kind][2])
    path: Path = method(records, tax_year=2026, payer=PAYER, batch_id=batch_id, actor=actor)
    return path


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_file_becomes_chunked_messages_with_the_kinds_type_purpose_actor_and_payer(
    root: Path, kind: str
) -> None:
    message_type, model, _ = KINDS[kind]
    records = [record(seq, dependants=seq % 9) for seq in range(1, 9)]
    path = drop(root, kind, records, batch_id=f"{kind}-1", actor=FEDERATION)
    envelopes = drain(PensionAdapter(ExchangeDirectory(root), chunk_records=3))

    assert [e.message_type for e in envelopes] == [message_type] * 3
    assert {e.purpose for e in envelopes} == {default_table().request_purpose(message_type)}
    assert {e.actor for e in envelopes} == {FEDERATION}
    assert {e.correlation_id for e in envelopes} == {kind_correlation_id(kind, f"{kind}-1")}
    payloads = [decode(encode(e)).payload for e in envelopes]
    assert all(isinstance(p, model) for p in payloads)
    # Every kind's model has chunk, tax_year, payer and records; KINDS types the model as BaseModel.
    assert [(p.chunk.chunk_index, p.chunk.chunk_count, p.chunk.total_records) for p in payloads] == [  # type: ignore[attr-defined]
        (0, 3, 8),
        (1, 3, 8),
        (2, 3, 8),
    ]
    assert {(p.tax_year, p.payer) for p in payloads} == {(2026, PAYER)}  # type: ignore[attr-defined]
    assert [r for p in payloads for r in p.records] == records  # type: ignore[attr-defined]
    assert (root / "processed" / path.name).exists()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_file_for_a_kumiai_is_refused_whole_as_the_federations_jimu(root: Path, kind: str) -> None:
    # 事務(4) and (5) are the federation's alone (the seed's split of 事務, the purpose table's [[jimu]]).
    path = drop(root, kind, [record(1)], batch_id="kumiai", actor="m130001")
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.ACTOR_NOT_PERMITTED
    assert "事務(4)" in rejection.problem if kind == "withholding_slip" else "事務(5)" in rejection.problem
    assert (root / "rejected" / path.name).exists()  # no number in it: kept for the pension system
    assert report_of(root, path.name)["reason"] == "actor_not_permitted"


def test_a_withholding_slip_without_the_payers_corporate_number_is_refused(root: Path) -> None:
    path = drop(root, "withholding_slip", [record(1)], batch_id="no-corp", actor=FEDERATION)
    manifest_path = path.with_name(path.name + ".manifest.json")
    manifest = json.loads(manifest_path.read_text())
    del manifest["payer"]["corporate_number"]
    manifest_path.write_text(json.dumps(manifest))
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    [rejection] = adapter.recent_rejections
    assert rejection.reason is Reason.MANIFEST_INVALID
    assert "payer" in rejection.problem
    assert "corporate_number" in rejection.problem


def _cells(rec: PaymentReportRecord, **changes: str) -> list[str]:
    cells = dict(zip(COLUMNS, format_report_row(rec), strict=True))
    cells.update(changes)
    return [cells[c] for c in COLUMNS]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        ({"birth_date": "1950-02-30"}, "birth_date"),  # the layout: not a calendar date
        ({"birth_date": "19500102"}, "birth_date"),
        ({"abroad": "yes"}, "abroad"),
        ({"usage_number_kind": "basic_pension"}, "usage_number_kind"),  # a recipient by certificate only
        ({"s2_paid": "12345678901"}, "s2_paid"),
        ({"name": ""}, "name"),
        ({"kana_name": "やまだ\u3000たろう"}, "kana_name"),  # the contract: katakana
        ({"spouse_name": ""}, "spouse_name"),  # a spouse's group filled in part
        ({"dependant_1_kana_name": ""}, "dependant_1_kana_name"),
        ({"dependant_1_kind": "cousin"}, "dependant_1_kind"),
        (
            {
                "dependant_3_usage_number": "D1",
                "dependant_3_name": "甲",
                "dependant_3_kana_name": "コウ",
                "dependant_3_kind": "other",
            },
            "dependant_3_usage_number",
        ),  # after an empty group
        ({"destination_municipality_code": "1310"}, "destination_municipality_code"),
        ({"remarks": " 摘要"}, "remarks"),
    ],
)
def test_a_row_that_breaks_the_layout_or_the_contract_names_its_line_and_column(
    changes: dict[str, str], column: str
) -> None:
    assert_row_refused(parse_report_row, _cells(record(5, dependants=1), **changes), column, changes)


def test_a_fifth_deductible_dependant_is_refused_at_its_kind() -> None:
    rec = record(4, dependants=0)
    cells = dict(zip(COLUMNS, format_report_row(rec), strict=True))
    for k in range(1, 6):
        d = dependant(4, k, DependantKind.OTHER)
        cells |= {f"dependant_{k}_usage_number": d.usage_number.value, f"dependant_{k}_name": d.name}
        cells |= {f"dependant_{k}_kana_name": d.kana_name, f"dependant_{k}_kind": "other"}
    with pytest.raises(MalformedPensionFile, match="at most four deductible") as info:
        parse_report_row([cells[c] for c in COLUMNS], 2)
    assert info.value.column == "dependant_5_kind"


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_bad_row_refuses_the_whole_file_with_a_report_naming_row_and_column(root: Path, kind: str) -> None:
    path = drop(root, kind, [record(seq) for seq in range(1, 5)], batch_id="bad", actor=None)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = lines[3].replace("1950-01-02", "1950-13-02")  # the third data row, physical line 4
    content = "".join(lines).encode()
    path.write_bytes(content)
    manifest_path = path.with_name(path.name + ".manifest.json")
    manifest = json.loads(manifest_path.read_text())
    manifest["sha256"] = hashlib.sha256(content).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    good = drop(root, kind, [record(9)], batch_id="good", actor=None)  # the file beside it is not lost

    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=2)
    envelopes = drain(adapter)
    assert [e.payload["chunk"]["batch_id"] for e in envelopes] == ["good"]  # nothing of the bad file
    report = report_of(root, path.name)
    assert (report["reason"], report["line"], report["column"]) == ("bad_field", 4, "birth_date")
    assert "1950-13-02" not in json.dumps(report, ensure_ascii=False)
    assert (root / "rejected" / path.name).exists()
    assert (root / "processed" / good.name).exists()


def test_an_individual_number_anywhere_in_the_row_is_a_policy_violation() -> None:
    with pytest.raises(IndividualNumberInFile) as info:
        parse_report_row(_cells(record(1), remarks="123456789018"), 3)
    assert (info.value.line, info.value.column) == (3, "remarks")


def test_both_kinds_share_one_layout() -> None:
    assert REQUEST_KINDS["payment_report"].columns is REQUEST_KINDS["withholding_slip"].columns
    assert REQUEST_KINDS["payment_report"].parse_row is REQUEST_KINDS["withholding_slip"].parse_row


def test_the_format_document_shows_the_layout_as_declared() -> None:
    page = (ROOT / "docs" / "formats" / "pension.md").read_text()
    assert columns_table(ROW) in page, "regenerate the table of §14 from adapters.pension.tax_reports.ROW"


_TEXT = st.text(alphabet='山田太郎花子東京都一二三,"ー ', min_size=1, max_size=20).filter(
    lambda t: t == t.strip()
)
_KANA = st.text(alphabet="ヤマダタロウハナコー\u3000", min_size=1, max_size=20).filter(
    lambda t: t == t.strip() and t.strip("\u3000") == t
)
_AMOUNT = st.none() | st.integers(0, 10**10 - 1)
_SECTION = st.none() | st.builds(
    PaymentAmounts, paid=_AMOUNT, unpaid=_AMOUNT, withheld=_AMOUNT, unwithheld=_AMOUNT
).filter(lambda a: any(v is not None for v in a.model_dump().values()))  # four empty cells: no section


@st.composite
def records(draw: st.DrawFn) -> PaymentReportRecord:
    n_minor, n_other = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    kinds = [DependantKind.UNDER_16] * n_minor + [
        draw(st.sampled_from([DependantKind.ELDERLY, DependantKind.SPECIFIC, DependantKind.OTHER]))
        for _ in range(n_other)
    ]
    return PaymentReportRecord(
        # Twelve digits could be a number, which refuses the file (§5, tested above): never drawn here.
        record_seq=draw(st.integers(0, 10**11 - 1) | st.integers(10**12, 10**15 - 1)),
        usage_number=UsageNumber(
            kind=UsageNumberKind.PENSION_CERTIFICATE,
            value=draw(st.from_regex(r"[A-Z]-[0-9]{1,10}", fullmatch=True)),
        ),
        destination_municipality_code=draw(st.from_regex(r"[0-9]{5,6}", fullmatch=True)),
        correction=draw(st.sampled_from([0, 1, 2, 3])),
        name=draw(_TEXT),
        kana_name=draw(_KANA),
        address=draw(_TEXT),
        abroad=draw(st.booleans()),
        birth_date=draw(st.dates(date(1900, 1, 1), date(2030, 12, 31))),
        sections=(draw(_SECTION), draw(_SECTION), draw(_SECTION)),
        deductions=PaymentReportDeductions(
            special_disabled=draw(st.booleans()),
            spouse_status=draw(st.sampled_from([None, 1, 2, 3])),
            disabled_other_count=draw(st.none() | st.integers(0, 99)),
            social_insurance=draw(_AMOUNT),
            special_widow=draw(st.booleans()),
        ),
        remarks=draw(st.none() | _TEXT),
        spouse=draw(
            st.none()
            | st.builds(
                ReportSpouse,
                usage_number=st.builds(
                    UsageNumber,
                    kind=st.sampled_from(list(UsageNumberKind)),
                    value=st.from_regex(r"S[0-9]{1,10}", fullmatch=True),
                ),
                name=_TEXT,
            )
        ),
        dependants=tuple(
            ReportDependant(
                usage_number=UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D-{k}"),
                name=draw(_TEXT),
                kana_name=draw(_KANA.filter(lambda t: len(t) <= 30)),
                kind=kind,
            )
            for k, kind in enumerate(kinds)
        ),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records())
def test_any_record_round_trips_through_its_row(rec: PaymentReportRecord) -> None:
    assert parse_report_row(format_report_row(rec), 2) == rec


_CELL = st.text(alphabet=st.sampled_from(list("0123456789-abz_ヤ山 \u3000\x00trufalse")), max_size=12)


@settings(max_examples=100, deadline=None)
@given(st.lists(_CELL, min_size=len(COLUMNS), max_size=len(COLUMNS)) | st.lists(_CELL, max_size=70))
def test_arbitrary_cells_fail_only_with_the_adapters_errors(cells: list[str]) -> None:
    fails_only_as_a_file_problem(parse_report_row, cells)

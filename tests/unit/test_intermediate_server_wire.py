"""The intermediate server's files: round trips, strict parsing, names, and properties of the parser."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from datetime import date, datetime
from typing import Any, TypedDict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.intermediate_server import IsFileError, IsWireError, file_name, parse_name
from adapters.intermediate_server.wire import (
    ACCEPTANCE,
    ANSWER,
    CODE_REQUEST,
    CODE_RESULT,
    DUPLICATE_REQUEST,
    DUPLICATE_RESULT,
    LAYOUTS,
    QUERY,
    AcceptanceRow,
    AnswerRow,
    CodeRequestRow,
    CodeResultRow,
    DuplicateRequestRow,
    DuplicateResultRow,
    FileHeader,
    NoticeRow,
    QueryRow,
    id_of_text,
    id_text,
    parse,
    write,
)
from adapters.records.fields import JST
from contracts.individual_number import IndividualNumber, check_digit
from contracts.messages.intermediate_server import DuplicateOperation, IsError, PensionKind
from contracts.redaction import find_numbers

NUMBER = "".join("31415926535") + str(check_digit("31415926535"))
ATENA = "000000000012345"
AT = datetime(2026, 11, 26, 9, 30, 0, tzinfo=JST)


class Rows(TypedDict):
    """A valid row or two of each file kind."""

    FGQ1: list[CodeRequestRow]
    FGR1: list[CodeResultRow]
    SKQ1: list[QueryRow]
    SKA1: list[AcceptanceRow]
    SKR1: list[AnswerRow]
    DBQ1: list[DuplicateRequestRow]
    DBR1: list[DuplicateResultRow]
    TKN1: list[NoticeRow]


ROWS: Rows = {
    "FGQ1": [CodeRequestRow(0, ATENA, IndividualNumber(NUMBER))],
    "FGR1": [
        CodeResultRow(0, ATENA, True, "ABCDEFGHIJKL"),
        CodeResultRow(1, ATENA, False, None, "取得できません"),
    ],
    "SKQ1": [
        QueryRow(
            0, "Q0000001", ATENA, "ABCDEFGHIJKL", "TM00000000000021", "J084", 84, "第86条", 59, "131016", 2025
        )
    ],
    "SKA1": [
        AcceptanceRow("Q0000001", "accepted"),
        AcceptanceRow("Q0000002", IsError.DUPLICATE_RECORD_ID, "「x」"),
    ],
    "SKR1": [
        AnswerRow(
            ATENA, "Q0000001", "131016", "千代田区", "09", "01", None, AT, False, 2025, True, 5000, 123400
        ),
        AnswerRow(
            ATENA,
            "Q0000002",
            "131016",
            "千代田区",
            "09",
            "01",
            None,
            AT,
            True,
            household_head=False,
            relationship="妻",
            household_size=2,
        ),
        AnswerRow(ATENA, "Q0000003", "131016", "千代田区", "09", "02", "該当なし", AT),
    ],
    "DBQ1": [
        DuplicateRequestRow(
            0,
            DuplicateOperation.INSERT,
            "D0000001",
            ATENA,
            "TM00000000000051",
            "NENKIN01",
            1,
            date(2026, 4, 1),
            None,
            PensionKind.SURVIVOR,
            1_200_000,
            False,
            date(2015, 4, 1),
        ),
        DuplicateRequestRow(
            1,
            DuplicateOperation.DELETE,
            "D0000001",
            ATENA,
            "TM00000000000051",
            "NENKIN01",
            1,
            date(2026, 4, 1),
            date(2027, 3, 31),
        ),
    ],
    "DBR1": [DuplicateResultRow(0, "D0000001", ATENA, DuplicateOperation.INSERT, "registered")],
    "TKN1": [
        NoticeRow(
            "P0000001",
            "D0000001",
            ATENA,
            "MHLW01",
            "厚生労働大臣",
            "TM00000000000051",
            "事務",
            1,
            "第3条",
            1,
            AT,
            AT,
        )
    ],
}


def rows_of(kind: str) -> list[Any]:
    """``ROWS`` of a kind named at run time (the parametrized tests), with its layout's row type."""
    rows = ROWS.get(kind)
    assert isinstance(rows, list), kind
    return rows


def header(kind: str) -> FileHeader:
    provider = "131016" if kind in ("SKQ1", "SKA1", "SKR1") else None
    batch = None if kind == "TKN1" else "batch-1"
    return FileHeader(kind, uuid.UUID(int=42), batch, provider)


@pytest.mark.parametrize("kind", sorted(LAYOUTS))
def test_every_layout_round_trips(kind):
    content = write(LAYOUTS[kind], header(kind), rows_of(kind))
    assert content.endswith(b"\r\n")
    assert parse(LAYOUTS[kind], content) == (header(kind), rows_of(kind))


def test_the_answer_file_uses_the_public_column_names():
    text = write(ANSWER, header("SKR1"), ROWS["SKR1"]).decode()
    columns = text.split("\r\n")[1].split(",")
    for name in (
        "宛名番号",
        "情報提供者機関コード",
        "照会ステータス（明細単位）",
        "照会ステータス（特定個人情報名単位）",
        "照会処理結果メッセージ（明細単位）",
        "市町村民税均等割額",
        "市町村民税所得割額（定額減税前）",
    ):
        assert name in columns
    assert text.split("\r\n")[2].startswith("000000000012345,")  # zero-padded to 15 digits


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda b: b.replace(b"\r\n", b"\n"), "CR LF"),
        (lambda b: b"\xef\xbb\xbf" + b, "byte order mark"),
        (lambda b: b[:-2], "CR LF"),
        (lambda b: b.replace(b"FGQ1", b"FGR1", 1), "another kind"),
        (lambda b: b.replace(b",1\r\n", b",2\r\n", 1), "record_count"),
        (lambda b: b.replace("個人番号".encode(), "番号".encode()), "columns"),
        (
            lambda b: b.replace(
                NUMBER.encode(), NUMBER[:11].encode() + str((int(NUMBER[11]) + 1) % 10).encode()
            ),
            "個人番号",
        ),
        (lambda b: b.replace(ATENA.encode(), ATENA[3:].encode()), "団体内統合宛名番号"),
        (lambda b: b.replace(b"," + NUMBER.encode(), b""), "line 3"),
        (lambda b: b.replace(b"\r\n0,", b'\r\n"0,', 1), "line 3"),
    ],
)
def test_a_broken_code_request_names_where_never_what(mutate, where):
    content = mutate(write(CODE_REQUEST, header("FGQ1"), ROWS["FGQ1"]))
    with pytest.raises(IsWireError, match=where) as info:
        parse(CODE_REQUEST, content)
    assert NUMBER not in str(info.value)
    assert NUMBER[:11] not in str(info.value)
    assert not find_numbers(str(info.value))


@pytest.mark.parametrize(
    ("row", "column"),
    [
        (replace(ROWS["SKR1"][2], tax_year=2025), "特定個人情報名単位"),
        (replace(ROWS["SKR1"][0], income_levy=None), "特定個人情報名単位"),
        (replace(ROWS["SKR1"][0], household_size=3), "特定個人情報名単位"),
        (replace(ROWS["SKR1"][0], provided_at=None), "提供日時"),
    ],
)
def test_an_answer_carries_one_complete_set_of_data_or_none(row, column):
    with pytest.raises(IsWireError, match=column):
        write(ANSWER, header("SKR1"), [row])


def test_a_delete_carries_no_data_and_an_insert_all_of_it():
    with pytest.raises(IsWireError, match="a delete carries no"):
        write(DUPLICATE_REQUEST, header("DBQ1"), [replace(ROWS["DBQ1"][1], annual_amount=1)])
    with pytest.raises(IsWireError, match="carries the 副本データ"):
        write(DUPLICATE_REQUEST, header("DBQ1"), [replace(ROWS["DBQ1"][0], suspended=None)])


def test_a_code_is_present_exactly_when_acquired():
    with pytest.raises(IsWireError, match="符号"):
        write(CODE_RESULT, header("FGR1"), [CodeResultRow(0, ATENA, True, None)])


def test_values_that_do_not_fit_are_refused_on_writing():
    with pytest.raises(IsWireError, match="照会処理結果メッセージ"):
        write(ACCEPTANCE, header("SKA1"), [AcceptanceRow("Q0000001", "accepted", "two\nlines")])
    with pytest.raises(IsWireError, match="要求明細番号"):
        write(DUPLICATE_RESULT, header("DBR1"), [replace(ROWS["DBR1"][0], record_seq=-1)])
    with pytest.raises(IsWireError, match="1 to"):
        write(QUERY, header("SKQ1"), [])


def test_file_names_carry_kind_id_and_provider_and_no_digit_run():
    request = uuid.UUID("12345678-1234-5678-1234-567812345678")
    name = file_name("SKQ1", request, "131016")
    assert parse_name(name) == ("SKQ1", request, "131016")
    assert not any(c.isdigit() for c in name.split("-")[2])
    assert parse_name(file_name("FGQ1", request)) == ("FGQ1", request, None)
    for bad in (
        "IS-SKQ1-abc.csv",
        "IS-FGQ1-" + "a" * 28 + "-131016.csv",
        "IS-SKQ1-" + "a" * 28 + ".csv",
        "x",
    ):
        with pytest.raises(IsFileError):
            parse_name(bad)
    with pytest.raises(ValueError, match="provider"):
        file_name("DBQ1", request, "131016")


@given(st.uuids())
def test_ids_as_letters_round_trip(value):
    text = id_text(value)
    assert len(text) == 28
    assert text.isalpha()
    assert text.islower()
    assert id_of_text(text) == value


# --- properties of the parser -------------------------------------------------------------------------------

_atena = st.from_regex(r"[0-9]{15}", fullmatch=True)
_record_id = st.from_regex(r"[0-9A-Z]{4,32}", fullmatch=True)
_code = st.from_regex(r"[A-Z]{8,64}", fullmatch=True)
_spi = st.from_regex(r"TM[0-9]{14}", fullmatch=True)
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x7f"),
    max_size=40,
).map(str.strip)
_small = st.integers(min_value=0, max_value=9_999_999)
_at = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=JST)
)
_query = st.builds(
    QueryRow,
    record_seq=_small,
    record_id=_record_id,
    atena_no=_atena,
    code=_code,
    spi_code=_spi,
    jimu_code=st.from_regex(r"[A-Z][A-Z0-9]{2,15}", fullmatch=True),
    current_item=st.integers(1, 300),
    current_article=st.integers(1, 999).map(lambda n: f"第{n}条"),
    legacy_item=st.none() | st.integers(1, 300),
    provider_org_code=st.from_regex(r"[0-9A-Z]{6}", fullmatch=True),
    tax_year=st.none() | st.integers(2000, 2100),
)
_tax_answer = st.builds(
    AnswerRow,
    atena_no=_atena,
    record_id=_record_id,
    provider_org_code=st.just("131016"),
    provider_name=_text.filter(bool),
    detail_status=st.just("09"),
    spi_status=st.just("01"),
    message=st.none() | _text.filter(bool),
    provided_at=_at,
    non_disclosure=st.booleans(),
    tax_year=st.integers(2000, 2100),
    taxable=st.booleans(),
    per_capita_levy=_small,
    income_levy=_small,
)
_no_data = st.builds(
    AnswerRow,
    atena_no=_atena,
    record_id=_record_id,
    provider_org_code=st.just("011002"),
    provider_name=st.just("札幌市"),
    detail_status=st.just("09"),
    spi_status=st.just("02"),
    provided_at=_at,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_query, min_size=1, max_size=8))
def test_query_files_round_trip(rows):
    head = FileHeader("SKQ1", uuid.UUID(int=7), "b", "131016")
    assert parse(QUERY, write(QUERY, head, rows)) == (head, rows)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_tax_answer | _no_data, min_size=1, max_size=8))
def test_answer_files_round_trip(rows):
    head = FileHeader("SKR1", uuid.UUID(int=8), None, "131016")
    assert parse(ANSWER, write(ANSWER, head, rows)) == (head, rows)


@settings(max_examples=300)
@given(st.sampled_from(sorted(LAYOUTS)), st.binary(max_size=400))
def test_any_bytes_either_parse_or_fail_with_a_wire_error(kind, content):
    with contextlib.suppress(IsWireError):
        parse(LAYOUTS[kind], content)


@settings(max_examples=300)
@given(st.sampled_from(sorted(LAYOUTS)), st.data())
def test_a_changed_byte_either_still_parses_or_fails_with_a_wire_error(kind, data):
    content = bytearray(write(LAYOUTS[kind], header(kind), rows_of(kind)))
    position = data.draw(st.integers(0, len(content) - 1))
    content[position] = data.draw(st.integers(0, 255))
    problem = ""
    try:
        parse(LAYOUTS[kind], bytes(content))
    except IsWireError as exc:
        problem = str(exc)
    assert not find_numbers(problem)


@settings(max_examples=200)
@given(st.data())
def test_a_text_line_of_csv_noise_never_escapes_as_another_error(data):
    noise = data.draw(st.text(max_size=60))
    content = (
        write(QUERY, FileHeader("SKQ1", uuid.UUID(int=9), "b", "131016"), ROWS["SKQ1"])
        + (noise + "\r\n").encode()
    )
    with contextlib.suppress(IsWireError):
        parse(QUERY, content)


def test_the_format_documentation_prints_every_layout_as_declared():
    from pathlib import Path

    from adapters.intermediate_server.wire import markdown_table

    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats" / "intermediate_server.md").read_text(
        "utf-8"
    )
    assert "Modelled on public facts, pending the official 中間サーバー interface specification" in doc
    for kind, layout in LAYOUTS.items():
        assert f"(`{kind}`)\n\n{markdown_table(layout)}\n" in doc, (
            f"docs/formats/intermediate_server.md: {kind}"
        )

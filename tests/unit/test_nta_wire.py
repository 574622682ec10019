"""The NTA layouts: the withholding slip (377) as the Agency publishes it, the receipt, their limits."""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.nta import NtaFieldRefused, NtaFileError, NtaWireError, layout_tables, parse_name
from adapters.nta.receipt import ReceiptFile, parse_receipt, write_receipt
from adapters.nta.slip import NUMBER_ITEMS, ROW, SlipRecord, parse_slips, read_slips, write_slips
from adapters.records.fields import Field, ProblemKind
from adapters.records.fields import FieldType as T
from adapters.statutory import Amounts
from contracts.individual_number import IndividualNumber, check_digit
from contracts.messages.eltax import ReceiptStatus
from contracts.redaction import find_numbers
from tests.nta_fixtures import PAYER, number, slip_file, slip_record

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "nta.md"
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BY_NAME = {f.name: f for f in ROW.fields}


# -- the layout is the Agency's ----------------------------------------------------------------------------


def test_the_slip_has_the_71_items_of_the_standard_in_their_places():
    assert len(ROW.fields) == 71
    item = {f.name: f.offset + 1 for f in ROW.fields}
    assert item["document_kind"] == 1
    assert item["birth_era"] == 15
    assert (item["s1_paid"], item["s2_paid"], item["s3_paid"], item["s4_paid"]) == (19, 23, 27, 31)
    assert item["s4_unwithheld"] == 34
    assert (item["special_disabled"], item["elderly_self"], item["spouse_status"]) == (35, 37, 38)
    assert (item["remarks"], item["single_parent"], item["non_resident_relatives"]) == (45, 47, 50)
    assert (item["payer_corporate_number"], item["kana_name"], item["individual_number"]) == (51, 52, 53)
    assert (item["spouse_kana"], item["spouse_number"]) == (54, 57)
    assert (item["dependant_1_kana"], item["dependant_1_number"], item["dependant_2_number"]) == (58, 61, 65)
    assert (item["minor_1_kana"], item["minor_1_category"], item["minor_2_category"]) == (66, 68, 71)


def test_every_item_is_a_published_fact_or_code():
    assert {f.source for f in ROW.fields} == {"D", "D-code"}
    assert {f.name for f in ROW.fields if f.source == "D-code"} == {
        f.name for f in ROW.fields if f.type is T.CODE
    }


@pytest.mark.parametrize(
    ("name", "length", "kind"),
    [
        ("payer_address", 60, T.FULLWIDTH),
        ("payer_name", 30, T.FULLWIDTH),
        ("payer_phone", 15, T.ASCII),
        ("payer_reference", 10, T.ASCII),
        ("payer_reference_2", 13, T.ASCII),
        ("tax_year", 2, T.DIGITS),
        ("address", 60, T.FULLWIDTH),
        ("name", 30, T.FULLWIDTH),
        ("s1_paid", 10, T.DIGITS),
        ("social_insurance", 10, T.DIGITS),
        ("elderly_dependants", 2, T.DIGITS),
        ("remarks", 100, T.FULLWIDTH),
        ("payer_corporate_number", 13, T.ASCII),
        ("kana_name", 30, T.KANA),
        ("individual_number", 13, T.ASCII),
        ("spouse_kana", 30, T.FULLWIDTH),
        ("dependant_2_category", 2, T.CODE),
        ("minor_2_name", 30, T.FULLWIDTH),
    ],
)
def test_the_items_keep_their_published_lengths(name, length, kind):
    assert (BY_NAME[name].length, BY_NAME[name].type) == (length, kind)


def test_the_number_items_are_the_four_the_standard_names():
    assert {"individual_number", "spouse_number", "dependant_1_number", "dependant_2_number"} == NUMBER_ITEMS
    assert not [f for f in ROW.fields if f.name.startswith("minor_") and f.name.endswith("_number")]


def test_the_documentation_prints_every_layout_as_declared():
    text = DOC.read_text(encoding="utf-8")
    for key, table in layout_tables().items():
        assert table in text, f"docs/formats/nta.md is out of date for {key}: paste layout_tables()[{key!r}]"


# -- writing and reading back ------------------------------------------------------------------------------


def test_a_written_file_reads_back_equal():
    file = slip_file(3)
    assert parse_slips(write_slips(file)) == file


def test_a_slip_without_people_reads_back_equal():
    file = dataclasses.replace(slip_file(1), records=(slip_record(0, people=False),))
    assert parse_slips(write_slips(file)) == file


def _line(content: bytes, line: int = 1) -> list[str]:
    return content.split(b"\r\n")[line - 1].decode("cp932").split(",")


def test_the_file_is_cp932_one_line_per_slip_with_crlf():
    content = write_slips(slip_file(2))
    assert content.endswith(b"\r\n")
    assert content.count(b"\r\n") == 2
    items = _line(content)
    assert len(items) == 71
    assert items[0] == "377"
    assert items[10] == "08"  # 年分: 2026 is 令和8年
    assert items[51] == "ｻﾄｳ ｼｹﾞﾙ"  # item 52 is half-width
    assert items[57] == "サトウ　イチロウ"  # item 58 is full-width


def test_numbers_are_written_as_zero_and_twelve_digits():
    items = _line(write_slips(slip_file(1)))
    record = slip_record(0)
    assert record.individual_number is not None
    assert record.spouse is not None
    assert items[52] == "0" + record.individual_number.reveal()
    spouse = record.spouse.individual_number
    assert spouse is not None
    assert items[56] == "0" + spouse.reveal()
    assert items[55] == "00"  # 区分: resident
    assert items[53] == ""  # the spouse's reading, unknown, stays empty


@pytest.mark.parametrize(
    ("born", "code", "year"),
    [
        (date(1910, 5, 1), "3", "43"),  # 明治
        (date(1920, 5, 1), "2", "09"),  # 大正
        (date(1948, 2, 1), "1", "23"),  # 昭和
        (date(1990, 5, 1), "4", "02"),  # 平成
        (date(2020, 5, 1), "5", "02"),  # 令和
    ],
)
def test_the_agencys_era_codes_are_written_and_read(born, code, year):
    record = dataclasses.replace(slip_record(0, people=False), birth_date=born)
    file = dataclasses.replace(slip_file(1), records=(record,))
    content = write_slips(file)
    assert _line(content)[14:16] == [code, year]
    assert parse_slips(content).records[0].birth_date == born


def test_the_fourth_group_of_amounts_is_written_when_given():
    record = dataclasses.replace(slip_record(0), sections=(None, None, None, Amounts(paid=5)))
    content = write_slips(dataclasses.replace(slip_file(1), records=(record,)))
    assert _line(content)[30] == "5"
    assert parse_slips(content).records[0].sections[3] == Amounts(paid=5)


# -- every item's limits, read from a line -----------------------------------------------------------------

LENGTHED = [f for f in ROW.fields if f.type in (T.ASCII, T.FULLWIDTH, T.KANA, T.DIGITS)]


def _at_limit(f: Field, extra: int = 0) -> str:
    n = f.length + extra
    if f.name in NUMBER_ITEMS:
        return "0" + number(7).reveal() + "0" * extra
    return {T.FULLWIDTH: "ア" * n, T.KANA: "ｱ" * n, T.DIGITS: "1" * n}.get(
        f.type, ("1" if f.pattern else "A") * n
    )


def _with_item(f: Field, text: str) -> bytes:
    items = _line(write_slips(slip_file(1)))
    items[f.offset] = text
    return ",".join(items).encode("cp932") + b"\r\n"


@pytest.mark.parametrize("f", LENGTHED, ids=lambda f: f.name)
def test_each_item_holds_its_length_and_not_one_more(f: Field):
    at, over = read_slips(_with_item(f, _at_limit(f))), read_slips(_with_item(f, _at_limit(f, 1)))
    limits = (ProblemKind.SIZE, ProblemKind.PATTERN)
    assert not [p for p in at.rows[0].problems if p.field == f and p.kind in limits]
    assert [p for p in over.rows[0].problems if p.field == f and p.kind in limits], f.name


CODED = [f for f in ROW.fields if f.type in (T.CODE, T.FLAG, T.LITERAL, T.FILLER)]


@pytest.mark.parametrize("f", CODED, ids=lambda f: f.name)
def test_each_coded_item_refuses_a_code_outside_its_table(f: Field):
    bad = {T.FLAG: "2", T.LITERAL: "331", T.FILLER: "x"}.get(f.type, "9" * f.length)
    problems = read_slips(_with_item(f, bad)).rows[0].problems
    assert [p for p in problems if p.field == f], f.name


_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize("shape", ["twelve digits", "leading one", "fourteen digits", "full width"])
def test_a_number_not_written_as_the_standard_says_is_refused_without_showing_it(shape):
    valid = number(3).reveal()
    text = {
        "twelve digits": valid,
        "leading one": "1" + valid,
        "fourteen digits": "0" + valid + "0",
        "full width": ("0" + valid).translate(_FULL_WIDTH_DIGITS),
    }[shape]
    with pytest.raises(NtaWireError) as caught:
        parse_slips(_with_item(BY_NAME["individual_number"], text))
    assert caught.value.record_no == 1
    assert "individual_number" in str(caught.value)
    assert not find_numbers(str(caught.value))


def test_a_number_with_a_wrong_check_digit_is_refused():
    valid = number(5).reveal()
    wrong = valid[:11] + str((check_digit(valid[:11]) + 1) % 10)
    with pytest.raises(NtaWireError, match="check digit"):
        parse_slips(_with_item(BY_NAME["spouse_number"], "0" + wrong))


# -- the writer refuses before a byte leaves ---------------------------------------------------------------


def _write(record: SlipRecord) -> bytes:
    return write_slips(dataclasses.replace(slip_file(1), records=(record,)))


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"name": "𠮷田　茂"}, "name"),
        ({"name": "ｻﾄｳ"}, "name"),
        ({"kana_name": "ア" * 31}, "kana_name"),
        ({"remarks": "あ" * 101}, "remarks"),
        ({"correction": 2}, "correction"),
        ({"social_insurance": 10**10}, "social_insurance"),
        ({"birth_date": date(1860, 1, 1)}, "birth_era"),
        ({"under_16_dependants": None}, "under_16_dependants"),
        ({"other_dependants": None, "elderly_dependants": 1}, "other_dependants"),
    ],
)
def test_a_value_the_layout_forbids_is_refused_naming_line_and_item(change, item):
    with pytest.raises(NtaFieldRefused) as caught:
        _write(dataclasses.replace(slip_record(0), **change))
    assert caught.value.record_no == 1
    assert caught.value.field is not None
    assert caught.value.field.startswith(item)


def test_a_repeated_number_in_a_slip_is_refused_without_showing_it():
    record = slip_record(0)
    assert record.spouse is not None
    twin = dataclasses.replace(record.spouse, individual_number=record.individual_number)
    with pytest.raises(NtaFieldRefused) as caught:
        _write(dataclasses.replace(record, spouse=twin))
    assert "spouse_number" in str(caught.value)
    assert not find_numbers(str(caught.value))


def test_more_entries_than_the_slip_has_items_are_refused():
    record = slip_record(0)
    with pytest.raises(NtaFieldRefused, match="more entries"):
        _write(dataclasses.replace(record, dependants=record.dependants * 2))


def test_a_tax_year_before_reiwa_is_refused():
    with pytest.raises(NtaFieldRefused, match="令和"):
        write_slips(dataclasses.replace(slip_file(1), tax_year=2018))


def test_read_slips_reports_every_bad_line_and_keeps_the_good_ones():
    content = write_slips(slip_file(3))
    lines = content.split(b"\r\n")
    lines[1] = lines[1].replace(b"377,", b"378,", 1)
    reading = read_slips(b"\r\n".join(lines))
    assert [bool(r.problems) for r in reading.rows] == [False, True, False]
    assert reading.payer == PAYER
    assert reading.tax_year == 2026


def test_a_line_of_another_payer_is_named():
    other = write_slips(
        dataclasses.replace(slip_file(1), payer=dataclasses.replace(PAYER, name="別の共済組合"))
    )
    reading = read_slips(write_slips(slip_file(1)) + other)
    assert [p.field.name for p in reading.rows[1].problems if p.field] == ["payer_name"]


# -- the receipt (renkei's own) ----------------------------------------------------------------------------

REJECTED = ReceiptFile(
    "NTA-377dat01-" + "a" * 32 + ".txt",
    2026,
    date(2027, 1, 20),
    ReceiptStatus.REJECTED,
    3,
    ((None, "payer_corporate_number", "E120"), (2, "individual_number", "E110"), (3, None, "E010")),
)


def test_receipts_read_back_equal():
    accepted = dataclasses.replace(REJECTED, status=ReceiptStatus.ACCEPTED, errors=())
    for receipt in (REJECTED, accepted):
        assert parse_receipt(write_receipt(receipt)) == receipt


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"", "CR LF"),
        (b"E,1,,E001\r\n", "line kind"),
        (b"H,NTA-x.txt,2026,20270120,1,3,2\r\nE,1,,E001\r\n", "error_count"),
        (b"H,NTA-x.txt,2026,20270120,0,3,1\r\nE,1,,E001\r\n", "status"),
        (b"H,NTA-x.txt,2026,20270120,1,3,1\r\nE,4,,E001\r\n", "line"),
        (b"H,NTA-x.txt,2026,20270120,1,3,1\r\nE,1,Bad,E001\r\n", "field"),
        (b"H,NTA-x.txt,2026,20270120,1,3,1\r\nE,1,,X001\r\n", "code"),
        (b"H,NTA-x.txt,2026,20271320,0,3,0\r\n", "received_on"),
        (b"H,NTA-x.txt,2026,20270120,0,3,0\r\nH,NTA-x.txt,2026,20270120,0,3,0\r\n", "line kind"),
    ],
)
def test_a_broken_receipt_is_refused_with_its_reason(content, where):
    with pytest.raises(NtaWireError, match=where):
        parse_receipt(content)


def test_a_receipt_whose_status_contradicts_its_errors_is_not_written():
    with pytest.raises(NtaFieldRefused):
        write_receipt(dataclasses.replace(REJECTED, errors=()))


# -- properties --------------------------------------------------------------------------------------------

KANJI = "佐藤鈴木高橋田中渡辺一二三四五六七八九丁目番号北海道東京都大阪府市区町村本栄緑あいうえおアイウエオ"
KANA = (
    "アイウエオカキクケコガギグゲゴサシスセソタチツテトナニヌネノ"
    "ハヒフヘホパピプペポマミムメモヤユヨラリルレロワン"
)


def _numbers() -> st.SearchStrategy[IndividualNumber]:
    base = st.text(alphabet="0123456789", min_size=11, max_size=11)
    return base.map(lambda b: IndividualNumber(b + str(check_digit(b))))


_given_amounts = st.builds(Amounts, *[st.one_of(st.none(), st.integers(0, 10**10 - 1))] * 4).filter(
    lambda a: any(v is not None for v in (a.paid, a.unpaid, a.withheld, a.unwithheld))
)
_amounts = st.one_of(st.none(), _given_amounts)  # an empty group reads back as no group


@FAST
@given(
    name=st.text(alphabet=KANJI, min_size=1, max_size=30),
    kana=st.text(alphabet=KANA, min_size=1, max_size=15),
    born=st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    sections=st.tuples(_amounts, _amounts, _amounts, _amounts),
    own=st.one_of(st.none(), _numbers()),
    tax_year=st.integers(2019, 2100),
)
def test_any_valid_slip_reads_back_equal(name, kana, born, sections, own, tax_year):
    record = dataclasses.replace(
        slip_record(0, people=False),
        name=name,
        kana_name=kana,
        birth_date=born,
        sections=sections,
        individual_number=own,
    )
    file = dataclasses.replace(slip_file(1), tax_year=tax_year, records=(record,))
    assert parse_slips(write_slips(file)) == file


@FAST
@given(st.binary(max_size=2_000))
def test_the_parsers_on_arbitrary_bytes_give_a_clear_error_never_a_crash(content):
    read_slips(content)  # the lenient reader never raises
    for parse in (parse_slips, parse_receipt):
        with contextlib.suppress(NtaWireError):
            parse(content)


@FAST
@given(st.lists(st.text(alphabet="0123456789,ｱア\u3000-", max_size=40), min_size=71, max_size=71))
def test_a_line_of_the_right_shape_with_any_items_gives_a_clear_error_never_a_crash(items):
    content = ",".join(items).encode("cp932") + b"\r\n"
    refused: list[NtaWireError] = []
    try:
        parse_slips(content)
    except NtaWireError as exc:
        refused.append(exc)
    for error in refused:
        assert error.record_no in (None, 1)
        assert not find_numbers(str(error))


@FAST
@given(
    st.one_of(
        st.text(max_size=80),
        st.from_regex(r"NTA-(RC-)?377dat0[0-9]-[0-9a-f]{30,34}\.(txt|csv)", fullmatch=True),
    )
)
def test_a_file_name_is_read_or_refused_as_not_ours_never_a_crash(name):
    refused: list[NtaFileError] = []
    try:
        read = parse_name(name)
    except NtaFileError as exc:
        refused.append(exc)
    else:
        assert read.code in ("377", "RC")
    for error in refused:
        assert not find_numbers(str(error))

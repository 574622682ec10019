"""The eLTAX layouts: declared once, round trips, CP932 and JIS8 bytes, and refusals that name the field."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from adapters.eltax import (
    EltaxFieldRefused,
    EltaxWireError,
    ReceiptEntry,
    ReceiptFile,
    layout_tables,
    parse_notice,
    parse_receipt,
    parse_report,
    read_notice,
    read_report,
    write_notice,
    write_receipt,
    write_report,
)
from adapters.eltax.report import ROW, ReportSpouseEntry
from adapters.eltax.tokucho import DATA, HEADER, LABEL, LABEL_LENGTH, RECORD_LENGTH, TRAILER
from adapters.records.era import from_era, tax_year_to_reiwa, to_era
from adapters.records.text import (
    KANJI_IN,
    KANJI_OUT,
    encode_jis0208,
    to_fullwidth_kana,
    to_halfwidth_kana,
)
from contracts.messages.eltax import EltaxDocument, ReceiptStatus, TokuchoNoticeCode
from contracts.redaction import find_numbers
from tests.eltax_fixtures import notice_file, notice_record, number, report_file, report_record

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "eltax.md"


# -- the layouts as data --------------------------------------------------------------------------------


def test_the_fixed_length_layouts_have_their_documented_sizes():
    assert LABEL.length == LABEL_LENGTH == 96
    for layout in (HEADER, DATA, TRAILER):
        assert layout.length == RECORD_LENGTH == 500
        assert sum(f.length for f in layout.fields) == 500


def test_the_data_record_is_383_characters_with_its_shifts_counted_in_bytes():
    shifts = [f for f in DATA.fields if f.type.value in ("shift_in", "shift_out")]
    kanji = [f for f in DATA.fields if f.type.value == "kanji"]
    assert [f.length for f in shifts] == [3, 3, 3, 3]
    assert [f.length for f in kanji] == [50, 160]
    characters = 500 - sum(f.length for f in shifts) - sum(f.length for f in kanji) // 2
    assert characters == 383
    # The public tool's character offset of 各種区分 is 264: the byte offset minus shifts and half the kanji.
    category = next(f for f in DATA.fields if f.name == "category")
    before = [f for f in DATA.fields if f.offset < category.offset]
    shift_bytes = sum(f.length for f in before if f.type.value in ("shift_in", "shift_out"))
    kanji_bytes = sum(f.length for f in before if f.type.value == "kanji")
    assert category.offset == 381
    assert category.offset - shift_bytes - kanji_bytes // 2 == 264


def test_the_documented_data_fields_keep_their_public_lengths():
    lengths = {f.name: f.length for f in DATA.fields}
    assert lengths["basic_pension_number"] == 10
    assert lengths["pension_code"] == 4
    assert lengths["kana_name"] == 25
    assert lengths["kana_address"] == 80
    assert lengths["certificate_number"] == 15
    assert [lengths[f"amount_{i}"] for i in (1, 2, 3)] == [11, 11, 11]
    assert DATA.fields[-1].name == "certificate_number"


def test_the_csv_row_has_the_49_public_items_first_then_the_number_items():
    names = [f.name for f in ROW.fields]
    assert len(names) == 77
    assert ROW.fields[0].literal == "331"
    assert names[47] == "municipality_code"
    assert names[46] == "recipient_number"
    assert all(f.source == "I" for f in ROW.fields[49:])
    assert {f.source for f in ROW.fields[:49]} == {"D-code"}


def test_the_documentation_prints_every_layout_as_declared():
    text = DOC.read_text(encoding="utf-8")
    for key, table in layout_tables().items():
        assert table in text, (
            f"docs/formats/eltax.md is out of date for {key}: paste layout_tables()[{key!r}]"
        )


# -- character sets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "half"),
    [("サトウ\u3000シゲル", "ｻﾄｳ ｼｹﾞﾙ"), ("ヴァン", "ｳﾞｧﾝ"), ("パー・ル", "ﾊﾟｰ･ﾙ")],
)
def test_katakana_converts_both_ways(full, half):
    assert to_halfwidth_kana(full) == half
    assert to_fullwidth_kana(half) == full


@pytest.mark.parametrize("text", ["ヶ", "ヰ", "漢", "ａ"])
def test_katakana_without_a_half_width_form_is_refused(text):
    assert to_halfwidth_kana(text) is None


def test_jis0208_rejects_what_only_cp932_has():
    assert encode_jis0208("佐藤") == b":4F#"
    assert encode_jis0208("髙") is None  # an IBM extension: in CP932, not in JIS X 0208
    assert encode_jis0208("①") is None  # an NEC special character
    assert encode_jis0208("A") is None  # ASCII is not a two-byte code


def test_the_csv_is_cp932_bytes():
    content = write_report(report_file(1))
    assert "佐藤　茂".encode("cp932") in content
    assert "ｻﾄｳ ｼｹﾞﾙ".encode("cp932") in content
    assert content.endswith(b"\r\n")
    assert content.decode("cp932").count(",") == 76


def test_the_notice_is_jis8_with_shifts_around_each_kanji_field():
    content = write_notice(notice_file(count=1))
    data = content[LABEL_LENGTH + RECORD_LENGTH : LABEL_LENGTH + 2 * RECORD_LENGTH]
    assert data.count(KANJI_IN) == 2
    assert data.count(KANJI_OUT) == 2
    assert data[72:75] == KANJI_IN
    assert data[125:128] == KANJI_OUT
    assert data[75:79] == b":4F#"  # 佐藤 in JIS X 0208
    assert bytes(range(0xA1, 0xE0)).find(data[47:48]) >= 0  # the kana name starts with a JIS X 0201 kana
    assert len(content) == 96 + 3 * 500


def test_a_notice_read_with_mainframe_shift_sequences_parses():
    content = write_notice(notice_file(count=2))
    older = content.replace(KANJI_IN, b"\x1b$@").replace(KANJI_OUT, b"\x1b(J")
    assert parse_notice(older) == parse_notice(content)


# -- round trips ------------------------------------------------------------------------------------------


def test_payment_report_round_trip():
    file = report_file(5)
    assert parse_report(write_report(file)) == file


def test_payment_report_round_trip_without_people():
    file = replace(report_file(1), records=(report_record(0, people=False),))
    assert parse_report(write_report(file)) == file


@pytest.mark.parametrize("code", list(TokuchoNoticeCode))
def test_notice_round_trip_for_every_code(code):
    file = notice_file(code, created_on=date(2026, 11, 10))
    assert parse_notice(write_notice(file)) == file


def test_receipt_round_trip():
    receipt = ReceiptFile(
        "ELTAX-PR331-13101-" + "0" * 32 + ".csv",
        EltaxDocument.PAYMENT_REPORT,
        None,
        "13101",
        date(2027, 1, 20),
        ReceiptStatus.ACCEPTED,
        (),
        (
            ReceiptEntry(1, "P0000000001", ReceiptStatus.ACCEPTED),
            ReceiptEntry(2, "P0000000002", ReceiptStatus.REJECTED, (("name", "E005"), (None, "E010"))),
            ReceiptEntry(3, None, ReceiptStatus.REJECTED, (("recipient_number", "E100"),)),
        ),
    )
    assert parse_receipt(write_receipt(receipt)) == receipt


def test_eras_round_trip():
    assert to_era(date(1989, 1, 7)) == (3, 64)
    assert to_era(date(1989, 1, 8)) == (4, 1)
    assert to_era(date(2019, 5, 1)) == (5, 1)
    assert from_era(3, 64, 1, 8) is None  # 昭和 ended on 7 January 1989
    assert from_era(4, 31, 2, 29) is None
    assert tax_year_to_reiwa(2026) == 8
    assert tax_year_to_reiwa(2018) is None


# -- what the layout forbids is caught before it is written, named, without its value ----------------------


def _refused(write, file) -> EltaxFieldRefused:
    with pytest.raises(EltaxFieldRefused) as caught:
        write(file)
    return caught.value


def test_a_name_outside_cp932_is_refused_with_the_field_and_record_named():
    records = list(report_file(3).records)
    records[1] = replace(records[1], name="𠮷田　茂")
    error = _refused(write_report, replace(report_file(3), records=tuple(records)))
    assert error.record_no == 2
    assert error.field == "name (支払を受ける者 氏名)"
    assert "𠮷" not in str(error)
    assert "payment report record #2, field name" in str(error)


def test_half_width_text_in_a_full_width_item_is_refused():
    record = replace(report_record(0), address="Tokyo 1-1")
    error = _refused(write_report, replace(report_file(1), records=(record,)))
    assert error.field is not None, "the error names the field"
    assert error.field.startswith("address ")


def test_a_too_long_remark_is_refused():
    record = replace(report_record(0), remarks="あ" * 101)
    error = _refused(write_report, replace(report_file(1), records=(record,)))
    assert error.field is not None, "the error names the field"
    assert error.field.startswith("remarks ")
    assert "longer than 100" in str(error)


def test_a_repeated_number_in_a_row_is_refused_without_showing_it():
    record = report_record(0)
    record = replace(record, spouse=ReportSpouseEntry("佐藤　節子", record.individual_number))
    error = _refused(write_report, replace(report_file(1), records=(record,)))
    assert error.field is not None, "the error names the field"
    assert error.field.startswith("spouse_number ")
    assert not find_numbers(str(error))


def test_more_named_dependants_than_counted_are_refused():
    record = replace(report_record(0), other_dependants=None)
    error = _refused(write_report, replace(report_file(1), records=(record,)))
    assert error.field is not None, "the error names the field"
    assert error.field.startswith("other_dependants ")


def test_a_kanji_name_outside_jis0208_is_refused_in_a_notice():
    records = list(notice_file(count=2).records)
    records[1] = replace(records[1], kanji_name="髙橋　茂")
    error = _refused(write_notice, replace(notice_file(count=2), records=tuple(records)))
    assert error.record_no == 3  # the header is record #1
    assert error.field == "kanji_name (漢字氏名)"


def test_a_number_in_a_notice_that_does_not_carry_one_is_refused():
    record = replace(notice_record(0, TokuchoNoticeCode.REQUEST_RESULT), individual_number=number(1))
    file = replace(notice_file(TokuchoNoticeCode.REQUEST_RESULT, count=1), records=(record,))
    error = _refused(write_notice, file)
    assert error.field == "individual_number (個人番号)"


def test_an_amount_a_notice_does_not_use_is_refused():
    record = replace(notice_record(0, TokuchoNoticeCode.LOSS), amounts=(100, None, None, None, None, None))
    file = replace(notice_file(TokuchoNoticeCode.LOSS, count=1), records=(record,))
    assert _refused(write_notice, file).field == "amount_1 (各種金額欄1)"


def test_a_category_outside_its_notice_is_refused():
    record = replace(notice_record(0), category="03")
    error = _refused(write_notice, replace(notice_file(count=1), records=(record,)))
    assert error.field == "category (各種区分)"


# -- strict parsing ---------------------------------------------------------------------------------------


def test_a_truncated_notice_is_refused_as_a_whole():
    content = write_notice(notice_file(count=2))
    with pytest.raises(EltaxWireError, match="whole 500-byte records"):
        parse_notice(content[:-1])


def test_a_record_that_contradicts_its_header_is_named():
    content = bytearray(write_notice(notice_file(count=2)))
    second = LABEL_LENGTH + 2 * RECORD_LENGTH
    content[second + 1 : second + 6] = b"13101"
    with pytest.raises(EltaxWireError) as caught:
        parse_notice(bytes(content))
    assert caught.value.record_no == 3
    assert caught.value.field is not None, "the error names the field"
    assert caught.value.field.startswith("municipality_code")


def test_a_broken_shift_is_named():
    content = bytearray(write_notice(notice_file(count=1)))
    data = LABEL_LENGTH + RECORD_LENGTH
    content[data + 72 : data + 75] = b"   "
    with pytest.raises(EltaxWireError, match=re.escape("shift_1 (シフト)")):
        parse_notice(bytes(content))


def test_read_report_reports_every_bad_row_and_keeps_the_good_ones():
    content = write_report(report_file(3)).split(b"\r\n")
    content[1] = content[1].replace("鈴木　和子".encode("cp932"), b"Suzuki")
    content[2] = b"331,too,few"
    reading = read_report(b"\r\n".join(content))
    assert [r.record is not None for r in reading.rows] == [True, False, False]
    named = reading.rows[1].problems[0].field
    assert named is not None
    assert named.name == "name"
    assert reading.rows[2].problems[0].field is None
    assert reading.municipality_code == "13101"


def test_read_notice_keeps_reading_after_a_bad_record():
    content = bytearray(write_notice(notice_file(count=3)))
    data = LABEL_LENGTH + RECORD_LENGTH
    content[data + 21 : data + 31] = b"12345abcde"  # 基礎年金番号 of the first data record
    reading = read_notice(bytes(content))
    assert [bool(r.problems) for r in reading.records] == [True, False, False]
    named = reading.records[0].problems[0].field
    assert named is not None
    assert named.name == "basic_pension_number"
    assert reading.records[0].certificate_number == "P0000000000"


def test_a_receipt_whose_counts_disagree_is_refused():
    receipt = ReceiptFile(
        "ELTAX-PR331-13101-" + "0" * 32 + ".csv",
        EltaxDocument.PAYMENT_REPORT,
        None,
        "13101",
        date(2027, 1, 20),
        ReceiptStatus.ACCEPTED,
        (),
        (ReceiptEntry(1, "P0000000001", ReceiptStatus.ACCEPTED),),
    )
    content = write_receipt(receipt).replace(b",1,0\r\n", b",2,0\r\n", 1)
    with pytest.raises(EltaxWireError, match="record_count"):
        parse_receipt(content)

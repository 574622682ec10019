"""The shared record engine (adapters.records): what every adapter's layouts rely on.

Round trips are properties (any value a field accepts reads back equal), and every refusal names the
record and the field through the adapter's own error, never the value.
"""

from __future__ import annotations

import ast
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.records.csv import CsvCodec, csv_layout, rfc4180_items, rfc4180_line
from adapters.records.fields import JST, Field, FieldType, Problem, ProblemKind, field, markdown_table
from adapters.records.fixed import FixedCodec, fixed_layout
from contracts.individual_number import IndividualNumber

ROOT = Path(__file__).resolve().parents[2]
T = FieldType
NUMBER = IndividualNumber("123456789018")


class Refused(Exception):
    """The test's stand-in for an adapter's error: what a factory makes of a problem."""

    def __init__(self, problem: Problem, record_no: int) -> None:
        super().__init__(f"record #{record_no}, field {problem.where}: {problem.text}")
        self.problem = problem
        self.record_no = record_no


FIXED = fixed_layout(
    "sample",
    120,
    field("kind", "区分", 1, T.LITERAL, literal="2"),
    field("seq", "連番", 6, T.DIGITS),
    field("ref", "参照", 10, T.ASCII, pattern=r"[a-z0-9]{1,10}"),
    field("note", "備考", 30, T.TEXT, required=False),
    field("kana", "カナ", 10, T.KANA, required=False),
    field("in", "", 3, T.SHIFT_IN),
    field("kanji", "漢字", 10, T.KANJI, required=False),
    field("out", "", 3, T.SHIFT_OUT),
    field("born", "生年月日", 8, T.DATE, required=False),
    field("cycle", "月", 6, T.MONTH, required=False),
    field("colour", "色", 1, T.CODE, required=False, codes=(("r", "red"), ("g", "green"))),
    field("flag", "区分2", 1, T.FLAG, required=False),
    field("number", "個人番号", 12, T.INDIVIDUAL_NUMBER, required=False),
)
FIXED_CODEC = FixedCodec(FIXED, reading=Refused)

ROW = csv_layout(
    "sample row",
    field("kind", "区分", 1, T.LITERAL, literal="D"),
    field("seq", "連番", 7, T.DIGITS, padded=True),
    field("count", "件数", 10, T.DIGITS, required=False),
    field("ref", "参照", 10, T.ASCII, pattern=r"[a-z0-9]{1,10}"),
    field("note", "備考", 30, T.TEXT, required=False),
    field("name", "氏名", 10, T.FULLWIDTH, required=False),
    field("kana", "カナ", 10, T.KANA, required=False),
    field("born", "生年月日", 8, T.DATE, required=False),
    field("at", "日時", 14, T.DATETIME, required=False),
    field("colour", "色", 1, T.CODE, required=False, codes=(("r", "red"), ("g", "green"))),
    field("flag", "区分2", 1, T.FLAG, required=False),
    field("number", "個人番号", 12, T.INDIVIDUAL_NUMBER, required=False),
    field("reserve", "予備", 1, T.FILLER, required=False),
)
ROW_CODEC = CsvCodec(ROW, reading=Refused)

_KANA = st.text(alphabet="アイウエオカガキギパピャュョッー", min_size=1, max_size=5)
_KANJI = st.text(alphabet="山田太郎花子東京都千代田区一二三", min_size=1, max_size=5)
_FREE = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "S")), min_size=1, max_size=10
).filter(lambda t: t == t.strip() and "," not in t)
_REF = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def fixed_values(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "seq": draw(st.integers(0, 999_999)),
        "ref": draw(_REF),
        "note": draw(_optional(_FREE.filter(lambda t: len(t.encode()) <= 30))),
        "kana": draw(_optional(_KANA.filter(lambda t: len(t) <= 5))),
        "kanji": draw(_optional(_KANJI)),
        "born": draw(_optional(st.dates())),
        "cycle": draw(_optional(st.builds("{:04d}-{:02d}".format, st.integers(0, 9999), st.integers(1, 12)))),
        "colour": draw(_optional(st.sampled_from(["red", "green"]))),
        "flag": draw(_optional(st.booleans())),
        "number": draw(_optional(st.just(NUMBER))),
    }


@given(fixed_values())
def test_any_fixed_width_record_round_trips_at_its_length(values: dict[str, Any]) -> None:
    raw = FIXED_CODEC.encode(values, 2)
    assert len(raw) == FIXED.length
    assert FIXED_CODEC.decode(raw, 0, 2) == values
    assert FIXED_CODEC.encode_values([values[n] for n in FIXED_CODEC.value_names], 2) == raw


@st.composite
def row_values(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "seq": draw(st.integers(0, 9_999_999)),
        "count": draw(_optional(st.integers(0, 9_999_999_999))),
        "ref": draw(_REF),
        "note": draw(_optional(_FREE)),
        "name": draw(_optional(_KANJI)),
        "kana": draw(_optional(_KANA)),
        "born": draw(_optional(st.dates())),
        "at": draw(_optional(st.datetimes(timezones=st.just(JST)).map(lambda d: d.replace(microsecond=0)))),
        "colour": draw(_optional(st.sampled_from(["red", "green"]))),
        "flag": draw(_optional(st.booleans())),
        "number": draw(_optional(st.just(NUMBER))),
    }


@given(row_values())
def test_any_csv_row_round_trips_in_both_dialects(values: dict[str, Any]) -> None:
    note = values["note"]
    if note is None or note.encode("cp932", errors="replace").decode("cp932") == note:  # CP932 holds it
        assert ROW_CODEC.decode_row(ROW_CODEC.encode_row(values, 3), 3) == values
    else:  # free text CP932 lacks or would change is refused against its item, never written
        with pytest.raises(Refused, match=r"field note \(備考\): is not CP932"):
            ROW_CODEC.encode_row(values, 3)
    line = rfc4180_line(ROW_CODEC.write_items(values, 3), terminator="")
    items = rfc4180_items(line)
    assert items is not None
    assert ROW_CODEC.decode_items(items, 3) == values


def test_fixed_width_bytes_are_those_of_the_declaration() -> None:
    values = {"seq": 7, "ref": "abc", "kana": "カナ", "kanji": "山田", "born": date(1950, 1, 2), "flag": True}
    raw = FIXED_CODEC.encode(values, 1)
    assert raw[:17] == b"2000007abc       "
    assert raw[47:57] == b"\xb6\xc5" + b" " * 8  # half-width katakana in JIS X 0201
    assert raw[57:73] == b"\x1b$B" + "山田".encode("iso2022_jp")[3:-3] + b"\x21\x21" * 3 + b"\x1b(B"
    assert raw[73:81] == b"19500102"
    assert raw.endswith(b"1" + b" " * 12 + b" " * 19)  # the flag, a blank number, the filler


def test_a_refusal_names_record_and_field_never_the_value() -> None:
    secret = "zz99secret"
    raw = bytearray(FIXED_CODEC.encode({"seq": 1, "ref": "a"}, 1))
    raw[7:17] = secret.upper().encode()
    with pytest.raises(Refused) as info:
        FIXED_CODEC.decode(bytes(raw), 0, 5)
    assert info.value.record_no == 5
    assert info.value.problem.where == "ref (参照)"
    assert secret.upper() not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__context__ is None
    with pytest.raises(Refused, match=r"field number \(個人番号\): is not an Individual Number"):
        FIXED_CODEC.encode({"seq": 1, "ref": "a", "number": "123456789018"}, 1)


def test_a_row_lists_every_problem_with_its_kind() -> None:
    line = b"X,12,,a b,, ,,20230230,,b,2,123456789012,"
    _, found = ROW_CODEC.problems(line)
    kinds = {(p.field.name if p.field else None): p.kind for p in found}
    assert kinds == {
        "kind": ProblemKind.STRUCTURE,
        "seq": ProblemKind.PATTERN,  # not zero-padded
        "ref": ProblemKind.PATTERN,
        "name": ProblemKind.CHARSET,  # a half-width space is not full-width
        "born": ProblemKind.RANGE,
        "colour": ProblemKind.PATTERN,
        "flag": ProblemKind.PATTERN,
        "number": ProblemKind.PATTERN,
    }
    assert ROW_CODEC.problems(b"D,1")[1][0].kind is ProblemKind.STRUCTURE


def test_writing_and_reading_errors_come_from_their_own_factories() -> None:
    class Written(Refused):
        pass

    codec = CsvCodec(ROW, reading=Refused, writing=Written)
    with pytest.raises(Written, match="is required"):
        codec.encode_row({"seq": 1}, 4)
    with pytest.raises(Written, match="is not an aware date and time"):
        codec.encode_row({"seq": 1, "ref": "a", "at": datetime.max.replace(tzinfo=UTC)}, 4)
    with pytest.raises(Written, match="is not an aware date and time"):
        codec.encode_row({"seq": 1, "ref": "a", "at": datetime(2024, 1, 1)}, 4)
    with pytest.raises(Refused) as info:
        codec.decode_row(b"D,0000001,,a,,,,,,,,,x", 4)
    assert not isinstance(info.value, Written)


@pytest.mark.parametrize(
    "fields",
    [
        (field("a", "", 4, T.KANJI),),  # a kanji field without its shifts
        (field("a", "", 2, T.SHIFT_IN), field("b", "", 4, T.KANJI), field("c", "", 3, T.SHIFT_OUT)),
        (field("a", "", 4, T.FULLWIDTH),),  # CSV only
        (field("a", "", 8, T.DIGITS), field("b", "", 8, T.DIGITS)),  # longer than the record
    ],
)
def test_a_fixed_layout_that_cannot_be_read_is_refused_when_declared(fields: tuple[Field, ...]) -> None:
    with pytest.raises(ValueError, match="layout x"):
        fixed_layout("x", 10, *fields)


def test_a_csv_layout_refuses_fixed_width_only_kinds() -> None:
    with pytest.raises(ValueError, match="fixed-width only"):
        csv_layout("x", field("a", "", 6, T.MONTH))


def test_the_markdown_table_is_generated_from_the_declaration() -> None:
    labelled = markdown_table(ROW.name, ROW.fields, by_bytes=False)
    assert "| colour | 色 | 10 | 1 | code r/g | no | D-code |" in labelled
    short = markdown_table(FIXED.name, FIXED.fields, by_bytes=True, labelled=False)
    assert "| kind | 1 | 1 | literal `2` | yes |" in short
    assert "| reserve | 102 | 19 | filler | no |" in short


def test_the_engine_imports_only_the_standard_library_and_contracts() -> None:
    imported: set[str] = set()
    for path in (ROOT / "adapters" / "records").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module)
    assert imported
    outside = {
        name
        for name in imported
        if name.split(".")[0] not in sys.stdlib_module_names
        and name.split(".")[0] != "contracts"
        and not name.startswith("adapters.records")
    }
    assert outside == set()


ISO_ROW = csv_layout(
    "iso row", field("on", "日付", 10, T.ISO_DATE), field("off", "日付2", 10, T.ISO_DATE, required=False)
)
ISO_CODEC = CsvCodec(ISO_ROW, reading=Refused)


@given(st.dates(), _optional(st.dates()))
def test_an_iso_date_round_trips_and_is_written_yyyy_mm_dd(on: date, off: date | None) -> None:
    values = {"on": on, "off": off}
    items = ISO_CODEC.write_items(values, 1)
    assert items[0] == on.isoformat()
    assert len(items[0]) == 10
    assert ISO_CODEC.decode_items(items, 1) == values


@pytest.mark.parametrize(
    "text", ["20230102", "2023-02-30", "2023-1-02", "２０２３-01-02", "2023/01/02", "+023-01-02"]
)
def test_an_iso_date_that_is_not_one_is_refused_naming_the_item(text: str) -> None:
    with pytest.raises(Refused, match=r"field on \(日付\): is not a calendar date YYYY-MM-DD") as info:
        ISO_CODEC.decode_items([text, ""], 7)
    assert info.value.record_no == 7
    assert text not in str(info.value)

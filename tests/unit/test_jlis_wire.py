"""The J-LIS fixed-width files: round trips, strict rejection of every malformed kind, and properties."""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.jlis import (
    BatchHeader,
    JlisWireError,
    RequestFile,
    RequestRecord,
    ResultFile,
    ResultRecord,
    parse_request,
    parse_result,
    write_request,
    write_result,
)
from adapters.jlis.wire import (
    REQUEST_DATA,
    REQUEST_HEADER,
    REQUEST_LAYOUTS,
    RESULT_DATA,
    RESULT_HEADER,
    RESULT_LAYOUTS,
    RESULT_TRAILER,
    markdown_table,
)
from adapters.records.fixed import FixedLayout as Layout
from contracts.individual_number import IndividualNumber, check_digit
from contracts.messages.survival import MoveKind, SurvivalOutcome, UnmatchedReason
from contracts.redaction import find_numbers

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "jlis.md"
RNG = random.Random(20251001)


def number(rng: random.Random = RNG) -> IndividualNumber:
    base = "".join(str(rng.randrange(10)) for _ in range(11))
    return IndividualNumber(base + str(check_digit(base)))


HEADER = BatchHeader(
    request_id=uuid.UUID("0b7c6a8e-2d1f-4c3a-9e5b-7f1d2c3b4a59"),
    batch_id="cycle-2025-10.part_1",
    chunk_index=3,
    chunk_count=7,
    total_records=123_456,
    cycle="2025-10",
    as_of=date(2025, 9, 20),
)
NUMBERS = [number() for _ in range(4)]


def request_file(n: int = 4) -> RequestFile:
    numbers = NUMBERS if n <= len(NUMBERS) else [number() for _ in range(n)]
    return RequestFile(HEADER, tuple(RequestRecord(i * 2, f"ref_{i:08d}", numbers[i]) for i in range(n)))


def result_records() -> tuple[ResultRecord, ...]:
    """One record per outcome and move kind, with every optional field used somewhere."""
    r = ResultRecord
    return (
        r(0, "ref_alive000", SurvivalOutcome.ALIVE),
        r(1, "ref_dead0000", SurvivalOutcome.DEAD, death_date=date(2025, 8, 14)),
        r(2, "ref_reloc000", SurvivalOutcome.MOVED, move_kind=MoveKind.RELOCATION, moved_on=date(2025, 8, 1),
          new_address="東京都新宿区本町二丁目１番３号", postal_code="1600001", municipality_code="13104",
          abroad=False),
        r(3, "ref_movin000", SurvivalOutcome.MOVED, move_kind=MoveKind.MOVED_IN, moved_on=date(2025, 9, 30),
          new_address="大阪府大阪市中央一丁目１２番１号", postal_code="5300012", municipality_code="271004",
          abroad=False),
        r(4, "ref_pend0000", SurvivalOutcome.MOVED, move_kind=MoveKind.MOVED_OUT_PENDING,
          moved_on=date(2025, 9, 2)),
        r(5, "ref_abroad00", SurvivalOutcome.MOVED, move_kind=MoveKind.MOVED_ABROAD,
          moved_on=date(2025, 8, 20), new_address="大韓民国ソウル特別市", abroad=True),
        r(6, "ref_name0000", SurvivalOutcome.NAME_CHANGED, new_name="髙橋\u3000𠮷子",
          name_changed_on=date(2025, 8, 8)),
        r(7, "ref_number00", SurvivalOutcome.NUMBER_CHANGED, new_individual_number=NUMBERS[0]),
        r(8, "ref_nf_abr00", SurvivalOutcome.NOT_FOUND, unmatched_reason=UnmatchedReason.ABROAD),
        r(9, "ref_nf_nrc00", SurvivalOutcome.NOT_FOUND, unmatched_reason=UnmatchedReason.NO_RESIDENT_CODE),
        r(10, "ref_nf_ncm00", SurvivalOutcome.NOT_FOUND,
          unmatched_reason=UnmatchedReason.NOT_CONNECTED_MUNICIPALITY),
        r(11, "ref_nf_unk00", SurvivalOutcome.NOT_FOUND, unmatched_reason=UnmatchedReason.NUMBER_UNKNOWN),
    )  # fmt: skip


def result_file() -> ResultFile:
    return ResultFile(HEADER, fee_units=12, records=result_records())


# -- round trips ------------------------------------------------------------------------------------


def test_request_round_trip() -> None:
    file = request_file()
    content = write_request(file)
    assert len(content) == 6 * 162
    assert parse_request(content) == file
    assert write_request(parse_request(content)) == content


def test_result_round_trip_covers_every_outcome() -> None:
    file = result_file()
    content = write_result(file)
    assert len(content) == (len(file.records) + 2) * 802
    parsed = parse_result(content)
    assert parsed == file
    hub_only = {SurvivalOutcome.NO_NUMBER, SurvivalOutcome.NOT_PERMITTED}
    assert {r.outcome for r in parsed.records} == set(SurvivalOutcome) - hub_only
    assert {r.move_kind for r in parsed.records} - {None} == set(MoveKind)
    assert {r.unmatched_reason for r in parsed.records} - {None} == set(UnmatchedReason)
    assert write_result(parsed) == content


def test_records_end_with_crlf_and_text_is_utf8() -> None:
    content = write_result(result_file())
    records = content.split(b"\r\n")
    assert records[-1] == b""
    assert {len(r) for r in records[:-1]} == {800}
    assert "髙橋\u3000𠮷子".encode() in content  # a character outside JIS X 0208 survives


def test_the_documentation_shows_the_layouts_of_the_code() -> None:
    doc = DOC.read_text(encoding="utf-8")
    assert "pending the official J-LIS specification" in doc
    for lay in REQUEST_LAYOUTS + RESULT_LAYOUTS:
        assert markdown_table(lay) in doc, f"docs/formats/jlis.md is out of date for the {lay.name}"


# -- malformed files --------------------------------------------------------------------------------


def set_field(content: bytes, lay: Layout, record_no: int, name: str, value: bytes) -> bytes:
    """``content`` with field ``name`` of record ``record_no`` (1-based) replaced by ``value`` (padded)."""
    f = next(f for f in lay.fields if f.name == name)
    assert len(value) <= f.length
    start = (record_no - 1) * (lay.length + 2) + f.offset
    return content[:start] + value.ljust(f.length, b" ") + content[start + f.length :]


REQ = write_request(request_file())
RES = write_result(result_file())
DIGITS_0 = NUMBERS[0].reveal().encode()
BAD_CHECK = DIGITS_0[:11] + str((int(DIGITS_0[11:]) + 1) % 10).encode()
FULLWIDTH = "１２３４".encode()  # 12 bytes of full-width digits

Case = tuple[Callable[[bytes], bytes], Callable[[bytes], object], int | None, str | None, bytes | None]
CASES: dict[str, Case] = {
    "empty": (lambda c: b"", parse_request, None, None, None),
    "truncated": (lambda c: c[:-7], parse_request, None, None, None),
    "padded": (lambda c: c + b" ", parse_request, None, None, None),
    "trailer missing": (lambda c: c[:-162], parse_request, 5, "record_kind", None),
    "header missing": (lambda c: c[162:], parse_request, 1, "record_kind", None),
    "only header and trailer": (lambda c: c[:162] + c[-162:], parse_request, None, None, None),
    "no CR LF": (lambda c: c[:322] + b"  " + c[324:], parse_request, 2, "terminator", None),
    "bad check digit": (
        lambda c: set_field(c, REQUEST_DATA, 2, "individual_number", BAD_CHECK),
        parse_request, 2, "individual_number", BAD_CHECK,
    ),
    "full-width digits in the number": (
        lambda c: set_field(c, REQUEST_DATA, 3, "individual_number", FULLWIDTH),
        parse_request, 3, "individual_number", FULLWIDTH,
    ),
    "number too short": (
        lambda c: set_field(c, REQUEST_DATA, 2, "individual_number", DIGITS_0[:11]),
        parse_request, 2, "individual_number", DIGITS_0[:11],
    ),
    "number blank": (
        lambda c: set_field(c, REQUEST_DATA, 4, "individual_number", b""),
        parse_request, 4, "individual_number", None,
    ),
    "full-width digits in record_seq": (
        lambda c: set_field(c, REQUEST_DATA, 2, "record_seq", "１２３".encode()),
        parse_request, 2, "record_seq", None,
    ),
    "letter in record_seq": (
        lambda c: set_field(c, REQUEST_DATA, 2, "record_seq", b"00000001x"),
        parse_request, 2, "record_seq", b"00000001x",
    ),
    "ref too short": (
        lambda c: set_field(c, REQUEST_DATA, 2, "ref", b"ref_1"), parse_request, 2, "ref", b"ref_1"
    ),
    "ref not left-aligned": (
        lambda c: set_field(c, REQUEST_DATA, 2, "ref", b" ref_00000000"), parse_request, 2, "ref", None
    ),
    "repeated record_seq": (
        lambda c: set_field(c, REQUEST_DATA, 3, "record_seq", b"000000000"),
        parse_request, 3, "record_seq", None,
    ),
    "unknown purpose": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "purpose", b"ZZ99"), parse_request, 1, "purpose", b"ZZ99"
    ),
    "bad month": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "cycle", b"202513"), parse_request, 1, "cycle", None
    ),
    "bad date": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "as_of", b"20250231"), parse_request, 1, "as_of", None
    ),
    "wrong format id": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "format_id", b"SVR1"), parse_request, 1, "format_id", None
    ),
    "chunk index past count": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "chunk_index", b"000007"),
        parse_request, 1, "chunk_index", None,
    ),
    "header count mismatch": (
        lambda c: set_field(c, REQUEST_HEADER, 1, "record_count", b"0000005"),
        parse_request, 1, "record_count", None,
    ),
    "trailer count mismatch": (
        lambda c: c[:-161] + b"0000005" + c[-154:], parse_request, 6, "record_count", None
    ),
    "checksum mismatch": (
        lambda c: set_field(c, REQUEST_DATA, 2, "ref", b"ref_zzzzzzzz"), parse_request, 6, "checksum", None
    ),
    "filler not blank": (lambda c: c[:300] + b"x" + c[301:], parse_request, 2, "filler", None),
    "a result parsed as a request": (lambda c: RES, parse_request, None, None, None),
    "unknown outcome": (
        lambda c: set_field(c, RESULT_DATA, 2, "outcome", b"55"), parse_result, 2, "outcome", b"55"
    ),
    "unknown move kind": (
        lambda c: set_field(c, RESULT_DATA, 4, "move_kind", b"9"), parse_result, 4, "move_kind", None
    ),
    "unknown unmatched reason": (
        lambda c: set_field(c, RESULT_DATA, 10, "unmatched_reason", b"7"),
        parse_result, 10, "unmatched_reason", None,
    ),
    "dead without a date": (
        lambda c: set_field(c, RESULT_DATA, 3, "death_date", b""), parse_result, 3, "death_date", None
    ),
    "new number on an alive person": (
        lambda c: set_field(c, RESULT_DATA, 2, "new_individual_number", DIGITS_0),
        parse_result, 2, "new_individual_number", DIGITS_0,
    ),
    "new number with a bad check digit": (
        lambda c: set_field(c, RESULT_DATA, 9, "new_individual_number", BAD_CHECK),
        parse_result, 9, "new_individual_number", BAD_CHECK,
    ),
    "postal code without an address": (
        lambda c: set_field(c, RESULT_DATA, 2, "postal_code", b"1000001"),
        parse_result, 2, "postal_code", None,
    ),
    "invalid UTF-8": (
        lambda c: set_field(c, RESULT_DATA, 4, "new_address", b"\xe6\x9d\xb1\xff"),
        parse_result, 4, "new_address", None,
    ),
    "truncated UTF-8 character": (
        lambda c: set_field(c, RESULT_DATA, 8, "new_name", "髙".encode()[:2]),
        parse_result, 8, "new_name", None,
    ),
    "control character in a name": (
        lambda c: set_field(c, RESULT_DATA, 8, "new_name", "山田\n花子".encode()),
        parse_result, 8, "new_name", None,
    ),
    "flag not 0 or 1": (
        lambda c: set_field(c, RESULT_DATA, 4, "abroad", b"2"), parse_result, 4, "abroad", None
    ),
    "fee with full-width digits": (
        lambda c: set_field(c, RESULT_HEADER, 1, "fee_units", "１２３".encode()),
        parse_result, 1, "fee_units", None,
    ),
    "checksum not hex": (
        lambda c: set_field(c, RESULT_TRAILER, 14, "checksum", b"Z" * 64), parse_result, 14, "checksum", None
    ),
}  # fmt: skip


def assert_safe(error: JlisWireError, offending: bytes | None) -> None:
    """The error names a place, never the value: no digit run, no valid number, no offending bytes.

    Nor does it carry a chained exception (a KeyError or UnicodeDecodeError would hold the raw bytes).
    """
    assert error.__cause__ is None
    assert error.__context__ is None
    text = str(error)
    assert not re.search(r"[0-9０-９]{5,}", text), text
    assert find_numbers(text) == []
    if offending:
        assert offending.decode("utf-8", "replace") not in text


@pytest.mark.parametrize("case", sorted(CASES))
def test_malformed_files_are_refused_naming_record_and_field(case: str) -> None:
    mutate, parse, record_no, field, offending = CASES[case]
    original = RES if parse is parse_result else REQ
    with pytest.raises(JlisWireError) as info:
        parse(mutate(original))
    error = info.value
    assert error.record_no == record_no
    assert error.field == field
    if field is not None:
        assert f"field {field}" in str(error)
        assert f"record #{record_no}" in str(error)
    assert_safe(error, offending)


def test_mutations_are_caught_by_the_right_rule_not_by_luck() -> None:
    # The byte offsets used by the cases above still point where the cases mean.
    assert REQ[320:322] == b"  "
    assert REQ[322:324] == b"\r\n"
    assert REQ[-161:-154] == b"0000004"


# -- the writer refuses what it could not write faithfully -------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"new_name": "髙" * 51}, "new_name"),  # 153 bytes
        ({"new_name": "山田 "}, "new_name"),  # a trailing space could not be told from padding
        ({"new_name": "山田\t花子"}, "new_name"),
        ({"record_seq": -1}, "record_seq"),
        ({"record_seq": 10**9}, "record_seq"),
        ({"ref": "REF_UPPER1"}, "ref"),
        ({"death_date": date(2025, 8, 1)}, "death_date"),  # not a dead person
        ({"postal_code": "1000001"}, "postal_code"),  # without an address
    ],
)
def test_the_writer_refuses_values_that_do_not_fit(change: dict[str, Any], field: str) -> None:
    base = ResultRecord(0, "ref_00000000", SurvivalOutcome.NAME_CHANGED, new_name="山田\u3000花子",
                        name_changed_on=date(2025, 8, 1))  # fmt: skip
    records = (replace(base, **change),)
    with pytest.raises(JlisWireError) as info:
        write_result(ResultFile(HEADER, 1, records))
    assert info.value.field == field
    assert info.value.record_no == 2


def test_the_writer_refuses_an_empty_file() -> None:
    with pytest.raises(JlisWireError, match="at least one data record"):
        write_request(RequestFile(HEADER, ()))


# -- properties -------------------------------------------------------------------------------------

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.binary(max_size=3000))
def test_random_bytes_never_crash_the_parsers(content: bytes) -> None:
    for parse in (parse_request, parse_result):
        try:
            parse(content)
        except JlisWireError as error:
            assert_safe(error, None)


@PROPERTY
@given(st.integers(0, 2**32), st.integers(1, 40))
def test_corrupted_spans_of_valid_files_never_crash(seed: int, span: int) -> None:
    # Same length, frame mostly intact: the damage reaches the field decoders, not just the frame check.
    rng = random.Random(seed)
    alphabet = b" 0123456789abcxyz_-SVQR\r\n\xe3\x80\x80\xef\xbc\x91\xff"
    for original, parse in ((REQ, parse_request), (RES, parse_result)):
        start = rng.randrange(len(original) - span)
        noise = bytes(rng.choice(alphabet) for _ in range(span))
        try:
            parse(original[:start] + noise + original[start + span :])
        except JlisWireError as error:
            assert_safe(error, None)


@PROPERTY
@given(st.data())
def test_single_byte_corruption_is_caught_or_harmless(data: st.DataObject) -> None:
    for original, parse in ((REQ, parse_request), (RES, parse_result)):
        position = data.draw(st.integers(0, len(original) - 1))
        byte = data.draw(st.integers(0, 255))
        corrupted = original[:position] + bytes([byte]) + original[position + 1 :]
        try:
            parsed = parse(corrupted)
        except JlisWireError as error:
            assert_safe(error, None)
        else:  # only a byte of the trailer's filler or an identical byte can pass
            assert parsed == parse(original)


_TEXT_CHARS = st.characters(
    codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x7f\u0085"
)


def _text(max_bytes: int) -> st.SearchStrategy[str]:
    return (
        st.text(_TEXT_CHARS, min_size=1, max_size=max_bytes // 4)
        .map(lambda s: s.strip(" "))
        .filter(lambda s: bool(s) and len(s.encode()) <= max_bytes)
    )


_NUMBERS = st.from_regex(r"[0-9]{11}", fullmatch=True).map(
    lambda b: IndividualNumber(b + str(check_digit(b)))
)
_REFS = st.from_regex(r"[a-z][a-z0-9_]{7,63}", fullmatch=True)
_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31))
_HEADERS = st.builds(
    BatchHeader,
    request_id=st.uuids(),
    batch_id=st.from_regex(r"[A-Za-z0-9_.-]{1,64}", fullmatch=True),
    chunk_index=st.just(0),
    chunk_count=st.integers(1, 999_999),
    total_records=st.integers(0, 999_999_999),
    cycle=st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(1, 12)),
    as_of=_DATES,
)


@st.composite
def _result_record(draw: st.DrawFn, seq: int) -> ResultRecord:
    hub_only = {SurvivalOutcome.NO_NUMBER, SurvivalOutcome.NOT_PERMITTED}
    outcome = draw(st.sampled_from([o for o in SurvivalOutcome if o not in hub_only]))
    address = draw(st.none() | _text(480))
    facts: dict[str, Any] = {}
    if address is not None:
        facts = {
            "new_address": address,
            "postal_code": draw(st.none() | st.from_regex(r"[0-9]{7}", fullmatch=True)),
            "municipality_code": draw(st.none() | st.from_regex(r"[0-9]{5,6}", fullmatch=True)),
            "abroad": draw(st.none() | st.booleans()),
        }
    if outcome is SurvivalOutcome.DEAD:
        facts["death_date"] = draw(_DATES)
    if outcome is SurvivalOutcome.MOVED or draw(st.booleans()):
        facts["move_kind"] = draw(st.sampled_from(MoveKind))
        facts["moved_on"] = draw(_DATES)
    if outcome is SurvivalOutcome.NAME_CHANGED or draw(st.booleans()):
        facts["new_name"] = draw(_text(150))
        facts["name_changed_on"] = draw(_DATES)
    if outcome is SurvivalOutcome.NUMBER_CHANGED:
        facts["new_individual_number"] = draw(_NUMBERS)
    if outcome is SurvivalOutcome.NOT_FOUND:
        facts["unmatched_reason"] = draw(st.sampled_from(UnmatchedReason))
    return ResultRecord(seq, draw(_REFS), outcome, **facts)


@PROPERTY
@given(_HEADERS, st.lists(st.tuples(_REFS, _NUMBERS), min_size=1, max_size=8))
def test_generated_request_files_round_trip(
    header: BatchHeader, rows: list[tuple[str, IndividualNumber]]
) -> None:
    file = RequestFile(header, tuple(RequestRecord(i * 7, ref, n) for i, (ref, n) in enumerate(rows)))
    assert parse_request(write_request(file)) == file


@PROPERTY
@given(_HEADERS, st.integers(0, 999_999_999), st.data())
def test_generated_result_files_round_trip(header: BatchHeader, fee: int, data: st.DataObject) -> None:
    count = data.draw(st.integers(1, 6))
    records = tuple(data.draw(_result_record(seq)) for seq in range(count))
    file = ResultFile(header, fee, records)
    assert parse_result(write_result(file)) == file

"""Properties of the eLTAX layouts: any valid record round-trips; no input crashes a parser."""

from __future__ import annotations

import contextlib
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.eltax import (
    EltaxWireError,
    parse_notice,
    parse_receipt,
    parse_report,
    read_notice,
    read_report,
    write_notice,
    write_report,
)
from adapters.eltax.report import (
    ReportDependantEntry,
    ReportFile,
    ReportMinorEntry,
    ReportRecord,
    ReportSpouseEntry,
)
from adapters.eltax.tokucho import (
    ADDRESSED_NOTICES,
    AMOUNT_SLOTS,
    DATED_NOTICES,
    NUMBER_NOTICES,
    RESULT_NOTICES,
    NoticeFile,
    NoticeHeader,
    NoticeRecord,
)
from adapters.statutory import Amounts
from contracts.individual_number import IndividualNumber, check_digit
from contracts.messages.eltax import CATEGORIES, Sex, TokuchoNoticeCode
from contracts.redaction import find_numbers
from tests.eltax_fixtures import PAYER, notice_file, report_file

KANJI = (
    "佐藤鈴木高橋田中渡辺一二三四五六七八九〇丁目番号北海道東京都大阪府市区町村本栄緑"
    "あいうえおアイウエオ１２３"
)
KANA = (
    "アイウエオカキクケコガギグゲゴサシスセソザジズゼゾタチツテトダヂヅデドナニヌネノ"
    "ハヒフヘホパピプペポバビブベボマミムメモヤユヨラリルレロワヲンャュョッー"
)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def words(alphabet: str, max_size: int) -> st.SearchStrategy[str]:
    """Text of ``alphabet`` that may hold U+3000 inside but neither starts nor ends with it."""
    body = st.text(alphabet=alphabet, min_size=1, max_size=max_size)
    return st.one_of(
        body, st.tuples(body, body).map(lambda p: f"{p[0]}\u3000{p[1]}"[:max_size].strip("\u3000"))
    )


numbers = st.integers(0, 10**11 - 1).map(lambda b: IndividualNumber(f"{b:011d}{check_digit(f'{b:011d}')}"))
amounts = st.one_of(st.none(), st.integers(0, 10**10 - 1))
births = st.dates(min_value=date(1913, 1, 1), max_value=date(2019, 4, 30))


@st.composite
def report_records(draw: st.DrawFn) -> ReportRecord:
    people = draw(st.lists(numbers, min_size=10, max_size=10, unique=True))
    spouse = draw(
        st.one_of(
            st.none(), st.builds(ReportSpouseEntry, words(KANJI, 30), st.sampled_from([None, people[1]]))
        )
    )
    dependants = draw(
        st.lists(
            st.builds(
                ReportDependantEntry,
                words(KANJI, 30),
                words(KANA, 25),
                st.sampled_from(["elderly", "specific", "other"]),
            ),
            max_size=4,
        )
    )
    dependants = [
        ReportDependantEntry(d.name, d.kana_name, d.kind, people[2 + k] if k % 2 else None)
        for k, d in enumerate(dependants)
    ]
    minors = draw(st.lists(st.builds(ReportMinorEntry, words(KANJI, 30)), max_size=4))
    minors = [ReportMinorEntry(m.name, people[6 + k]) for k, m in enumerate(minors)]
    kinds = [d.kind for d in dependants]
    section = st.one_of(
        st.none(),
        st.builds(Amounts, amounts, amounts, amounts, amounts).filter(
            lambda a: any(v is not None for v in (a.paid, a.unpaid, a.withheld, a.unwithheld))
        ),
    )
    return ReportRecord(
        recipient_number=draw(st.from_regex(r"[0-9A-Za-z-]{1,25}", fullmatch=True)),
        name=draw(words(KANJI, 30)),
        kana_name=draw(words(KANA, 30)),
        address=draw(words(KANJI, 60)),
        birth_date=draw(births),
        correction=draw(st.integers(0, 3)),
        abroad=draw(st.booleans()),
        sections=tuple(draw(section) for _ in range(3)),
        special_disabled=draw(st.booleans()),
        spouse_status=draw(st.sampled_from([None, 1, 2, 3])),
        elderly_dependants=kinds.count("elderly") or None,
        specific_dependants=kinds.count("specific") or None,
        other_dependants=(kinds.count("other") + draw(st.integers(0, 3))) or None,
        under_16_dependants=len(minors) or None,
        social_insurance=draw(amounts),
        remarks=draw(st.one_of(st.none(), words(KANJI, 100))),
        widow=draw(st.booleans()),
        individual_number=draw(st.sampled_from([None, people[0]])),
        spouse=spouse,
        dependants=tuple(dependants),
        minors=tuple(minors),
    )


@st.composite
def notice_files(draw: st.DrawFn) -> NoticeFile:
    code = draw(st.sampled_from(list(TokuchoNoticeCode)))
    slots = AMOUNT_SLOTS.get(code, ())

    def record() -> NoticeRecord:
        categories = sorted(CATEGORIES.get(code, {"01", "02"}))
        return NoticeRecord(
            certificate_number=draw(st.from_regex(r"[0-9A-Za-z-]{1,15}", fullmatch=True)),
            basic_pension_number=draw(st.from_regex(r"[0-9]{10}", fullmatch=True)),
            pension_code=draw(st.from_regex(r"[0-9]{4}", fullmatch=True)),
            birth_date=draw(births),
            sex=draw(st.sampled_from(list(Sex))),
            kana_name=draw(words(KANA, 12)),
            kanji_name=draw(words(KANJI, 25)),
            postal_code=draw(st.one_of(st.none(), st.from_regex(r"[0-9]{7}", fullmatch=True))),
            kana_address=draw(st.one_of(st.none(), words(KANA, 40))),
            kanji_address=draw(
                words(KANJI, 80) if code in ADDRESSED_NOTICES else st.one_of(st.none(), words(KANJI, 80))
            ),
            category=draw(st.sampled_from(categories))
            if code in CATEGORIES
            else draw(st.sampled_from([None, *categories])),
            result=draw(st.sampled_from(["00", "10", "90"])) if code in RESULT_NOTICES else None,
            event_date=draw(births) if code in DATED_NOTICES else draw(st.one_of(st.none(), births)),
            amounts=tuple(
                draw(amounts.map(lambda a: None if a is None else a)) if i < len(slots) and slots[i] else None
                for i in range(6)
            ),
            individual_number=draw(st.one_of(st.none(), numbers)) if code in NUMBER_NOTICES else None,
        )

    records = tuple(record() for _ in range(draw(st.integers(1, 4))))
    header = NoticeHeader(draw(st.from_regex(r"[0-9]{5}", fullmatch=True)), code, draw(births))
    return NoticeFile(header, records)


@FAST
@given(st.lists(report_records(), min_size=1, max_size=4))
def test_any_valid_payment_report_round_trips(records):
    file = ReportFile(PAYER, 2026, "13101", tuple(records))
    assert parse_report(write_report(file)) == file


@FAST
@given(notice_files())
def test_any_valid_notice_round_trips(file):
    assert parse_notice(write_notice(file)) == file


@FAST
@given(st.binary(max_size=2_000))
def test_random_bytes_never_crash_the_parsers(content):
    for parse in (parse_report, parse_notice, parse_receipt):
        with contextlib.suppress(EltaxWireError):
            parse(content)
    read_report(content)
    read_notice(content)


def _refusal(parse, content: bytes) -> str:
    """The parser's error message, or "" when it accepted the content (only EltaxWireError may escape)."""
    try:
        parse(content)
    except EltaxWireError as exc:
        return str(exc)
    return ""


VALID_REPORT = write_report(report_file(2))
VALID_NOTICE = write_notice(notice_file(count=2))


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    content = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(content) - 1))
        action = draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            content[position] = draw(st.integers(0, 255))
        elif action == "delete":
            del content[position]
        else:
            content.insert(position, draw(st.integers(0, 255)))
    return bytes(content)


@FAST
@given(mutated(VALID_REPORT))
def test_a_damaged_report_is_refused_or_read_never_crashes_and_never_quotes_a_number(content):
    assert not find_numbers(_refusal(parse_report, content))
    for row in read_report(content).rows:
        assert all(not find_numbers(p.text) for p in row.problems)


@FAST
@given(mutated(VALID_NOTICE))
def test_a_damaged_notice_is_refused_or_read_never_crashes_and_never_quotes_a_number(content):
    assert not find_numbers(_refusal(parse_notice, content))
    read_notice(content)

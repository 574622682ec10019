"""The withholding-slip file (公的年金等の源泉徴収票, 法定資料の種類 377) as data: one CSV line per slip.

The 71 items are the National Tax Agency's standard for statutory reports on optical disc or by e-Tax
(「光ディスク等による法定調書の提出」, レコードの内容及び記録要領 (35)): CSV, Shift_JIS within JIS levels 1
and 2 (CP932 here), comma-separated without quoting, an empty item where there is nothing to record, lengths
in characters (全角 / 半角). Every item is a published fact (``D``) or a published code list (``D-code``);
only the framing is renkei's (``I``): one slip per line, each line ending with CR LF, no header line.

Numbers (items 53, 57, 61, 65) are written as the standard says, ``0`` followed by the twelve digits
("0123456789012"); they are read back into :class:`~contracts.individual_number.IndividualNumber` with
their check digit verified. The era codes of item 15 are the Agency's own (昭和 1, 大正 2, 明治 3, 平成 4,
令和 5), not those of :mod:`adapters.records.era`, and are translated here.

:func:`write_slips` checks every item before a byte is returned and raises
:class:`~adapters.nta.errors.NtaFieldRefused` naming the line and the item. :func:`read_slips` reads
leniently, every problem of every line (the simulator's receipt); :func:`parse_slips` strictly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from adapters import statutory
from adapters.nta.errors import NtaFieldRefused, NtaWireError
from adapters.records.csv import CsvCodec, csv_layout
from adapters.records.era import tax_year_from_reiwa, tax_year_to_reiwa
from adapters.records.fields import Field, Problem, ProblemKind
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from adapters.statutory import Amounts, Recipient
from contracts.individual_number import IndividualNumber, is_valid_individual_number

__all__ = [
    "DEPENDANT_CATEGORIES",
    "DEPENDANT_SLOTS",
    "FILE_KIND",
    "LINE_END",
    "MINOR_SLOTS",
    "NUMBER_ITEMS",
    "RESIDENCE_CATEGORIES",
    "ROW",
    "SECTIONS",
    "Amounts",
    "SlipFile",
    "SlipMinor",
    "SlipPayer",
    "SlipPerson",
    "SlipReading",
    "SlipRecord",
    "SlipRowReading",
    "parse_slips",
    "read_slips",
    "write_slips",
]

FILE_KIND: Final = "withholding slip"
LINE_END: Final = b"\r\n"
DEPENDANT_SLOTS: Final = 2
"""控除対象扶養親族 the slip names (items 58–65); more are counted (items 39, 40, 44), not named."""
MINOR_SLOTS: Final = 2
"""16歳未満の扶養親族 the slip names (items 66–71); more are counted (item 49), not named."""
SECTIONS: Final = ("第1号・第4号", "第2号・第5号", "第3号・第6号", "第7号")
"""The four groups of amounts, by the 所得税法 第203条の3 items they apply to (items 19–34)."""

NTA_ERAS: Final = (("1", 3), ("2", 2), ("3", 1), ("4", 4), ("5", 5))
"""Item 15, 元号: the Agency's code → the era code of :mod:`adapters.records.era` (昭和 1, 大正 2, 明治 3,
平成 4, 令和 5; its 9, その他, names no era a date can be written in and is not accepted)."""
RESIDENCE_CATEGORIES: Final = (("00", "resident"), ("01", "non_resident"))
"""区分 of the 源泉控除対象配偶者 (item 56) and of a 16歳未満の扶養親族 (items 68, 71)."""
DEPENDANT_CATEGORIES: Final = (
    ("00", "resident"),
    ("01", "non_resident_under_30_or_70_plus"),
    ("02", "non_resident_student"),
    ("03", "non_resident_disabled"),
    ("04", "non_resident_supported"),
)
"""区分 of a 控除対象扶養親族 (items 60, 64): resident, or which non-resident case applies."""

_NUMBER_PATTERN: Final = r"0[0-9]{12}"


def _number_item(name: str, label: str) -> Field:
    return f(name, label, 13, T.ASCII, required=False, pattern=_NUMBER_PATTERN, source="D")


def _people_items() -> Iterator[Field]:
    yield f("spouse_kana", "源泉控除対象配偶者 フリガナ", 30, T.FULLWIDTH, required=False, source="D")
    yield f("spouse_name", "源泉控除対象配偶者 氏名", 30, T.FULLWIDTH, required=False, source="D")
    yield f(
        "spouse_category", "源泉控除対象配偶者 区分", 2, T.CODE, required=False, codes=RESIDENCE_CATEGORIES
    )
    yield _number_item("spouse_number", "源泉控除対象配偶者 個人番号")
    for k in range(1, DEPENDANT_SLOTS + 1):
        label = f"控除対象扶養親族({k})"
        yield f(f"dependant_{k}_kana", f"{label} フリガナ", 30, T.FULLWIDTH, required=False, source="D")
        yield f(f"dependant_{k}_name", f"{label} 氏名", 30, T.FULLWIDTH, required=False, source="D")
        yield f(
            f"dependant_{k}_category",
            f"{label} 区分",
            2,
            T.CODE,
            required=False,
            codes=DEPENDANT_CATEGORIES,
        )
        yield _number_item(f"dependant_{k}_number", f"{label} 個人番号")
    for k in range(1, MINOR_SLOTS + 1):
        label = f"16歳未満の扶養親族({k})"
        yield f(f"minor_{k}_kana", f"{label} フリガナ", 30, T.FULLWIDTH, required=False, source="D")
        yield f(f"minor_{k}_name", f"{label} 氏名", 30, T.FULLWIDTH, required=False, source="D")
        yield f(f"minor_{k}_category", f"{label} 区分", 2, T.CODE, required=False, codes=RESIDENCE_CATEGORIES)


def _flag(name: str, label: str) -> Field:
    return f(name, label, 1, T.FLAG, source="D")


def _count(name: str, label: str, length: int = 2) -> Field:
    return f(name, label, length, T.DIGITS, required=False, source="D")


ROW: Final = csv_layout(
    "withholding slip",
    f("document_kind", "法定資料の種類", 3, T.LITERAL, literal="377", source="D"),
    f("payer_reference", "整理番号1", 10, T.ASCII, required=False, pattern=r"[0-9]{10}", source="D"),
    f("branch_code", "本支店等区分番号", 5, T.ASCII, required=False, pattern=r"[0-9A-Za-z]{1,5}", source="D"),
    f("payer_address", "提出義務者の住所（居所）又は所在地", 60, T.FULLWIDTH, source="D"),
    f("payer_name", "提出義務者の氏名又は名称", 30, T.FULLWIDTH, source="D"),
    f(
        "payer_phone",
        "提出義務者の電話番号",
        15,
        T.ASCII,
        required=False,
        pattern=r"[0-9()-]{1,15}",
        source="D",
    ),
    f("payer_reference_2", "整理番号2", 13, T.ASCII, required=False, pattern=r"[0-9]{13}", source="D"),
    f("submitter_address", "提出者の住所（居所）又は所在地", 60, T.FILLER, required=False, source="D"),
    f("submitter_name", "提出者の氏名又は名称", 30, T.FILLER, required=False, source="D"),
    f("correction", "訂正表示", 1, T.CODE, codes=(("0", 0), ("1", 1))),
    f("tax_year", "年分", 2, T.DIGITS, padded=True, source="D"),
    f("address", "支払を受ける者 住所又は居所", 60, T.FULLWIDTH, source="D"),
    _flag("abroad", "支払を受ける者 国外住所表示"),
    f("name", "支払を受ける者 氏名", 30, T.FULLWIDTH, source="D"),
    f("birth_era", "生年月日 元号", 1, T.CODE, codes=NTA_ERAS),
    f("birth_year", "生年月日 年", 2, T.DIGITS, padded=True, source="D"),
    f("birth_month", "生年月日 月", 2, T.DIGITS, padded=True, source="D"),
    f("birth_day", "生年月日 日", 2, T.DIGITS, padded=True, source="D"),
    *statutory.section_items(SECTIONS, "法第203条の3", source="D"),
    _flag("special_disabled", "本人 特別障害者"),
    _flag("other_disabled", "本人 その他の障害者"),
    f("elderly_self", "本人 老年者", 1, T.FILLER, required=False, source="D"),
    f(
        "spouse_status",
        "源泉控除対象配偶者の有無等",
        1,
        T.CODE,
        required=False,
        codes=(("1", 1), ("2", 2), ("3", 3)),
    ),
    _count("elderly_dependants", "控除対象扶養親族の数 老人"),
    _count("other_dependants", "控除対象扶養親族の数 その他"),
    _count("disabled_special_count", "障害者の数 特別障害者"),
    _count("disabled_other_count", "障害者の数 その他"),
    _count("social_insurance", "社会保険料の金額", 10),
    _count("specific_dependants", "控除対象扶養親族の数 特定"),
    f("remarks", "摘要", 100, T.FULLWIDTH, required=False, source="D"),
    _count("disabled_special_cohabiting", "障害者の数 特別障害者（うち同居）"),
    _flag("single_parent", "本人 ひとり親・特別寡婦"),
    _flag("widow", "本人 寡婦・寡夫"),
    _count("under_16_dependants", "16歳未満の扶養親族の数"),
    _count("non_resident_relatives", "非居住者である親族の数"),
    f("payer_corporate_number", "提出義務者の法人番号", 13, T.ASCII, pattern=r"[0-9]{13}", source="D"),
    f("kana_name", "支払を受ける者のフリガナ", 30, T.KANA, source="D"),
    _number_item("individual_number", "支払を受ける者の個人番号"),
    *_people_items(),
)
"""The 71 items of one slip, in the standard's order."""
NUMBER_ITEMS: Final = frozenset(x.name for x in ROW.fields if x.pattern == _NUMBER_PATTERN)
"""The items that hold an Individual Number (``0`` and twelve digits)."""

_CODEC: Final = CsvCodec(
    ROW,
    reading=lambda p, n: NtaWireError.of(p, FILE_KIND, n),
    writing=lambda p, n: NtaFieldRefused.of(p, FILE_KIND, n),
)
_BY_NAME: Final = {x.name: x for x in ROW.fields}
_FLAGS: Final = ("abroad", "special_disabled", "other_disabled", "single_parent", "widow")
_COUNTS: Final = (
    "spouse_status",
    "elderly_dependants",
    "other_dependants",
    "specific_dependants",
    "under_16_dependants",
    "non_resident_relatives",
    "disabled_special_count",
    "disabled_other_count",
    "disabled_special_cohabiting",
    "social_insurance",
    "remarks",
)
_PAYER_ITEMS: Final = (
    "payer_reference",
    "branch_code",
    "payer_address",
    "payer_name",
    "payer_phone",
    "payer_reference_2",
    "payer_corporate_number",
    "tax_year",
)


@dataclass(frozen=True, slots=True)
class SlipPayer:
    """The payer (提出義務者), the same on every line of a file."""

    name: str
    address: str
    corporate_number: str
    phone: str | None = None
    reference_number: str | None = None
    branch_code: str | None = None
    reference_number_2: str | None = None


@dataclass(frozen=True, slots=True)
class SlipPerson:
    """源泉控除対象配偶者 or 控除対象扶養親族: a name, its reading if known, 区分 and the number."""

    name: str
    kana_name: str | None = None
    category: str = "resident"
    individual_number: IndividualNumber | None = None


@dataclass(frozen=True, slots=True)
class SlipMinor:
    """16歳未満の扶養親族: the slip names them without a number."""

    name: str
    kana_name: str | None = None
    category: str = "resident"


@dataclass(frozen=True, slots=True, kw_only=True)
class SlipRecord(Recipient):
    """One recipient's slip (a :class:`Recipient`); counts and amounts left ``None`` are empty items."""

    sections: tuple[Amounts | None, ...] = (None, None, None, None)
    non_resident_relatives: int | None = None
    single_parent: bool = False
    individual_number: IndividualNumber | None = None
    spouse: SlipPerson | None = None
    dependants: tuple[SlipPerson, ...] = ()
    minors: tuple[SlipMinor, ...] = ()


@dataclass(frozen=True, slots=True)
class SlipFile:
    """One submission: the slips of one payer for one tax year."""

    payer: SlipPayer
    tax_year: int
    records: tuple[SlipRecord, ...]


@dataclass(frozen=True, slots=True)
class SlipRowReading:
    """What :func:`read_slips` made of one line (``line`` from 1)."""

    line: int
    record: SlipRecord | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class SlipReading:
    """A submission read leniently: the file's facts (from its first good line) and every line."""

    payer: SlipPayer | None
    tax_year: int | None
    problems: tuple[Problem, ...] = ()
    rows: tuple[SlipRowReading, ...] = field(default_factory=tuple)


def _written_number(value: IndividualNumber | None) -> str | None:
    return None if value is None else "0" + value.reveal()


def _row_values(file: SlipFile, r: SlipRecord, line: int) -> dict[str, Any]:
    """The items of one line; raises ``NtaFieldRefused`` for what the items cannot express."""
    year = tax_year_to_reiwa(file.tax_year)
    if year is None or year > 99:
        raise NtaFieldRefused(
            "cannot be written as a year of 令和", file_kind=FILE_KIND, record_no=line, field="tax_year"
        )
    if len(r.sections) != len(SECTIONS) or len(r.dependants) > DEPENDANT_SLOTS or len(r.minors) > MINOR_SLOTS:
        raise NtaFieldRefused("has more entries than the slip has items", file_kind=FILE_KIND, record_no=line)
    payer = file.payer
    values: dict[str, Any] = {
        "payer_reference": payer.reference_number,
        "branch_code": payer.branch_code,
        "payer_address": payer.address,
        "payer_name": payer.name,
        "payer_phone": payer.phone,
        "payer_reference_2": payer.reference_number_2,
        "payer_corporate_number": payer.corporate_number,
        "tax_year": year,
        **statutory.recipient_values(r),
        "individual_number": _written_number(r.individual_number),
        **statutory.section_values(r.sections),
    }
    values.update({name: bool(getattr(r, name)) for name in _FLAGS})
    values.update({name: getattr(r, name) for name in _COUNTS})
    if r.spouse is not None:
        s = r.spouse
        values.update(
            spouse_kana=s.kana_name,
            spouse_name=s.name,
            spouse_category=s.category,
            spouse_number=_written_number(s.individual_number),
        )
    for k, d in enumerate(r.dependants, start=1):
        values[f"dependant_{k}_kana"], values[f"dependant_{k}_name"] = d.kana_name, d.name
        values[f"dependant_{k}_category"] = d.category
        values[f"dependant_{k}_number"] = _written_number(d.individual_number)
    for k, m in enumerate(r.minors, start=1):
        values[f"minor_{k}_kana"], values[f"minor_{k}_name"] = m.kana_name, m.name
        values[f"minor_{k}_category"] = m.category
    return values


def record_rules(values: Mapping[str, Any]) -> list[Problem]:
    """The rules of a line that join several items (the items alone are checked by the codec)."""
    found = statutory.birth_problems(values, _BY_NAME)
    spouse_parts = ("spouse_kana", "spouse_category", "spouse_number")
    if values.get("spouse_name") is None:
        for name in spouse_parts:
            if values.get(name) is not None:
                found.append(Problem(_BY_NAME[name], "is only allowed with a name", ProblemKind.CONSISTENCY))
    elif values.get("spouse_category") is None:
        found.append(Problem(_BY_NAME["spouse_category"], "is required with a name", ProblemKind.REQUIRED))
    # Each person named needs its 区分 (resident, or which non-resident case).
    named = statutory.named_entries(
        "dependant", DEPENDANT_SLOTS, values, _BY_NAME, found, required="category"
    )
    minors = statutory.named_entries("minor", MINOR_SLOTS, values, _BY_NAME, found, required="category")
    found += statutory.count_problems(values, _BY_NAME, named=named, minors=minors)
    seen: set[IndividualNumber] = set()
    for name in sorted(NUMBER_ITEMS, key=lambda n: _BY_NAME[n].offset):
        number = values.get(name)
        if isinstance(number, IndividualNumber):
            if number in seen:
                found.append(
                    Problem(_BY_NAME[name], "repeats a number of the same slip", ProblemKind.CONSISTENCY)
                )
            seen.add(number)
    return found


def write_slips(file: SlipFile) -> bytes:
    """The bytes of one submission; every item of every slip is checked against the layout first.

    Raises:
        NtaFieldRefused: a value the layout forbids (the line and the item are named, never the value).
    """
    if not file.records:
        raise NtaFieldRefused("a submission holds at least one slip", file_kind=FILE_KIND)
    lines = []
    for line, record in enumerate(file.records, start=1):
        values = _row_values(file, record, line)
        encoded = _CODEC.encode_row(values, line)  # every item, before the rules that join them
        problems = record_rules(_numbers_read(values, [])[0])
        if problems:
            raise NtaFieldRefused.of(problems[0], FILE_KIND, line)
        lines.append(encoded + LINE_END)
    return b"".join(lines)


def _numbers_read(values: Mapping[str, Any], found: list[Problem]) -> tuple[dict[str, Any], list[Problem]]:
    """``values`` with each number item (``0`` + twelve digits) read into an IndividualNumber.

    A number without its leading ``0`` or with a wrong check digit is a problem of its item.
    """
    read = dict(values)
    for name in NUMBER_ITEMS:
        text = read.get(name)
        if not isinstance(text, str):
            continue
        if len(text) == 13 and text[0] == "0" and is_valid_individual_number(text[1:]):
            read[name] = IndividualNumber(text[1:])
        else:
            read[name] = None
            found.append(
                Problem(
                    _BY_NAME[name], "is not 0 and twelve digits with a valid check digit", ProblemKind.PATTERN
                )
            )
    return read, found


def _record_of(v: Mapping[str, Any]) -> SlipRecord:
    spouse = (
        None
        if v.get("spouse_name") is None
        else SlipPerson(v["spouse_name"], v.get("spouse_kana"), v["spouse_category"], v.get("spouse_number"))
    )
    dependants = tuple(
        SlipPerson(
            v[f"dependant_{k}_name"],
            v.get(f"dependant_{k}_kana"),
            v[f"dependant_{k}_category"],
            v.get(f"dependant_{k}_number"),
        )
        for k in range(1, DEPENDANT_SLOTS + 1)
        if v.get(f"dependant_{k}_name") is not None
    )
    minors = tuple(
        SlipMinor(v[f"minor_{k}_name"], v.get(f"minor_{k}_kana"), v[f"minor_{k}_category"])
        for k in range(1, MINOR_SLOTS + 1)
        if v.get(f"minor_{k}_name") is not None
    )
    flags: dict[str, Any] = {name: bool(v.get(name)) for name in _FLAGS}
    counts: dict[str, Any] = {name: v.get(name) for name in _COUNTS}
    return SlipRecord(
        **statutory.recipient_read(v),
        sections=statutory.sections_read(v, len(SECTIONS)),
        individual_number=v.get("individual_number"),
        spouse=spouse,
        dependants=dependants,
        minors=minors,
        **flags,
        **counts,
    )


def _payer_of(v: Mapping[str, Any]) -> SlipPayer:
    return SlipPayer(
        name=v["payer_name"],
        address=v["payer_address"],
        corporate_number=v["payer_corporate_number"],
        phone=v.get("payer_phone"),
        reference_number=v.get("payer_reference"),
        branch_code=v.get("branch_code"),
        reference_number_2=v.get("payer_reference_2"),
    )


def read_slips(content: bytes) -> SlipReading:
    """Read a submission without stopping at a bad line (for the receipt's errors).

    The payer and the tax year come from the first line that reads; a later line that disagrees with them
    has a problem of its own.
    """
    if not content or not content.endswith(LINE_END):
        return SlipReading(
            None, None, (Problem(None, "is empty or does not end with CR LF", ProblemKind.STRUCTURE),)
        )
    first: dict[str, Any] | None = None
    rows = []
    for line, raw in enumerate(content[: -len(LINE_END)].split(LINE_END), start=1):
        values, found = _numbers_read(*_CODEC.problems(raw))
        if not found:
            found = record_rules(values)
        if not found and first is not None:
            for name in _PAYER_ITEMS:
                if values.get(name) != first.get(name):
                    found.append(
                        Problem(_BY_NAME[name], "differs from the file's first line", ProblemKind.CONSISTENCY)
                    )
        if not found and first is None:
            first = values
        found.sort(key=lambda p: -1 if p.field is None else p.field.offset)  # in the line's order
        record = None if found else _record_of(values)
        rows.append(SlipRowReading(line, record, tuple(found)))
    if first is None:
        return SlipReading(None, None, (), tuple(rows))
    return SlipReading(_payer_of(first), tax_year_from_reiwa(first["tax_year"]), (), tuple(rows))


def parse_slips(content: bytes) -> SlipFile:
    """Parse a submission strictly.

    Raises:
        NtaWireError: the file breaks the layout (the line and the item are named, never the value).
    """
    reading = read_slips(content)
    if reading.problems:
        raise NtaWireError.of(reading.problems[0], FILE_KIND)
    for row in reading.rows:
        if row.problems:
            raise NtaWireError.of(row.problems[0], FILE_KIND, row.line)
    assert reading.payer is not None
    assert reading.tax_year is not None
    return SlipFile(
        reading.payer, reading.tax_year, tuple(r.record for r in reading.rows if r.record is not None)
    )

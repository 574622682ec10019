"""The payment report file (公的年金等支払報告書, 法定資料の種類 331) as data: one CSV row per recipient.

Items 1–49 are the 総務省通達形式 as a public validator checks it (domain.md §3.1, ``D-code``): CP932,
comma-separated without quoting, one row per recipient, lengths in characters. Items 50–77 carry the
Individual Numbers and the people they belong to, which reports carry since 2016; their order and shape are
renkei's inference (``I``) until the eLTAX specification for the tax year is in hand. One file goes to one
municipality (item 48 is the same on every row); rows end with CR LF; there is no header row.

:func:`write_report` checks every item before a byte is returned and raises
:class:`~adapters.eltax.errors.EltaxFieldRefused` naming the record and the item. :func:`read_report`
reads leniently for the simulator's per-record receipt; :func:`parse_report` strictly.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from adapters import statutory
from adapters.eltax.errors import EltaxFieldRefused, EltaxWireError
from adapters.records.csv import CsvCodec, csv_layout
from adapters.records.era import tax_year_from_reiwa, tax_year_to_reiwa
from adapters.records.fields import Field, Problem, ProblemKind
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from adapters.statutory import Amounts, Recipient
from contracts.individual_number import IndividualNumber

__all__ = [
    "FILE_KIND",
    "LINE_END",
    "ROW",
    "Amounts",
    "ReportDependantEntry",
    "ReportFile",
    "ReportMinorEntry",
    "ReportPayer",
    "ReportReading",
    "ReportRecord",
    "ReportSpouseEntry",
    "RowReading",
    "parse_report",
    "read_report",
    "write_report",
]

FILE_KIND: Final = "payment report"
LINE_END: Final = b"\r\n"
DEPENDANT_KINDS: Final = (("1", "elderly"), ("2", "specific"), ("3", "other"))  # I
_SECTIONS: Final = ("第1号", "第2号", "第3号")


def _people_items() -> Iterator[Field]:
    yield f("individual_number", "受給者の個人番号", 12, T.INDIVIDUAL_NUMBER, required=False, source="I")
    yield f(
        "payer_corporate_number",
        "提出義務者の法人番号",
        13,
        T.ASCII,
        required=False,
        pattern=r"[0-9]{13}",
        source="I",
    )
    yield f("spouse_name", "控除対象配偶者 氏名", 30, T.FULLWIDTH, required=False, source="I")
    yield f("spouse_number", "控除対象配偶者 個人番号", 12, T.INDIVIDUAL_NUMBER, required=False, source="I")
    for k in range(1, 5):
        yield f(
            f"dependant_{k}_name", f"控除対象扶養親族{k} 氏名", 30, T.FULLWIDTH, required=False, source="I"
        )
        yield f(
            f"dependant_{k}_kana", f"控除対象扶養親族{k} フリガナ", 60, T.KANA, required=False, source="I"
        )
        yield f(
            f"dependant_{k}_kind",
            f"控除対象扶養親族{k} 区分",
            1,
            T.CODE,
            required=False,
            codes=DEPENDANT_KINDS,
            source="I",
        )
        yield f(
            f"dependant_{k}_number",
            f"控除対象扶養親族{k} 個人番号",
            12,
            T.INDIVIDUAL_NUMBER,
            required=False,
            source="I",
        )
    for k in range(1, 5):
        yield f(f"minor_{k}_name", f"16歳未満扶養親族{k} 氏名", 30, T.FULLWIDTH, required=False, source="I")
        yield f(
            f"minor_{k}_number",
            f"16歳未満扶養親族{k} 個人番号",
            12,
            T.INDIVIDUAL_NUMBER,
            required=False,
            source="I",
        )


ROW: Final = csv_layout(
    "payment report row",
    f("document_kind", "法定資料の種類", 3, T.LITERAL, literal="331"),
    f("payer_reference", "整理番号1", 10, T.ASCII, required=False, pattern=r"[0-9A-Za-z]{1,10}"),
    f("branch_code", "本支店等区分番号", 5, T.FILLER, required=False),
    f("payer_address", "提出義務者の住所又は所在地", 60, T.FULLWIDTH),
    f("payer_name", "提出義務者の氏名又は名称", 30, T.FULLWIDTH),
    f("payer_phone", "提出義務者の電話番号", 15, T.ASCII, required=False, pattern=r"[0-9-]{1,15}"),
    f("payer_reference_2", "整理番号2", 13, T.FILLER, required=False),
    f("submitter_address", "提出者の住所又は所在地", 60, T.FILLER, required=False),
    f("submitter_name", "提出者の氏名又は名称", 30, T.FILLER, required=False),
    f("correction", "訂正表示", 1, T.CODE, codes=tuple((str(n), n) for n in range(4))),
    f("tax_year", "年分", 2, T.DIGITS, padded=True),
    f("address", "支払を受ける者 住所又は居所", 60, T.FULLWIDTH),
    f("abroad", "支払を受ける者 国外住所表示", 1, T.FLAG, required=False),
    f("name", "支払を受ける者 氏名", 30, T.FULLWIDTH),
    f("birth_era", "受給者の生年月日 元号", 1, T.CODE, codes=tuple((str(n), n) for n in range(1, 6))),
    f("birth_year", "受給者の生年月日 年", 2, T.DIGITS, padded=True),
    f("birth_month", "受給者の生年月日 月", 2, T.DIGITS, padded=True),
    f("birth_day", "受給者の生年月日 日", 2, T.DIGITS, padded=True),
    *statutory.section_items(_SECTIONS, "所得税法第203条の3", source="D-code"),
    f("special_disabled", "本人 特別障害者", 1, T.FLAG, required=False),
    f("other_disabled", "本人 その他の障害者", 1, T.FLAG, required=False),
    f("elderly_self", "本人 老年者", 1, T.FILLER, required=False),
    f(
        "spouse_status",
        "控除対象配偶者の有無等",
        1,
        T.CODE,
        required=False,
        codes=(("1", 1), ("2", 2), ("3", 3)),
    ),
    f("elderly_dependants", "控除対象扶養親族の数 老人", 2, T.DIGITS, required=False),
    f("other_dependants", "控除対象扶養親族の数 その他", 2, T.DIGITS, required=False),
    f("disabled_special_count", "障害者の数 特別障害者", 2, T.DIGITS, required=False),
    f("disabled_other_count", "障害者の数 その他", 2, T.DIGITS, required=False),
    f("social_insurance", "社会保険料の金額", 10, T.DIGITS, required=False),
    f("specific_dependants", "控除対象扶養親族の数 特定", 2, T.DIGITS, required=False),
    f("remarks", "摘要", 100, T.FULLWIDTH, required=False),
    f("disabled_special_cohabiting", "障害者の数 特別障害者のうち同居", 2, T.DIGITS, required=False),
    f("special_widow", "本人 特別寡婦", 1, T.FLAG, required=False),
    f("widow", "本人 寡婦・寡夫", 1, T.FLAG, required=False),
    f("under_16_dependants", "16歳未満の扶養親族の数", 2, T.DIGITS, required=False),
    f("kana_name", "カナ氏名", 60, T.KANA),
    f("recipient_number", "受給者番号", 25, T.ASCII, pattern=r"[0-9A-Za-z-]{1,25}"),
    f("municipality_code", "提出先市町村コード", 6, T.ASCII, pattern=r"[0-9]{5,6}"),
    f("designated_number", "指定番号", 12, T.FILLER, required=False),
    *_people_items(),
)
_CODEC: Final = CsvCodec(
    ROW,
    reading=lambda p, n: EltaxWireError.of(p, FILE_KIND, n),
    writing=lambda p, n: EltaxFieldRefused.of(p, FILE_KIND, n),
)
_BY_NAME: Final = {x.name: x for x in ROW.fields}
_FLAGS: Final = ("abroad", "special_disabled", "other_disabled", "special_widow", "widow")
_COUNTS: Final = (
    "elderly_dependants",
    "other_dependants",
    "specific_dependants",
    "under_16_dependants",
    "disabled_special_count",
    "disabled_other_count",
    "disabled_special_cohabiting",
    "social_insurance",
    "spouse_status",
    "remarks",
)


@dataclass(frozen=True, slots=True)
class ReportPayer:
    """The payer (提出義務者), the same on every row of a file."""

    name: str
    address: str
    phone: str | None = None
    corporate_number: str | None = None
    reference_number: str | None = None


@dataclass(frozen=True, slots=True)
class ReportSpouseEntry:
    """控除対象配偶者."""

    name: str
    individual_number: IndividualNumber | None = None


@dataclass(frozen=True, slots=True)
class ReportDependantEntry:
    """控除対象扶養親族 (``kind``: elderly, specific or other)."""

    name: str
    kana_name: str
    kind: str
    individual_number: IndividualNumber | None = None


@dataclass(frozen=True, slots=True)
class ReportMinorEntry:
    """16歳未満扶養親族."""

    name: str
    individual_number: IndividualNumber | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportRecord(Recipient):
    """One recipient's row (a :class:`Recipient`); counts and amounts left ``None`` are blank items."""

    recipient_number: str
    sections: tuple[Amounts | None, ...] = (None, None, None)
    special_widow: bool = False
    individual_number: IndividualNumber | None = None
    spouse: ReportSpouseEntry | None = None
    dependants: tuple[ReportDependantEntry, ...] = ()
    minors: tuple[ReportMinorEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One submission: the reports of one municipality for one tax year."""

    payer: ReportPayer
    tax_year: int
    municipality_code: str
    records: tuple[ReportRecord, ...]


@dataclass(frozen=True, slots=True)
class RowReading:
    """What :func:`read_report` made of one row (``line`` from 1)."""

    line: int
    record: ReportRecord | None
    recipient_number: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class ReportReading:
    """A payment report read leniently: the file's facts (from its first good row) and every row."""

    payer: ReportPayer | None
    tax_year: int | None
    municipality_code: str | None
    problems: tuple[Problem, ...] = ()
    rows: tuple[RowReading, ...] = field(default_factory=tuple)


def _row_values(file: ReportFile, r: ReportRecord) -> dict[str, Any]:
    """The items of one row; raises ``EltaxFieldRefused`` for what the items cannot express."""
    year = tax_year_to_reiwa(file.tax_year)
    if year is None or year > 99:
        raise EltaxFieldRefused("cannot be written as a year of 令和", file_kind=FILE_KIND, field="tax_year")
    values: dict[str, Any] = {
        "payer_reference": file.payer.reference_number,
        "payer_address": file.payer.address,
        "payer_name": file.payer.name,
        "payer_phone": file.payer.phone,
        "payer_corporate_number": file.payer.corporate_number,
        "tax_year": year,
        "municipality_code": file.municipality_code,
        **statutory.recipient_values(r),
        "recipient_number": r.recipient_number,
        "individual_number": r.individual_number,
        **statutory.section_values(r.sections),
    }
    values.update({name: True if getattr(r, name) else None for name in _FLAGS})
    values.update({name: getattr(r, name) for name in _COUNTS})
    if r.spouse is not None:
        values["spouse_name"], values["spouse_number"] = r.spouse.name, r.spouse.individual_number
    for k, d in enumerate(r.dependants, start=1):
        values[f"dependant_{k}_name"], values[f"dependant_{k}_kana"] = d.name, d.kana_name
        values[f"dependant_{k}_kind"], values[f"dependant_{k}_number"] = d.kind, d.individual_number
    for k, m in enumerate(r.minors, start=1):
        values[f"minor_{k}_name"], values[f"minor_{k}_number"] = m.name, m.individual_number
    return values


def record_rules(values: Mapping[str, Any]) -> list[Problem]:
    """The rules of a row that join several items (the items alone are checked by the codec)."""
    found = statutory.birth_problems(values, _BY_NAME)
    if values.get("spouse_number") is not None and values.get("spouse_name") is None:
        found.append(
            Problem(_BY_NAME["spouse_number"], "is only allowed with a name", ProblemKind.CONSISTENCY)
        )
    for k in range(1, 5):
        if values.get(f"dependant_{k}_name") is not None and values.get(f"dependant_{k}_kind") is None:
            found.append(
                Problem(_BY_NAME[f"dependant_{k}_kind"], "is required with a name", ProblemKind.REQUIRED)
            )
    named = statutory.named_entries("dependant", 4, values, _BY_NAME, found)
    minors = statutory.named_entries("minor", 4, values, _BY_NAME, found)
    found += statutory.count_problems(values, _BY_NAME, named=named, minors=minors)
    seen: set[IndividualNumber] = set()
    for x in ROW.fields:
        if x.type is T.INDIVIDUAL_NUMBER and values.get(x.name) is not None:
            if values[x.name] in seen:
                found.append(Problem(x, "repeats a number of the same row", ProblemKind.CONSISTENCY))
            seen.add(values[x.name])
    return found


def write_report(file: ReportFile) -> bytes:
    """The bytes of one submission; every item of every row is checked against the layout first.

    Raises:
        EltaxFieldRefused: a value the layout forbids (the record and the item are named, never the value).
    """
    if not file.records:
        raise EltaxFieldRefused("a submission holds at least one record", file_kind=FILE_KIND)
    lines = []
    for line, record in enumerate(file.records, start=1):
        if len(record.dependants) > 4 or len(record.minors) > 4 or len(record.sections) != 3:
            raise EltaxFieldRefused(
                "has more entries than the row has items", file_kind=FILE_KIND, record_no=line
            )
        values = _row_values(file, record)
        problems = record_rules(values)
        if problems:
            raise EltaxFieldRefused.of(problems[0], FILE_KIND, line)
        lines.append(_CODEC.encode_row(values, line) + LINE_END)
    return b"".join(lines)


def _record_of(v: Mapping[str, Any]) -> ReportRecord:
    spouse = (
        None if v.get("spouse_name") is None else ReportSpouseEntry(v["spouse_name"], v.get("spouse_number"))
    )
    dependants = tuple(
        ReportDependantEntry(
            v[f"dependant_{k}_name"],
            v[f"dependant_{k}_kana"],
            v[f"dependant_{k}_kind"],
            v.get(f"dependant_{k}_number"),
        )
        for k in range(1, 5)
        if v.get(f"dependant_{k}_name") is not None
    )
    minors = tuple(
        ReportMinorEntry(v[f"minor_{k}_name"], v.get(f"minor_{k}_number"))
        for k in range(1, 5)
        if v.get(f"minor_{k}_name") is not None
    )
    flags: dict[str, Any] = {name: bool(v.get(name)) for name in _FLAGS}
    counts: dict[str, Any] = {name: v.get(name) for name in _COUNTS}
    return ReportRecord(
        recipient_number=v["recipient_number"],
        **statutory.recipient_read(v),
        sections=statutory.sections_read(v, len(_SECTIONS)),
        individual_number=v.get("individual_number"),
        spouse=spouse,
        dependants=dependants,
        minors=minors,
        **flags,
        **counts,
    )


def _payer_of(v: Mapping[str, Any]) -> ReportPayer:
    return ReportPayer(
        v["payer_name"],
        v["payer_address"],
        v.get("payer_phone"),
        v.get("payer_corporate_number"),
        v.get("payer_reference"),
    )


def read_report(content: bytes) -> ReportReading:
    """Read a submission without stopping at a bad row (for per-record receipts).

    The payer, the tax year and the municipality come from the first row that reads; a later row that
    disagrees with them has a problem of its own.
    """
    if not content or not content.endswith(LINE_END):
        return ReportReading(
            None, None, None, (Problem(None, "is empty or does not end with CR LF", ProblemKind.STRUCTURE),)
        )
    first: dict[str, Any] | None = None
    rows = []
    for line, raw in enumerate(content[: -len(LINE_END)].split(LINE_END), start=1):
        values, found = _CODEC.problems(raw)
        if not found:
            found = record_rules(values)
        if not found and first is not None:
            for name in ("payer_name", "payer_address", "tax_year", "municipality_code"):
                if values[name] != first[name]:
                    found.append(
                        Problem(_BY_NAME[name], "differs from the file's first row", ProblemKind.CONSISTENCY)
                    )
        if not found and first is None:
            first = values
        record = None if found else _record_of(values)
        rows.append(RowReading(line, record, values.get("recipient_number"), tuple(found)))
    if first is None:
        return ReportReading(None, None, None, (), tuple(rows))
    return ReportReading(
        _payer_of(first), tax_year_from_reiwa(first["tax_year"]), first["municipality_code"], (), tuple(rows)
    )


def parse_report(content: bytes) -> ReportFile:
    """Parse a submission strictly.

    Raises:
        EltaxWireError: the file breaks the layout (the record and the item are named, never the value).
    """
    reading = read_report(content)
    if reading.problems:
        raise EltaxWireError.of(reading.problems[0], FILE_KIND)
    for row in reading.rows:
        if row.problems:
            raise EltaxWireError.of(row.problems[0], FILE_KIND, row.line)
    assert reading.payer is not None
    assert reading.tax_year is not None
    assert reading.municipality_code is not None
    return ReportFile(
        reading.payer,
        reading.tax_year,
        reading.municipality_code,
        tuple(row.record for row in reading.rows if row.record is not None),
    )

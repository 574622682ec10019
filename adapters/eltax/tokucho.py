"""The special collection file (年金特徴): a 96-byte label and 500-byte records in JIS8, as data.

One file per municipality and notice: a label, a header record (レコード区分 ``1``), one data record
(``2``) per person and a trailer (``3``), concatenated without terminators. The data record follows the
layout seen in two independent public codes (domain.md §3.3, ``D-code``): its byte lengths sum to 500, with
four 3-byte shift sequences around the two kanji fields, so that the record is 383 characters. Where the
public codes stop, renkei fills in (``I``): the label's lengths, the trailer, the 個人番号 and amounts 4–6 in
the 予備 area (later layouts carry them; their position is renkei's choice), the 制度コード of resident tax,
the per-notice use of the amount fields and of 処理結果. ``docs/formats/eltax.md`` prints every table.

Parsing is strict: a wrong length, a shift sequence that is not one, a byte outside JIS X 0201 / JIS X 0208,
a record that contradicts its header, or a field its notice does not allow is an
:class:`~adapters.eltax.errors.EltaxWireError` naming the record and the field, never the value.
:func:`read_notice` keeps reading after a bad record, for the simulator's per-record receipt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, Final

from adapters.eltax.errors import EltaxFieldRefused, EltaxWireError
from adapters.records.fields import Field, Problem, ProblemKind
from adapters.records.fields import FieldType as T
from adapters.records.fields import field as f
from adapters.records.fixed import FixedCodec, FixedLayout, fixed_layout
from contracts.individual_number import IndividualNumber
from contracts.messages.eltax import CATEGORIES, Sex, TokuchoNoticeCode

__all__ = [
    "AMOUNT_SLOTS",
    "DATA",
    "FEDERATION_OBLIGOR",
    "FILE_KIND",
    "HEADER",
    "LABEL",
    "LABEL_LENGTH",
    "LAYOUTS",
    "NOTICE_CODES",
    "RECORD_LENGTH",
    "RESIDENT_TAX",
    "TRAILER",
    "NoticeFile",
    "NoticeHeader",
    "NoticeReading",
    "NoticeRecord",
    "RecordReading",
    "parse_notice",
    "read_notice",
    "write_notice",
]

FILE_KIND: Final = "special collection notice"
LABEL_LENGTH: Final = 96
RECORD_LENGTH: Final = 500
FEDERATION_OBLIGOR: Final = "700"
"""特別徴収義務者コード of 全国市町村職員共済組合連合会 (D-code)."""
RESIDENT_TAX: Final = "resident_tax"
C = TokuchoNoticeCode

NOTICE_CODES: Final = tuple((c.value, c) for c in TokuchoNoticeCode)
"""通知内容コード as the files write it, in the notices and in their receipts."""
SYSTEM_CODES: Final = (  # 特別徴収制度コード: '0' for 介護 is D-code; the rest are renkei's placeholders (I)
    ("0", "long_term_care"),
    ("1", "national_health_insurance"),
    ("2", "late_elderly_medical"),
    ("3", RESIDENT_TAX),
)
SEX_CODES: Final = (("1", Sex.MALE), ("2", Sex.FEMALE))
_MUNICIPALITY = r"[0-9]{5}"

NUMBER_NOTICES: Final = frozenset({C.TARGET, C.REQUEST, C.ADDITIONAL_CANDIDATE, C.ADDITIONAL_REQUEST})
"""Notices whose records may carry the 個人番号 (I)."""
RESULT_NOTICES: Final = frozenset(
    {C.REQUEST_RESULT, C.ADDITIONAL_RESULT, C.LOSS_RESULT, C.PROVISIONAL_CHANGE_RESULT}
)
"""Processing results: 処理結果 is required in them and blank elsewhere (I)."""
DATED_NOTICES: Final = frozenset({C.COLLECTION_RESULT, C.LOSS, C.PROVISIONAL_CHANGE})
"""Notices whose 各種年月日 is required: the collection date, the event date, the change's effective date."""
ADDRESSED_NOTICES: Final = frozenset({C.TARGET, C.ADDITIONAL_CANDIDATE})
"""Notices that must carry the kanji address (the municipality matches people on it)."""
_CANDIDATE_AMOUNTS: Final = ("annual_pension", "previous_year_tax")
"""What a target or an additional candidate tells the municipality: the pension and last year's tax."""
_REQUESTED_AMOUNTS: Final = (
    "main_october",
    "main_december",
    "main_february",
    "provisional_april",
    "provisional_june",
    "provisional_august",
)
"""What a request or an additional request asks to collect: 本徴収 then next year's 仮特別徴収."""
AMOUNT_SLOTS: Final[Mapping[TokuchoNoticeCode, tuple[str | None, ...]]] = {
    C.TARGET: _CANDIDATE_AMOUNTS,
    C.ADDITIONAL_CANDIDATE: _CANDIDATE_AMOUNTS,
    C.REQUEST: _REQUESTED_AMOUNTS,
    C.ADDITIONAL_REQUEST: _REQUESTED_AMOUNTS,
    C.COLLECTION_RESULT: ("collected",),
    C.PROVISIONAL_CHANGE: (None, None, None, "provisional_april", "provisional_june", "provisional_august"),
}
"""What amount fields 1–6 (各種金額欄) mean in each notice (I); a notice absent here carries none."""


def _common(kind: str, source: str = "D-code") -> tuple[Field, ...]:
    return (
        f("record_kind", "レコード区分", 1, T.LITERAL, literal=kind, source=source),
        f("municipality_code", "市町村コード", 5, T.ASCII, pattern=_MUNICIPALITY, source=source),
        f("obligor_code", "特別徴収義務者コード", 3, T.ASCII, pattern=r"[0-9]{3}", source=source),
        f("notice_code", "通知内容コード", 2, T.CODE, codes=NOTICE_CODES, source=source),
    )


LABEL: Final = fixed_layout(
    "label",
    LABEL_LENGTH,
    f("municipality_code", "市町村コード", 5, T.ASCII, pattern=_MUNICIPALITY, source="I"),
    f("medium_seq", "媒体連番", 4, T.DIGITS, source="I"),
    f("created_on", "作成年月日", 8, T.DATE, source="I"),
    f("record_count", "ファイル格納件数", 7, T.DIGITS, source="I"),
)
HEADER: Final = fixed_layout(
    "header record",
    RECORD_LENGTH,
    *_common("1"),
    f("medium_code", "媒体コード", 1, T.ASCII, pattern=r"[0-9]"),
    f("system_code", "特別徴収制度コード", 1, T.CODE, codes=SYSTEM_CODES),
    f("created_on", "作成年月日", 8, T.DATE),
)
DATA: Final = fixed_layout(
    "data record",
    RECORD_LENGTH,
    *_common("2"),
    f("reserve_1", "予備", 1, T.FILLER, required=False),
    f("system_code", "特別徴収制度コード", 1, T.CODE, codes=SYSTEM_CODES),
    f("created_on", "作成年月日", 8, T.DATE),
    f("basic_pension_number", "基礎年金番号", 10, T.ASCII, pattern=r"[0-9]{10}"),
    f("pension_code", "年金コード", 4, T.ASCII, pattern=r"[0-9]{4}"),
    f("reserve_2", "予備", 3, T.FILLER, required=False),
    f("birth_date", "生年月日", 8, T.DATE),
    f("sex", "性別", 1, T.CODE, codes=SEX_CODES),
    f("kana_name", "カナ氏名", 25, T.KANA),
    f("shift_1", "シフト", 3, T.SHIFT_IN),
    f("kanji_name", "漢字氏名", 50, T.KANJI),
    f("shift_2", "シフト", 3, T.SHIFT_OUT),
    f("postal_code", "郵便番号", 7, T.ASCII, required=False, pattern=r"[0-9]{7}"),
    f("kana_address", "カナ住所", 80, T.KANA, required=False),
    f("shift_3", "シフト", 3, T.SHIFT_IN),
    f("kanji_address", "漢字住所", 160, T.KANJI, required=False),
    f("shift_4", "シフト", 3, T.SHIFT_OUT),
    f("category", "各種区分", 2, T.ASCII, required=False, pattern=r"[0-9]{2}"),
    f("result", "処理結果", 2, T.ASCII, required=False, pattern=r"[0-9]{2}"),
    f("late_transfer", "後期移管コード", 1, T.ASCII, required=False, pattern=r"[0-9]"),
    f("event_date", "各種年月日", 8, T.DATE, required=False),
    f("amount_1", "各種金額欄1", 11, T.DIGITS, required=False),
    f("amount_2", "各種金額欄2", 11, T.DIGITS, required=False),
    f("amount_3", "各種金額欄3", 11, T.DIGITS, required=False),
    f("individual_number", "個人番号", 12, T.INDIVIDUAL_NUMBER, required=False, source="I"),
    f("amount_4", "各種金額欄4", 11, T.DIGITS, required=False, source="I"),
    f("amount_5", "各種金額欄5", 11, T.DIGITS, required=False, source="I"),
    f("amount_6", "各種金額欄6", 11, T.DIGITS, required=False, source="I"),
    f("reserve_3", "予備", 13, T.FILLER, required=False, source="I"),
    f("certificate_number", "共済年金証書記号番号", 15, T.ASCII, pattern=r"[0-9A-Za-z-]{1,15}"),
)
TRAILER: Final = fixed_layout(
    "trailer record",
    RECORD_LENGTH,
    *_common("3", source="I"),
    f("data_count", "データ件数", 7, T.DIGITS, source="I"),
)
LAYOUTS: Final[tuple[FixedLayout, ...]] = (LABEL, HEADER, DATA, TRAILER)
_CODECS: Final = {
    layout.name: FixedCodec(
        layout,
        reading=lambda p, n: EltaxWireError.of(p, FILE_KIND, n),
        writing=lambda p, n: EltaxFieldRefused.of(p, FILE_KIND, n),
    )
    for layout in LAYOUTS
}
_AMOUNT_FIELDS: Final = tuple(f"amount_{i}" for i in range(1, 7))


@dataclass(frozen=True, slots=True)
class NoticeHeader:
    """Who sends which notice to whom, and when: the label and the header record."""

    municipality_code: str
    notice_code: TokuchoNoticeCode
    created_on: date
    obligor_code: str = FEDERATION_OBLIGOR
    system_code: str = RESIDENT_TAX
    medium_code: str = "1"
    medium_seq: int = 1


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """One data record; ``amounts`` are the six amount fields (各種金額欄1–6) in order."""

    certificate_number: str
    basic_pension_number: str
    pension_code: str
    birth_date: date
    sex: Sex
    kana_name: str
    kanji_name: str
    postal_code: str | None = None
    kana_address: str | None = None
    kanji_address: str | None = None
    category: str | None = None
    result: str | None = None
    late_transfer: str | None = None
    event_date: date | None = None
    amounts: tuple[int | None, ...] = (None,) * 6
    individual_number: IndividualNumber | None = None


@dataclass(frozen=True, slots=True)
class NoticeFile:
    """A whole notice file."""

    header: NoticeHeader
    records: tuple[NoticeRecord, ...]


_RECORD_NAMES: Final = tuple(x.name for x in fields(NoticeRecord) if x.name != "amounts")


@dataclass(frozen=True, slots=True)
class RecordReading:
    """What :func:`read_notice` made of one data record (``position`` counts data records from 1)."""

    position: int
    record: NoticeRecord | None
    certificate_number: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class NoticeReading:
    """A notice file read leniently: the header if it could be read, file problems, every data record."""

    header: NoticeHeader | None
    problems: tuple[Problem, ...] = ()
    records: tuple[RecordReading, ...] = field(default_factory=tuple)


def _field_named(layout: FixedLayout, name: str) -> Field:
    return next(x for x in layout.fields if x.name == name)


def record_rules(code: TokuchoNoticeCode, values: Mapping[str, Any]) -> list[Problem]:
    """The rules of a data record that depend on its notice (the fields alone are checked by the codec)."""
    found: list[Problem] = []

    def bad(name: str, text: str, kind: ProblemKind = ProblemKind.CONSISTENCY) -> None:
        found.append(Problem(_field_named(DATA, name), text, kind))

    allowed = CATEGORIES.get(code)
    if allowed is not None and values.get("category") not in allowed:
        bad("category", f"is not a category of notice {code.value}", ProblemKind.PATTERN)
    if (values.get("result") is None) == (code in RESULT_NOTICES):
        bad("result", "is required in a result notice and blank elsewhere")
    if code in DATED_NOTICES and values.get("event_date") is None:
        bad("event_date", f"is required in notice {code.value}", ProblemKind.REQUIRED)
    if code in ADDRESSED_NOTICES and values.get("kanji_address") is None:
        bad("kanji_address", f"is required in notice {code.value}", ProblemKind.REQUIRED)
    if values.get("individual_number") is not None and code not in NUMBER_NOTICES:
        bad("individual_number", f"is not carried by notice {code.value}")
    slots = AMOUNT_SLOTS.get(code, ())
    for index, name in enumerate(_AMOUNT_FIELDS):
        used = index < len(slots) and slots[index] is not None
        if values.get(name) is not None and not used:
            bad(name, f"is not used by notice {code.value}")
    return found


def _header_values(header: NoticeHeader) -> dict[str, Any]:
    return {
        "municipality_code": header.municipality_code,
        "obligor_code": header.obligor_code,
        "notice_code": header.notice_code,
        "system_code": header.system_code,
        "created_on": header.created_on,
        "medium_code": header.medium_code,
    }


def _record_values(record: NoticeRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in _RECORD_NAMES}
    if len(record.amounts) != len(_AMOUNT_FIELDS):
        raise EltaxFieldRefused("are not six amounts", file_kind=FILE_KIND, field="amounts")
    values.update(zip(_AMOUNT_FIELDS, record.amounts, strict=True))
    return values


def write_notice(file: NoticeFile) -> bytes:
    """The bytes of a notice file; every field is checked against the layout first.

    Raises:
        EltaxFieldRefused: a value the layout or the notice forbids (the record and the field are named).
    """
    if not file.records:
        raise EltaxFieldRefused("a notice holds at least one data record", file_kind=FILE_KIND)
    head = _header_values(file.header)
    code = file.header.notice_code
    label = {
        "municipality_code": file.header.municipality_code,
        "medium_seq": file.header.medium_seq,
        "created_on": file.header.created_on,
        "record_count": len(file.records),
    }
    parts = [_CODECS["label"].encode(label, 0), _CODECS["header record"].encode(head, 1)]
    data = _CODECS["data record"]
    for position, record in enumerate(file.records, start=1):
        values = {**head, **_record_values(record)}
        problems = record_rules(code, values)
        if problems:
            raise EltaxFieldRefused.of(problems[0], FILE_KIND, position + 1)
        parts.append(data.encode(values, position + 1))
    trailer = {**head, "data_count": len(file.records)}
    parts.append(_CODECS["trailer record"].encode(trailer, len(file.records) + 2))
    return b"".join(parts)


def _record_of(values: dict[str, Any]) -> NoticeRecord:
    given: dict[str, Any] = {n: values.get(n) for n in _RECORD_NAMES}
    return NoticeRecord(
        **given,
        amounts=tuple(values.get(n) for n in _AMOUNT_FIELDS),
    )


def _file_problems(content: bytes) -> tuple[dict[str, Any], dict[str, Any], list[Problem]]:
    """The frame: lengths, the label, the header and the trailer, and that they agree."""
    body = len(content) - LABEL_LENGTH
    if body < 3 * RECORD_LENGTH or body % RECORD_LENGTH:
        frame = "is not a label and at least three whole 500-byte records"
        return {}, {}, [Problem(None, frame, ProblemKind.STRUCTURE)]
    count = body // RECORD_LENGTH
    label, problems = _CODECS["label"].problems(content, 0)
    head, found = _CODECS["header record"].problems(content, LABEL_LENGTH)
    problems += found
    trailer, found = _CODECS["trailer record"].problems(content, LABEL_LENGTH + (count - 1) * RECORD_LENGTH)
    problems += found
    if problems:
        return label, head, problems
    data_count = count - 2
    if label["record_count"] != data_count:
        problems.append(
            Problem(_field_named(LABEL, "record_count"), "does not match", ProblemKind.CONSISTENCY)
        )
    if trailer["data_count"] != data_count:
        problems.append(
            Problem(_field_named(TRAILER, "data_count"), "does not match", ProblemKind.CONSISTENCY)
        )
    differs = [
        (TRAILER, n) for n in ("municipality_code", "obligor_code", "notice_code") if trailer[n] != head[n]
    ]
    differs += [(LABEL, n) for n in ("municipality_code", "created_on") if label[n] != head[n]]
    for layout, name in differs:
        problems.append(
            Problem(_field_named(layout, name), "differs from the header", ProblemKind.CONSISTENCY)
        )
    return label, head, problems


def read_notice(content: bytes) -> NoticeReading:
    """Read a notice file without stopping at a bad record (for per-record receipts).

    File-level problems (frame, label, header, trailer) leave ``records`` empty.
    """
    label, head, problems = _file_problems(content)
    if problems:
        return NoticeReading(None, tuple(problems))
    header = NoticeHeader(
        municipality_code=head["municipality_code"],
        notice_code=head["notice_code"],
        created_on=head["created_on"],
        obligor_code=head["obligor_code"],
        system_code=head["system_code"],
        medium_code=head["medium_code"],
        medium_seq=label["medium_seq"],
    )
    data, records = _CODECS["data record"], []
    for position in range(1, label["record_count"] + 1):
        values, found = data.problems(content, LABEL_LENGTH + position * RECORD_LENGTH)
        for name in ("municipality_code", "obligor_code", "notice_code", "system_code", "created_on"):
            if name in values and values[name] != head[name]:
                kind = ProblemKind.CONSISTENCY
                found.append(Problem(_field_named(DATA, name), "differs from the header", kind))
        if not found:
            found = record_rules(header.notice_code, values)
        certificate = values.get("certificate_number")
        record = None if found else _record_of(values)
        records.append(RecordReading(position, record, certificate, tuple(found)))
    return NoticeReading(header, (), tuple(records))


def parse_notice(content: bytes) -> NoticeFile:
    """Parse a notice file strictly.

    Raises:
        EltaxWireError: the file breaks the layout (the record and the field are named, never the value).
    """
    reading = read_notice(content)
    if reading.header is None:
        raise EltaxWireError.of(reading.problems[0], FILE_KIND)
    for r in reading.records:
        if r.problems:
            raise EltaxWireError.of(r.problems[0], FILE_KIND, r.position + 1)
    return NoticeFile(reading.header, tuple(r.record for r in reading.records if r.record is not None))

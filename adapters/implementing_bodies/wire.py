"""The files of the exchange with the other implementing bodies, as data: CSV in CP932, CR LF.

**Entirely renkei's own (``I``)**: the forwarding between implementing bodies goes "by the 情報連携システム",
and no public file format for it exists. The layouts say what the receiving body needs to decide its part of
a claim, as the public pages on the one-stop service describe it: who forwards (the 構成組合), to whom, each
claim's kind and 受付年月日, the claimant's 個人番号 and 基礎年金番号 (a 年金請求書 carries both since
2023-09-29), the deceased's for a survivor's claim, and the scanned pages of the claim by name and SHA-256
digest (the images travel apart).

Forwarding file: one ``H`` line, then per claim one ``D`` line followed by its ``P`` lines (one per page).
Receipt: one ``H`` line, one ``A`` line per claim taken, one ``R`` line per claim returned (返戻), each naming
the claim's ``record_seq``, the item at fault (if any) and a reason code, never a value.

Each layout is declared once (:func:`layout_tables` prints them for ``docs/formats/implementing_bodies.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from adapters.implementing_bodies.errors import IbFieldRefused, IbWireError
from adapters.records.csv import SEPARATOR, CsvCodec, CsvLayout, csv_layout
from adapters.records.fields import FieldType as T
from adapters.records.fields import Problem, ProblemKind, markdown_table
from adapters.records.fields import field as f
from contracts.individual_number import IndividualNumber
from contracts.messages.implementing_bodies import MAX_CLAIMS, MAX_PAGES, ClaimKind, ImplementingBody

__all__ = [
    "CLAIM_ROW",
    "DESTINATION_CODES",
    "FORWARDING_HEAD",
    "KIND_CODES",
    "PAGE_ROW",
    "ClaimReading",
    "ForwardingFile",
    "ReceiptFile",
    "Returned",
    "WireClaim",
    "layout_tables",
    "parse_forwarding",
    "parse_receipt",
    "read_forwarding",
    "write_forwarding",
    "write_receipt",
]

LINE_END: Final = b"\r\n"
FORWARDING_KIND: Final = "forwarding"
RECEIPT_KIND: Final = "receipt"

DESTINATION_CODES: Final = (
    ("1", ImplementingBody.JPS),
    ("2", ImplementingBody.KKR),
    ("3", ImplementingBody.LOCAL),
    ("4", ImplementingBody.SHIGAKU),
)
"""The destination by 厚生年金被保険者の種別 (第1号 to 第4号, 厚生年金保険法 第2条の5)."""
KIND_CODES: Final = (
    ("11", ClaimKind.OLD_AGE_SPECIAL),
    ("12", ClaimKind.OLD_AGE_EARLY),
    ("13", ClaimKind.OLD_AGE_DEFERRED),
    ("21", ClaimKind.SURVIVORS),
)
"""The one-stop claims only: another kind has no code, so it cannot be written."""

_BPN: Final = r"[0-9]{10}"
_NAME: Final = r"[A-Za-z0-9_.-]{1,80}"

FORWARDING_HEAD: Final = csv_layout(
    "forwarding header",
    f("row_kind", "行区分", 1, T.LITERAL, literal="H", source="I"),
    f("batch_id", "回付番号", 64, T.ASCII, pattern=r"[A-Za-z0-9_.-]+", source="I"),
    f("forwarded_by", "回付元 (構成組合)", 16, T.ASCII, pattern=r"[a-z][a-z0-9_-]{0,15}", source="I"),
    f("destination", "回付先 (厚生年金被保険者の種別)", 1, T.CODE, codes=DESTINATION_CODES, source="I"),
    f("claims", "請求書件数", 3, T.DIGITS, source="I"),
)
CLAIM_ROW: Final = csv_layout(
    "forwarding claim",
    f("row_kind", "行区分", 1, T.LITERAL, literal="D", source="I"),
    f("record_seq", "整理番号", 9, T.DIGITS, source="I"),
    f("kind", "請求の種類", 2, T.CODE, codes=KIND_CODES, source="I"),
    f("received_on", "受付年月日", 8, T.DATE, source="I"),
    f("individual_number", "請求者の個人番号", 12, T.INDIVIDUAL_NUMBER, required=False, source="I"),
    f("basic_pension_number", "請求者の基礎年金番号", 10, T.ASCII, pattern=_BPN, source="I"),
    f("deceased_individual_number", "死亡者の個人番号", 12, T.INDIVIDUAL_NUMBER, required=False, source="I"),
    f(
        "deceased_basic_pension_number",
        "死亡者の基礎年金番号",
        10,
        T.ASCII,
        required=False,
        pattern=_BPN,
        source="I",
    ),
    f("pages", "添付画像の枚数", 2, T.DIGITS, source="I"),
)
PAGE_ROW: Final = csv_layout(
    "forwarding page",
    f("row_kind", "行区分", 1, T.LITERAL, literal="P", source="I"),
    f("record_seq", "整理番号", 9, T.DIGITS, source="I"),
    f("page_no", "頁", 2, T.DIGITS, source="I"),
    f("name", "画像ファイル名", 80, T.ASCII, pattern=_NAME, source="I"),
    f("sha256", "SHA-256", 64, T.ASCII, pattern=r"[0-9a-f]{64}", source="I"),
)
RECEIPT_HEAD: Final = csv_layout(
    "receipt header",
    f("row_kind", "行区分", 1, T.LITERAL, literal="H", source="I"),
    f("forwarding", "回付ファイル名", 120, T.ASCII, pattern=r"[A-Za-z0-9_.-]+", source="I"),
    f("batch_id", "回付番号", 64, T.ASCII, pattern=r"[A-Za-z0-9_.-]+", source="I"),
    f("destination", "回付先", 1, T.CODE, codes=DESTINATION_CODES, source="I"),
    f("received_on", "受付年月日", 8, T.DATE, source="I"),
    f("accepted", "受付件数", 3, T.DIGITS, source="I"),
    f("returned", "返戻件数", 3, T.DIGITS, source="I"),
)
ACCEPTED_ROW: Final = csv_layout(
    "receipt accepted",
    f("row_kind", "行区分", 1, T.LITERAL, literal="A", source="I"),
    f("record_seq", "整理番号", 9, T.DIGITS, source="I"),
)
RETURNED_ROW: Final = csv_layout(
    "receipt returned",
    f("row_kind", "行区分", 1, T.LITERAL, literal="R", source="I"),
    f("record_seq", "整理番号", 9, T.DIGITS, source="I"),
    f("field", "項目", 64, T.ASCII, required=False, pattern=r"[a-z][a-z0-9_]{0,63}", source="I"),
    f("reason", "返戻理由", 4, T.ASCII, pattern=r"[ER][0-9]{3}", source="I"),
)


def _codecs(kind: str, *layouts: CsvLayout) -> dict[bytes, CsvCodec]:
    return {
        layout.fields[0].literal.encode(): CsvCodec(
            layout,
            reading=lambda p, n: IbWireError.of(p, kind, n),
            writing=lambda p, n: IbFieldRefused.of(p, kind, n),
        )
        for layout in layouts
    }


_FORWARDING: Final = _codecs(FORWARDING_KIND, FORWARDING_HEAD, CLAIM_ROW, PAGE_ROW)
_RECEIPT: Final = _codecs(RECEIPT_KIND, RECEIPT_HEAD, ACCEPTED_ROW, RETURNED_ROW)


@dataclass(frozen=True, slots=True)
class WireClaim:
    """One claim as the forwarding file states it (numbers plain: only inside the adapter and the line)."""

    record_seq: int
    kind: ClaimKind
    received_on: date
    basic_pension_number: str
    pages: tuple[tuple[str, str], ...]
    """``(file name, SHA-256 hex digest)`` of each scanned page."""
    individual_number: IndividualNumber | None = None
    deceased_individual_number: IndividualNumber | None = None
    deceased_basic_pension_number: str | None = None


@dataclass(frozen=True, slots=True)
class ForwardingFile:
    """A whole forwarding file: one batch's claims for one destination."""

    batch_id: str
    forwarded_by: str
    destination: ImplementingBody
    claims: tuple[WireClaim, ...]


Returned = tuple[int, str | None, str]
"""``(record_seq, item or None, reason code)``."""


@dataclass(frozen=True, slots=True)
class ReceiptFile:
    """A whole receipt: the claims taken and those returned."""

    forwarding: str
    batch_id: str
    destination: ImplementingBody
    received_on: date
    accepted: tuple[int, ...] = ()
    returned: tuple[Returned, ...] = ()


def _lines(content: bytes, kind: str, most: int) -> list[bytes]:
    if not content or not content.endswith(LINE_END):
        raise IbWireError("is empty or does not end with CR LF", file_kind=kind)
    rows = content[: -len(LINE_END)].split(LINE_END)
    if len(rows) > most:
        raise IbWireError("has more lines than the file holds", file_kind=kind)
    return rows


def write_forwarding(file: ForwardingFile) -> bytes:
    """The bytes of a forwarding file.

    Raises:
        IbFieldRefused: a value the layout forbids (a claim that is not one-stop has no code), naming the line
            and the item, never the value.
    """
    if not 1 <= len(file.claims) <= MAX_CLAIMS:
        raise IbFieldRefused("holds no claim or more than a file holds", file_kind=FORWARDING_KIND)
    head = {
        "batch_id": file.batch_id,
        "forwarded_by": file.forwarded_by,
        "destination": file.destination,
        "claims": len(file.claims),
    }
    rows = [_FORWARDING[b"H"].encode_row(head, 1)]
    for claim in file.claims:
        if not 1 <= len(claim.pages) <= MAX_PAGES:
            raise IbFieldRefused(
                "lists no page or too many", file_kind=FORWARDING_KIND, record_no=len(rows) + 1, field="pages"
            )
        values: dict[str, Any] = {
            "record_seq": claim.record_seq,
            "kind": claim.kind,
            "received_on": claim.received_on,
            "individual_number": claim.individual_number,
            "basic_pension_number": claim.basic_pension_number,
            "deceased_individual_number": claim.deceased_individual_number,
            "deceased_basic_pension_number": claim.deceased_basic_pension_number,
            "pages": len(claim.pages),
        }
        rows.append(_FORWARDING[b"D"].encode_row(values, len(rows) + 1))
        for page_no, (name, digest) in enumerate(claim.pages, start=1):
            page = {"record_seq": claim.record_seq, "page_no": page_no, "name": name, "sha256": digest}
            rows.append(_FORWARDING[b"P"].encode_row(page, len(rows) + 1))
    return b"".join(row + LINE_END for row in rows)


def _claim(values: dict[str, Any], pages: Sequence[tuple[str, str]]) -> WireClaim:
    return WireClaim(
        record_seq=values["record_seq"],
        kind=values["kind"],
        received_on=values["received_on"],
        basic_pension_number=values["basic_pension_number"],
        pages=tuple(pages),
        individual_number=values["individual_number"],
        deceased_individual_number=values["deceased_individual_number"],
        deceased_basic_pension_number=values["deceased_basic_pension_number"],
    )


def parse_forwarding(content: bytes) -> ForwardingFile:
    """Parse a forwarding file strictly (the adapter reads back what it wrote).

    Raises:
        IbWireError: the file breaks its layout (the line and the item are named, never a value).
    """
    rows = _lines(content, FORWARDING_KIND, 1 + MAX_CLAIMS * (1 + MAX_PAGES))
    if rows[0].split(SEPARATOR, 1)[0] != b"H":
        raise IbWireError("is not the header", file_kind=FORWARDING_KIND, record_no=1)
    head = _FORWARDING[b"H"].decode_row(rows[0], 1)
    claims: list[WireClaim] = []
    current: dict[str, Any] | None = None
    pages: list[tuple[str, str]] = []

    def close(line: int) -> None:
        if current is not None:
            if len(pages) != current["pages"]:
                raise IbWireError(
                    "does not match the claim's page lines",
                    file_kind=FORWARDING_KIND,
                    record_no=line,
                    field="pages",
                )
            claims.append(_claim(current, pages))

    for line, raw in enumerate(rows[1:], start=2):
        kind = raw.split(SEPARATOR, 1)[0]
        if kind == b"D":
            close(line)
            current, pages = _FORWARDING[b"D"].decode_row(raw, line), []
        elif kind == b"P" and current is not None:
            page = _FORWARDING[b"P"].decode_row(raw, line)
            if page["record_seq"] != current["record_seq"] or page["page_no"] != len(pages) + 1:
                raise IbWireError("does not follow its claim", file_kind=FORWARDING_KIND, record_no=line)
            pages.append((page["name"], page["sha256"]))
        else:
            raise IbWireError("is not the expected line kind", file_kind=FORWARDING_KIND, record_no=line)
    close(len(rows))
    if head["claims"] != len(claims):
        raise IbWireError(
            "does not match the claim lines", file_kind=FORWARDING_KIND, record_no=1, field="claims"
        )
    if len({c.record_seq for c in claims}) != len(claims):
        raise IbWireError("repeats a record_seq", file_kind=FORWARDING_KIND)
    return ForwardingFile(head["batch_id"], head["forwarded_by"], head["destination"], tuple(claims))


@dataclass
class ClaimReading:
    """What a lenient reader found of one claim: its number (if readable) and every problem of its lines."""

    record_seq: int | None
    problems: list[Problem] = field(default_factory=list)


def read_forwarding(content: bytes) -> tuple[dict[str, Any], list[Problem], list[ClaimReading]]:
    """Read a forwarding file leniently, as a receiving body does: ``(header, its problems, claims)``.

    Each claim is read with its page lines; a problem in either is the claim's. Never raises on content.
    """
    text = content[: -len(LINE_END)] if content.endswith(LINE_END) else content
    rows = text.split(LINE_END) if text else []
    head: dict[str, Any] = {}
    problems: list[Problem] = []
    if not content.endswith(LINE_END) or not rows or rows[0].split(SEPARATOR, 1)[0] != b"H":
        problems.append(Problem(None, "has no header line", ProblemKind.STRUCTURE))
    else:
        head, problems = _FORWARDING[b"H"].problems(rows[0])
        rows = rows[1:]
    claims: list[ClaimReading] = []
    for raw in rows[: MAX_CLAIMS * (1 + MAX_PAGES)]:
        kind = raw.split(SEPARATOR, 1)[0]
        if kind == b"D":
            values, found = _FORWARDING[b"D"].problems(raw)
            claims.append(ClaimReading(values.get("record_seq"), found))
        elif kind == b"P" and claims:
            values, found = _FORWARDING[b"P"].problems(raw)
            claims[-1].problems += found
        else:
            problems.append(Problem(None, "holds a line of no known kind", ProblemKind.STRUCTURE))
    if head.get("claims") is not None and head["claims"] != len(claims):
        problems.append(
            Problem(FORWARDING_HEAD.fields[4], "does not match the claim lines", ProblemKind.CONSISTENCY)
        )
    return head, problems, claims


def write_receipt(receipt: ReceiptFile) -> bytes:
    """The bytes of a receipt.

    Raises:
        IbFieldRefused: a value the layout forbids.
    """
    if len(receipt.accepted) + len(receipt.returned) > MAX_CLAIMS:
        raise IbFieldRefused("lists more claims than a receipt holds", file_kind=RECEIPT_KIND)
    head = {
        "forwarding": receipt.forwarding,
        "batch_id": receipt.batch_id,
        "destination": receipt.destination,
        "received_on": receipt.received_on,
        "accepted": len(receipt.accepted),
        "returned": len(receipt.returned),
    }
    rows = [_RECEIPT[b"H"].encode_row(head, 1)]
    rows += [
        _RECEIPT[b"A"].encode_row({"record_seq": s}, len(rows) + 1 + i)
        for i, s in enumerate(receipt.accepted)
    ]
    for seq, item, reason in receipt.returned:
        rows.append(
            _RECEIPT[b"R"].encode_row({"record_seq": seq, "field": item, "reason": reason}, len(rows) + 1)
        )
    return b"".join(row + LINE_END for row in rows)


def parse_receipt(content: bytes) -> ReceiptFile:
    """Parse a receipt strictly.

    Raises:
        IbWireError: the receipt breaks its layout (the line and the item are named, never a value).
    """
    rows = _lines(content, RECEIPT_KIND, 1 + MAX_CLAIMS)
    if rows[0].split(SEPARATOR, 1)[0] != b"H":
        raise IbWireError("is not the header", file_kind=RECEIPT_KIND, record_no=1)
    head = _RECEIPT[b"H"].decode_row(rows[0], 1)
    accepted: list[int] = []
    returned: list[Returned] = []
    for line, raw in enumerate(rows[1:], start=2):
        kind = raw.split(SEPARATOR, 1)[0]
        if kind == b"A" and not returned:
            accepted.append(_RECEIPT[b"A"].decode_row(raw, line)["record_seq"])
        elif kind == b"R":
            row = _RECEIPT[b"R"].decode_row(raw, line)
            returned.append((row["record_seq"], row["field"], row["reason"]))
        else:
            raise IbWireError("is not the expected line kind", file_kind=RECEIPT_KIND, record_no=line)
    if head["accepted"] != len(accepted):
        raise IbWireError(
            "does not match the accepted lines", file_kind=RECEIPT_KIND, record_no=1, field="accepted"
        )
    if head["returned"] != len(returned):
        raise IbWireError(
            "does not match the returned lines", file_kind=RECEIPT_KIND, record_no=1, field="returned"
        )
    seqs = [*accepted, *(r[0] for r in returned)]
    if len(set(seqs)) != len(seqs):
        raise IbWireError("names a claim twice", file_kind=RECEIPT_KIND)
    return ReceiptFile(
        forwarding=head["forwarding"],
        batch_id=head["batch_id"],
        destination=head["destination"],
        received_on=head["received_on"],
        accepted=tuple(accepted),
        returned=tuple(returned),
    )


def layout_tables() -> dict[str, str]:
    """Every layout as a Markdown table, by its name (the documentation embeds them)."""
    layouts = (FORWARDING_HEAD, CLAIM_ROW, PAGE_ROW, RECEIPT_HEAD, ACCEPTED_ROW, RETURNED_ROW)
    return {layout.name: markdown_table(layout.name, layout.fields, by_bytes=False) for layout in layouts}

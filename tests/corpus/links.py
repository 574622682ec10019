"""Malformed files from the counterparts, over their encrypted links: J-LIS, the intermediate server, eLTAX.

A case is the message body as it arrives on ``{p}.counterpart.<name>.inbound``: either a file protected
with the link cipher exactly as the network's side would (so the adapter's own reader meets the fault), or
a body that breaks the link format itself. J-LIS cases start from valid result files and change one
field, record or byte; the intermediate server's, eLTAX's and the National Tax Agency's break names,
framing and contents.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

import pytest

from adapters.jlis.names import request_file_name, result_file_name
from adapters.jlis.wire import ResultRecord
from contracts.errors import PermanentError
from contracts.individual_number import synthetic_individual_number
from contracts.link import CounterpartFile
from contracts.messages.survival import MoveKind, SurvivalOutcome
from contracts.redaction import find_numbers
from hub.demo.deployment import LocalDeployment
from tests.corpus.builders import jlis_result_file, splice_result_field

__all__ = [
    "LinkCase",
    "eltax_cases",
    "implementing_bodies_cases",
    "intermediate_server_cases",
    "jlis_cases",
    "link_body",
    "nta_cases",
]

UNDECODABLE = frozenset({"undecodable"})
SEAL = frozenset({"seal_invalid"})
JLIS_WIRE = frozenset({"jlis_wire_format"})
JLIS_FILE = frozenset({"jlis_unexpected_file"})


@dataclass(frozen=True)
class LinkCase:
    """One message on a counterpart's inbound link.

    Attributes:
        id: the case's name.
        counterpart: whose link it arrives on.
        reasons: the reason codes it may be dead-lettered with.
        file: a file to protect with the link cipher, or ``None`` when ``raw`` is the body.
        raw: the body as published (link format broken), when ``file`` is ``None``.
        tamper: changes the protected body before it is published (tampering in transit).
    """

    id: str
    counterpart: str
    reasons: frozenset[str]
    file: CounterpartFile | None = None
    raw: bytes | None = None
    tamper: Callable[[bytes], bytes] | None = None


def _alive(seq: int, ref: str = "abcdefghij") -> ResultRecord:
    return ResultRecord(seq, ref, SurvivalOutcome.ALIVE)


def _flip_last_content_byte(body: bytes) -> bytes:
    head = json.loads(body)
    sealed = bytearray(base64.urlsafe_b64decode(head["content"]))
    sealed[-1] ^= 0x01
    head["content"] = base64.urlsafe_b64encode(bytes(sealed)).decode()
    return json.dumps(head).encode()


def _rename_after_protect(body: bytes) -> bytes:
    head = json.loads(body)
    stem, last = head["name"][:-5], head["name"][-5]
    head["name"] = f"{stem}{'1' if last == '0' else '0'}.dat"  # another valid name: the AAD no longer matches
    return json.dumps(head).encode()


_RECORD = 802  # a result record and its CR LF


def _patch(content: bytes, offset: int, raw: bytes) -> bytes:
    return content[:offset] + raw + content[offset + len(raw) :]


def jlis_cases(correlation: str, refs: list[str]) -> Iterator[LinkCase]:
    """J-LIS result files broken one way each (``refs``: references the hub knows)."""

    def file(case: str, content: bytes, *, name: str | None = None, corr: str | None = None) -> LinkCase:
        return LinkCase(
            case,
            "jlis",
            JLIS_WIRE,
            CounterpartFile("jlis", name or result_file_name(uuid.uuid4()), content, corr or correlation),
        )

    def result(request_id: uuid.UUID, *records: ResultRecord) -> bytes:
        return jlis_result_file(request_id, records)

    rid = uuid.uuid4()
    good = result(rid, _alive(1), _alive(2))
    name = result_file_name(rid)
    number = synthetic_individual_number()
    changed = ResultRecord(1, "abcdefghij", SurvivalOutcome.NUMBER_CHANGED, new_individual_number=number)
    with_number = result(rid, changed)
    renamed = ResultRecord(
        1, "abcdefghij", SurvivalOutcome.NAME_CHANGED, new_name="山田 太郎", name_changed_on=date(2026, 10, 1)
    )
    with_name = result(rid, renamed)
    record = 2  # the first data record (the header is record 1)

    # -- the link format itself --------------------------------------------------------------------------
    yield LinkCase("link-not-json", "jlis", UNDECODABLE, raw=b"\x00\x01 not a link message")
    yield LinkCase("link-missing-content", "jlis", UNDECODABLE, raw=b'{"counterpart": "jlis", "name": "x"}')
    bad_b64 = {"counterpart": "jlis", "name": name, "correlation_id": correlation, "content": "!!!not base64"}
    yield LinkCase("link-content-not-base64", "jlis", UNDECODABLE, raw=json.dumps(bad_b64).encode())
    yield LinkCase(
        "link-tampered-ciphertext",
        "jlis",
        SEAL,
        CounterpartFile("jlis", name, good, correlation),
        tamper=_flip_last_content_byte,
    )
    yield LinkCase(
        "link-renamed-in-transit",
        "jlis",
        SEAL,
        CounterpartFile("jlis", name, good, correlation),
        tamper=_rename_after_protect,
    )
    mallory = {"counterpart": "mallory", "name": name, "correlation_id": correlation, "content": "AAAA" * 10}
    yield LinkCase("link-unknown-counterpart", "jlis", SEAL, raw=json.dumps(mallory).encode())
    short = {"counterpart": "jlis", "name": name, "correlation_id": correlation, "content": "AAAA"}
    yield LinkCase("link-content-shorter-than-a-nonce", "jlis", SEAL, raw=json.dumps(short).encode())
    yield LinkCase("link-deeply-nested", "jlis", UNDECODABLE, raw=b"[" * 100_000)
    surrogate = b'{"counterpart": "jlis", "name": "\\ud800", "correlation_id": "c", "content": "AAAA"}'
    yield LinkCase("link-name-lone-surrogate", "jlis", UNDECODABLE, raw=surrogate)
    # Sealed under eLTAX's line key: the J-LIS adapter holds only its own line's key, so it cannot open it.
    yield LinkCase(
        "link-another-counterparts-file", "jlis", SEAL, CounterpartFile("eltax", name, good, correlation)
    )
    # -- names and pairing ------------------------------------------------------------------------------
    yield dataclasses.replace(file("name-not-jlis", good, name="evil.dat"), reasons=JLIS_FILE)
    yield dataclasses.replace(file("name-path-traversal", good, name="../../etc/passwd"), reasons=JLIS_FILE)
    yield dataclasses.replace(file("name-is-a-request", good, name=request_file_name(rid)), reasons=JLIS_FILE)
    yield dataclasses.replace(file("name-answers-another-request", good), reasons=JLIS_FILE)
    yield dataclasses.replace(
        file("correlation-not-a-uuid", good, name=name, corr="x'; DROP TABLE"), reasons=JLIS_FILE
    )
    # -- framing ----------------------------------------------------------------------------------------
    yield file("empty-file", b"", name=name)
    yield file("garbage-10mb", b"\x00garbage" * 1_250_000, name=name)
    yield file("truncated-mid-record", good[: len(good) - 400], name=name)
    yield file("padded-one-byte", good + b" ", name=name)
    yield file("missing-crlf", good.replace(b"\r\n", b"\n\n"), name=name)
    yield file("header-only", good[:_RECORD], name=name)
    trailer = len(good) - _RECORD  # record kind (1), record_count (7), checksum (64), filler
    yield file("trailer-count-wrong", _patch(good, trailer + 1, b"0000009"), name=name)
    yield file("checksum-wrong", _patch(good, trailer + 8, b"0" * 64), name=name)
    yield file(
        "records-in-wrong-order",
        good[_RECORD : 2 * _RECORD] + good[:_RECORD] + good[2 * _RECORD :],
        name=name,
    )
    # -- fields -----------------------------------------------------------------------------------------
    yield file(
        "seq-full-width-digits", splice_result_field(good, record, "record_seq", "１２３".encode()), name=name
    )
    yield file("seq-letters", splice_result_field(good, record, "record_seq", b"00000000x"), name=name)
    yield file(
        "new-number-full-width",
        splice_result_field(with_number, record, "new_individual_number", "１２３４".encode()),
        name=name,
    )
    bad_check = number.reveal()[:11] + str((int(number.reveal()[11]) + 1) % 10)
    yield file(
        "new-number-bad-check-digit",
        splice_result_field(with_number, record, "new_individual_number", bad_check.encode()),
        name=name,
    )
    yield file(
        "date-not-a-date", splice_result_field(with_name, record, "name_changed_on", b"20261332"), name=name
    )
    yield file("outcome-unknown-code", splice_result_field(good, record, "outcome", b"77"), name=name)
    yield file("dead-without-date", splice_result_field(good, record, "outcome", b"10"), name=name)
    yield file("move-without-kind", splice_result_field(good, record, "outcome", b"20"), name=name)
    yield file(
        "name-with-nul",
        splice_result_field(with_name, record, "new_name", "山田\x00太郎".encode()),
        name=name,
    )
    yield file(
        "name-rtl-override",
        splice_result_field(with_name, record, "new_name", "\u202e山田太郎".encode()),
        name=name,
    )
    yield file(
        "name-shift-jis",
        splice_result_field(with_name, record, "new_name", "山田太郎".encode("shift_jis")),
        name=name,
    )
    yield file(
        "ref-injection", splice_result_field(good, record, "ref", b"x'; DROP TABLE vault;--"), name=name
    )
    yield file("seq-repeated", splice_result_field(good, 3, "record_seq", b"000000001"), name=name)
    moved = ResultRecord(
        1, "abcdefghij", SurvivalOutcome.MOVED, move_kind=MoveKind.RELOCATION, moved_on=date(2026, 10, 1)
    )
    yield file(
        "move-kind-unknown", splice_result_field(result(rid, moved), record, "move_kind", b"9"), name=name
    )
    # -- well-formed, but the hub cannot match it: dead-lettered by the hub, not the adapter -----------
    unknown = result(rid, _alive(1, "zzzzzzzzzzzzzzzz"))
    yield dataclasses.replace(
        file("unknown-reference", unknown, name=name), reasons=frozenset({"validation_failed"})
    )
    del refs  # known references make valid neighbours, not cases


def intermediate_server_cases(correlation: str) -> Iterator[LinkCase]:
    """Files of the intermediate server broken one way each."""
    from adapters.intermediate_server.names import file_name

    wire = frozenset({"is_wire_format"})
    unexpected = frozenset({"is_unexpected_file"})
    rid = uuid.uuid4()
    notice = file_name("TKN1", rid)

    def case(
        case_id: str, name: str, content: bytes, reasons: frozenset[str], corr: str | None = None
    ) -> LinkCase:
        return LinkCase(
            case_id,
            "intermediate_server",
            reasons,
            CounterpartFile("intermediate_server", name, content, corr or correlation),
        )

    yield case("is-name-not-ours", "evil.csv", b"x", unexpected)
    yield case("is-name-path", "../../etc/passwd", b"x", unexpected)
    yield case("is-request-came-back", file_name("FGQ1", rid), b"x", unexpected)
    yield case("is-query-without-provider", f"IS-SKR1-{notice[8:36]}.csv", b"x", unexpected)
    yield case("is-correlation-not-uuid", notice, b"x", unexpected | wire, corr="not-a-uuid")
    yield case("is-empty", notice, b"", wire)
    yield case("is-not-utf8", notice, "通知".encode("shift_jis") + b"\xff\xfe", wire)
    yield case("is-garbage", notice, b"\x00\x01\x02 garbage, not csv\n" * 100, wire)
    yield case("is-control-line-only", notice, b"TKN1\n", wire | unexpected)
    yield LinkCase("is-link-not-json", "intermediate_server", UNDECODABLE, raw=b"not json")


def eltax_cases(correlation: str) -> Iterator[LinkCase]:
    """Files of eLTAX broken one way each."""
    from adapters.eltax.names import notice_file_name, report_file_name
    from contracts.messages.eltax import TokuchoNoticeCode

    wire = frozenset({"eltax_wire_format", "eltax_field_refused"})
    unexpected = frozenset({"eltax_unexpected_file"})
    fid = uuid.uuid4()
    request = notice_file_name(TokuchoNoticeCode.REQUEST, "131016", fid)

    def case(
        case_id: str, name: str, content: bytes, reasons: frozenset[str], corr: str | None = None
    ) -> LinkCase:
        return LinkCase(
            case_id, "eltax", reasons, CounterpartFile("eltax", name, content, corr or correlation)
        )

    yield case("eltax-name-not-ours", "evil.dat", b"x", unexpected)
    yield case("eltax-name-path", "../../etc/passwd", b"x", unexpected)
    yield case("eltax-outbound-report-came-in", report_file_name("131016", fid), b"x", unexpected)
    yield case(
        "eltax-outbound-notice-came-in",
        notice_file_name(TokuchoNoticeCode.TARGET, "131016", fid),
        b"x",
        unexpected,
    )
    yield case("eltax-correlation-not-uuid", request, b"x", unexpected | wire, corr="x'; DROP TABLE")
    yield case("eltax-empty", request, b"", wire)
    yield case("eltax-garbage", request, b"\x00garbage" * 500, wire)
    yield case("eltax-not-shift-jis-or-utf8", request, b"\xff\xfe\xfd" * 200, wire)
    yield case("eltax-truncated-label", request, b"1" * 95, wire)
    yield LinkCase("eltax-link-not-json", "eltax", UNDECODABLE, raw=b"[]")


def nta_cases(correlation: str) -> Iterator[LinkCase]:
    """Receipts of the National Tax Agency broken one way each (all answer one submission).

    The receipt is renkei's own format (``docs/formats/nta.md``); each case breaks one of its rules, its
    name, its pairing or the contract, and must be refused with its reason, never taken as an answer.
    """
    from adapters.nta.names import receipt_file_name, submission_file_name

    wire = frozenset({"nta_wire_format"})
    unexpected = frozenset({"nta_unexpected_file"})
    mapping = frozenset({"nta_mapping"})
    sid = uuid.uuid4()
    submission = submission_file_name(sid)
    receipt = receipt_file_name(submission)
    number = synthetic_individual_number().reveal()

    def case(
        case_id: str,
        content: bytes,
        reasons: frozenset[str] = wire,
        *,
        name: str = receipt,
        corr: str | None = None,
        counterpart: str = "nta",
    ) -> LinkCase:
        return LinkCase(
            case_id, "nta", reasons, CounterpartFile(counterpart, name, content, corr or correlation)
        )

    def control(status: str = "1", slips: str = "3", errors: str = "1", *, file: str = submission) -> bytes:
        return f"H,{file},2026,20270120,{status},{slips},{errors}\r\n".encode()

    good_error = b"E,2,individual_number,E110\r\n"
    # -- names and pairing --------------------------------------------------------------------------------
    yield case("nta-name-not-ours", b"x", unexpected, name="evil.csv")
    yield case("nta-name-path", b"x", unexpected, name="../../etc/passwd")
    yield case("nta-name-standard-only", b"x", unexpected, name="377dat01.txt")
    yield case("nta-submission-came-back", control() + good_error, unexpected, name=submission)
    yield case("nta-receipt-wrong-extension", b"x", unexpected, name=receipt.replace(".csv", ".txt"))
    yield case("nta-correlation-not-uuid", control() + good_error, unexpected, corr="x'; DROP TABLE")
    yield case("nta-from-another-line", control() + good_error, unexpected, counterpart="eltax")
    other = submission_file_name(uuid.uuid4())
    yield case("nta-control-names-another-file", control(file=other) + good_error, unexpected)
    # -- framing --------------------------------------------------------------------------------------------
    yield case("nta-empty", b"")
    yield case("nta-garbage", b"\x00garbage" * 500)
    yield case("nta-not-cp932", b"\xff\xfe\xfd" * 200 + b"\r\n")
    yield case("nta-no-crlf", (control() + good_error).replace(b"\r\n", b"\n"))
    yield case("nta-truncated-mid-line", (control() + good_error)[:-8])
    yield case("nta-error-line-first", good_error + control())
    yield case("nta-control-line-twice", control("0", "3", "0") * 2)
    yield case("nta-unknown-line-kind", control() + b"D,2,individual_number,E110\r\n")
    yield case("nta-too-few-items", control() + b"E,2,E110\r\n")
    yield case("nta-too-many-items", control()[:-2] + b",extra\r\n" + good_error)
    # -- the control line and the error lines ---------------------------------------------------------------
    yield case("nta-error-count-wrong", control(errors="2") + good_error)
    yield case("nta-rejected-without-errors", control(errors="0"))
    yield case("nta-accepted-with-errors", control(status="0") + good_error)
    yield case("nta-status-unknown", control(status="7") + good_error)
    yield case("nta-received-not-a-date", control().replace(b"20270120", b"20271340") + good_error)
    yield case("nta-error-beyond-the-slips", control() + b"E,4,individual_number,E110\r\n")
    yield case("nta-error-line-zero", control() + b"E,0,individual_number,E110\r\n")
    yield case("nta-error-code-not-ours", control() + b"E,2,individual_number,X110\r\n")
    yield case("nta-error-field-injection", control() + b"E,2,name'; DROP TABLE,E110\r\n")
    yield case("nta-error-field-holds-a-number", control() + f"E,2,{number},E110\r\n".encode())
    yield case("nta-error-code-full-width", control() + "E,2,individual_number,Ｅ１１０\r\n".encode("cp932"))
    # -- well-formed, but the contract refuses it ----------------------------------------------------------
    yield case("nta-slips-beyond-the-contract", control(slips="9999999") + good_error, mapping)
    yield case(
        "nta-tax-year-beyond-the-contract", control().replace(b",2026,", b",2101,") + good_error, mapping
    )


def link_body(hub: LocalDeployment, case: LinkCase) -> bytes:
    """The message body of a link case on the counterpart's inbound queue (under its file's line key)."""
    link = hub.link_cipher()
    if case.file is None:
        assert case.raw is not None
        return case.raw
    body = link.protect(case.file)
    return case.tamper(body) if case.tamper else body


def implementing_bodies_cases(correlation: str) -> Iterator[LinkCase]:
    """Receipts of the other implementing bodies broken one way each (all answer one forwarding).

    The receipt is renkei's own format (``docs/formats/implementing_bodies.md``); each case breaks one of its
    rules, its name, its pairing or the contract, and must be refused with its reason.
    """
    from adapters.implementing_bodies.names import forwarding_file_name, receipt_file_name
    from contracts.messages.implementing_bodies import ImplementingBody

    wire = frozenset({"implementing_bodies_wire_format"})
    unexpected = frozenset({"implementing_bodies_unexpected_file"})
    forwarding = forwarding_file_name(ImplementingBody.JPS, uuid.uuid4())
    receipt = receipt_file_name(forwarding)
    number = synthetic_individual_number().reveal()

    def case(
        case_id: str,
        content: bytes,
        reasons: frozenset[str] = wire,
        *,
        name: str = receipt,
        corr: str | None = None,
        counterpart: str = "implementing_bodies",
    ) -> LinkCase:
        file = CounterpartFile(counterpart, name, content, corr or correlation)
        return LinkCase(case_id, "implementing_bodies", reasons, file)

    def head(accepted: str = "1", returned: str = "1", *, file: str = forwarding, dest: str = "1") -> bytes:
        return f"H,{file},cf-1,{dest},20261104,{accepted},{returned}\r\n".encode()

    good = head() + b"A,0\r\nR,1,pages,R010\r\n"
    # -- names and pairing --------------------------------------------------------------------------------
    yield case("ib-name-not-ours", good, unexpected, name="evil.csv")
    yield case("ib-name-path", good, unexpected, name="../../etc/passwd")
    yield case("ib-name-unknown-body", good, unexpected, name=receipt.replace("-jps-", "-nhk-"))
    yield case("ib-forwarding-came-back", good, unexpected, name=forwarding)
    yield case("ib-correlation-not-uuid", good, unexpected, corr="x'; DROP TABLE")
    yield case("ib-from-another-line", good, unexpected, counterpart="nta")
    other = forwarding_file_name(ImplementingBody.JPS, uuid.uuid4())
    yield case("ib-header-names-another-file", good.replace(forwarding.encode(), other.encode()), unexpected)
    yield case("ib-header-names-another-body", good.replace(b",cf-1,1,", b",cf-1,2,"), unexpected)
    # -- framing ------------------------------------------------------------------------------------------
    yield case("ib-empty", b"")
    yield case("ib-garbage", b"\x00garbage" * 500)
    yield case("ib-not-cp932", b"\xff\xfe\xfd" * 200 + b"\r\n")
    yield case("ib-no-crlf", good.replace(b"\r\n", b"\n"))
    yield case("ib-truncated-mid-line", good[:-6])
    yield case("ib-header-not-first", b"A,0\r\n" + head("1", "0"))
    yield case("ib-header-twice", head("0", "0") * 2)
    yield case("ib-unknown-line-kind", head("1", "0") + b"Z,0\r\n")
    yield case("ib-accepted-after-returned", head() + b"R,1,pages,R010\r\nA,0\r\n")
    yield case("ib-too-many-items", head("1", "0") + b"A,0,extra\r\n")
    yield case("ib-too-few-items", head("0", "1") + b"R,1,R010\r\n")
    # -- items and rules across lines ---------------------------------------------------------------------
    yield case("ib-accepted-count-wrong", head("2", "1") + b"A,0\r\nR,1,pages,R010\r\n")
    yield case("ib-returned-count-wrong", head("1", "0") + b"A,0\r\nR,1,pages,R010\r\n")
    yield case("ib-claim-twice", head("1", "1") + b"A,1\r\nR,1,pages,R010\r\n")
    yield case("ib-destination-unknown", good.replace(b",cf-1,1,", b",cf-1,9,"))
    yield case("ib-received-not-a-date", good.replace(b"20261104", b"20261340"))
    yield case("ib-seq-not-digits", head("1", "0") + b"A,x1\r\n")
    yield case("ib-reason-not-ours", head("0", "1") + b"R,1,pages,X010\r\n")
    yield case("ib-reason-full-width", head("0", "1") + "R,1,pages,Ｒ０１０\r\n".encode("cp932"))
    yield case("ib-field-injection", head("0", "1") + b"R,1,name'; DROP TABLE,R010\r\n")
    yield case("ib-field-holds-a-number", head("0", "1") + f"R,1,{number},R010\r\n".encode())
    yield case("ib-batch-injection", good.replace(b",cf-1,", b",cf'1,"))


def assert_refused_with_its_reason(read: Callable[[CounterpartFile], object], case: LinkCase) -> None:
    """Assert that reading the case's file is refused with one of its reasons, in words with no number."""
    assert case.file is not None
    with pytest.raises(PermanentError) as caught:
        read(case.file)
    assert caught.value.code in case.reasons, f"{caught.value.code}: {caught.value}"
    assert str(caught.value)
    assert not find_numbers(str(caught.value))

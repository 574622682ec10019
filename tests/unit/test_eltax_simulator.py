"""The simulated eLTAX: per-record errors, file refusals, the municipalities' replies and the calendar."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

import pytest

from adapters.eltax import (
    CALENDAR_ERROR,
    NOT_RESIDENT,
    WRONG_PARTY,
    EltaxFileError,
    MunicipalRegister,
    Rates,
    change_applies_to,
    fiscal_year_of,
    is_allowed,
    notice_file_name,
    parse_notice,
    parse_receipt,
    payment_day,
    reply_on,
    report_file_name,
    write_notice,
    write_report,
)
from adapters.eltax.tokucho import NoticeHeader
from contracts.link import CounterpartFile
from contracts.messages.eltax import ReceiptStatus, TokuchoNoticeCode
from contracts.messages.eltax_tokucho import TokuchoAmounts
from tests.eltax_fixtures import notice_file, report_file, simulator

C = TokuchoNoticeCode
CORRELATION = str(uuid.uuid4())


def _report(content: bytes, municipality: str = "13101") -> CounterpartFile:
    return CounterpartFile("eltax", report_file_name(municipality, uuid.uuid4()), content, CORRELATION)


def _notice(file, name_municipality: str | None = None) -> CounterpartFile:
    header = file.header
    name = notice_file_name(header.notice_code, name_municipality or header.municipality_code, uuid.uuid4())
    return CounterpartFile("eltax", name, write_notice(file), CORRELATION)


def test_bad_rows_get_per_record_errors_and_good_rows_are_accepted():
    rows = write_report(report_file(4)).split(b"\r\n")
    rows[1] = rows[1].replace("鈴木　和子".encode("cp932"), "鈴木　和子".encode())  # not CP932
    rows[2] = b"331,only,three"
    rows[3] = rows[3].replace(b",P0000000003,", b",,")  # 受給者番号 blank
    answers = simulator(non_resident=0.0).handle(_report(b"\r\n".join(rows)))
    assert len(answers) == 1
    receipt = parse_receipt(answers[0].content)
    assert receipt.file_status is ReceiptStatus.ACCEPTED
    by_line = {r.line: r for r in receipt.records}
    assert by_line[1].status is ReceiptStatus.ACCEPTED
    assert by_line[2].status is ReceiptStatus.REJECTED
    assert by_line[2].key == "P0000000001"
    assert ("name", "E005") in by_line[2].errors
    assert by_line[3].errors == ((None, "E010"),)
    assert ("recipient_number", "E001") in by_line[4].errors


def test_every_problem_of_a_row_is_reported_not_just_the_first():
    row = write_report(report_file(1)).split(b"\r\n")[0]
    row = row.replace(b",0,08,", b",7,8,")  # 訂正表示 7 and 年分 not zero-padded
    receipt = parse_receipt(simulator(non_resident=0.0).handle(_report(row + b"\r\n"))[0].content)
    assert {field for field, _ in receipt.records[0].errors} == {"correction", "tax_year"}


def test_people_the_municipality_does_not_know_are_rejected_e100():
    answers = simulator(non_resident=1.0).handle(_report(write_report(report_file(3))))
    receipt = parse_receipt(answers[0].content)
    assert [r.errors for r in receipt.records] == [(("recipient_number", NOT_RESIDENT),)] * 3


def test_a_file_for_another_municipality_is_refused_whole():
    receipt = parse_receipt(simulator().handle(_report(write_report(report_file(2)), "01100"))[0].content)
    assert receipt.file_status is ReceiptStatus.REJECTED
    assert receipt.file_errors == (("municipality_code", WRONG_PARTY),)
    assert receipt.records == ()


def test_a_file_without_its_last_line_end_is_refused_whole():
    receipt = parse_receipt(simulator().handle(_report(write_report(report_file(2))[:-2]))[0].content)
    assert receipt.file_status is ReceiptStatus.REJECTED
    assert receipt.file_errors == ((None, "E010"),)


def test_a_target_notice_is_answered_with_a_request_dated_by_the_calendar():
    sim = simulator(non_resident=0.0, not_target=0.5)
    answers = sim.handle(_notice(notice_file(C.TARGET, count=20)))
    assert [a.name.split("-")[1] for a in answers] == ["RC", "TK01"]
    request = parse_notice(answers[1].content)
    assert request.header.created_on == date(2026, 7, 31)
    assert len(request.records) == 20
    register = sim.register
    for sent, got in zip(notice_file(C.TARGET, count=20).records, request.records, strict=True):
        assert got.certificate_number == sent.certificate_number
        assert got.individual_number == sent.individual_number
        assert got.category == register.request_category("01100", sent.certificate_number)
        assert (got.amounts == (None,) * 6) == (got.category == "03")
    assert {r.category for r in request.records} >= {"01", "03"}
    assert sim.notices_issued == {"01": 20}


def test_rejected_targets_get_no_request():
    sim = simulator(non_resident=1.0)
    answers = sim.handle(_notice(notice_file(C.TARGET, count=3)))
    assert len(answers) == 1
    assert all(
        r.errors == (("certificate_number", NOT_RESIDENT),) for r in parse_receipt(answers[0].content).records
    )


def _main_total(amounts: TokuchoAmounts) -> int:
    """The three main-collection amounts of a request added up (a request carries all three)."""
    total = 0
    for part in (amounts.main_october, amounts.main_december, amounts.main_february):
        assert part is not None, "a request carries every main-collection amount"
        total += part
    return total


def test_the_request_amounts_follow_the_rules():
    register = MunicipalRegister()
    tax = register.annual_tax(2_530_000)
    assert tax == 105_000
    new = register.request_amounts("01", 2_530_000, 0)
    assert _main_total(new) == tax // 2
    assert new.provisional_april == new.provisional_june == new.provisional_august == 17_500
    continuing = register.request_amounts("02", 2_530_000, 60_000)
    assert _main_total(continuing) == tax - 30_000


@pytest.mark.parametrize(("created", "allowed"), [(date(2026, 11, 10), True), (date(2026, 12, 10), False)])
def test_a_collection_result_in_an_even_month_is_refused(created, allowed):
    file = replace(
        notice_file(C.COLLECTION_RESULT, count=3), header=NoticeHeader("01100", C.COLLECTION_RESULT, created)
    )
    receipt = parse_receipt(simulator().handle(_notice(file))[0].content)
    assert (receipt.file_status is ReceiptStatus.ACCEPTED) == allowed
    if not allowed:
        assert receipt.file_errors == (("created_on", CALENDAR_ERROR),)


def test_a_collection_result_brings_losses_and_changes_across_the_calendar():
    sim = simulator(loss=0.3, provisional_change=0.4)
    file = replace(
        notice_file(C.COLLECTION_RESULT, count=30),
        header=NoticeHeader("01100", C.COLLECTION_RESULT, date(2026, 11, 10)),
    )
    answers = sim.handle(_notice(file))
    notices = {parse_notice(a.content).header.notice_code: parse_notice(a.content) for a in answers[1:]}
    assert set(notices) == {C.LOSS, C.PROVISIONAL_CHANGE}
    for record in notices[C.LOSS].records:
        assert record.category in {"01", "02", "03", "04"}
        assert record.event_date is not None, "a loss has its date"
        assert date(2026, 10, 15) < record.event_date <= date(2026, 11, 15)
    for record in notices[C.PROVISIONAL_CHANGE].records:
        assert record.event_date == date(2027, 4, 1)
        assert record.amounts[3] == record.amounts[4] == record.amounts[5]
    lost = {r.certificate_number for r in notices[C.LOSS].records}
    assert lost.isdisjoint(r.certificate_number for r in notices[C.PROVISIONAL_CHANGE].records)


def test_results_are_only_receipted():
    answers = simulator().handle(
        _notice(notice_file(C.REQUEST_RESULT, count=2, created_on=date(2026, 8, 20)))
    )
    assert len(answers) == 1
    assert parse_receipt(answers[0].content).file_status is ReceiptStatus.ACCEPTED


def test_an_additional_candidate_is_answered_thirty_days_later():
    file = notice_file(C.ADDITIONAL_CANDIDATE, count=2, created_on=date(2026, 9, 1))
    answers = simulator(non_resident=0.0).handle(_notice(file))
    assert parse_notice(answers[1].content).header == NoticeHeader(
        "01100", C.ADDITIONAL_REQUEST, date(2026, 10, 1)
    )


def test_a_notice_of_another_obligor_or_municipality_is_refused():
    other = replace(
        notice_file(count=1), header=NoticeHeader("01100", C.TARGET, date(2026, 5, 20), obligor_code="501")
    )
    receipt = parse_receipt(simulator().handle(_notice(other))[0].content)
    assert receipt.file_errors == (("obligor_code", WRONG_PARTY),)
    receipt = parse_receipt(simulator().handle(_notice(notice_file(count=1), "13101"))[0].content)
    assert receipt.file_errors == (("municipality_code", WRONG_PARTY),)


def test_the_simulator_answers_a_redelivered_file_identically():
    file = _notice(notice_file(C.TARGET, count=5))
    sim = simulator()
    assert sim.handle(file) == sim.handle(file)
    assert sim.files_received == 2


def test_the_simulator_refuses_files_it_would_send():
    file = notice_file(C.REQUEST, count=1, created_on=date(2026, 7, 31))
    with pytest.raises(EltaxFileError):
        simulator().handle(_notice(file))


def test_rates_are_probabilities():
    with pytest.raises(ValueError, match="probability"):
        Rates(loss=1.5)


# -- the calendar -----------------------------------------------------------------------------------------


def test_the_fiscal_year_and_payment_days():
    assert fiscal_year_of(date(2027, 3, 31)) == 2026
    assert fiscal_year_of(date(2027, 4, 1)) == 2027
    assert payment_day(2026, 2) == date(2027, 2, 15)
    assert payment_day(2026, 10) == date(2026, 10, 15)


def test_when_notices_may_be_made():
    assert is_allowed(C.TARGET, date(2026, 5, 25))
    assert not is_allowed(C.TARGET, date(2026, 7, 1))
    assert is_allowed(C.COLLECTION_RESULT, date(2027, 1, 10))
    assert not is_allowed(C.COLLECTION_RESULT, date(2027, 2, 10))
    assert is_allowed(C.LOSS, date(2027, 2, 10))


def test_replies_follow_the_calendar():
    assert reply_on(C.REQUEST, date(2026, 5, 20)) == date(2026, 7, 31)
    assert reply_on(C.REQUEST, date(2026, 8, 5)) == date(2026, 8, 5)
    assert reply_on(C.LOSS, date(2026, 11, 10)) == date(2026, 11, 10)


@pytest.mark.parametrize(
    ("changed", "months"),
    [
        (date(2026, 8, 1), (12, 2)),
        (date(2026, 10, 10), (12, 2)),
        (date(2026, 10, 11), (2,)),
        (date(2026, 12, 10), (2,)),
        (date(2026, 12, 11), ()),
    ],
)
def test_a_change_applies_to_the_payments_the_cabinet_order_says(changed, months):
    assert change_applies_to(changed, 2026) == months

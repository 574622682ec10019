"""The simulated eLTAX: the 地方税共同機構 and the municipalities behind it.

:class:`EltaxSimulator` implements :class:`contracts.link.Simulator`. For every file the federation submits
it returns a receipt (受付結果), validating the file against its layout first and reporting every problem per
record (field and code, never a value); then it answers as the municipalities would:

* a payment report (331): records of people the municipality does not know at its address are rejected
  (E100); the rest are accepted;
* a target notice (00) or an additional candidate (30): the same check, then a request (01 / 31) per
  municipality for the accepted people, dated by the calendar (31 July), with the category and amounts of
  :class:`~adapters.eltax.municipalities.MunicipalRegister`; the number of each person is copied over;
* a collection result (22), refused in even months (E030): losses (41) and provisional amount changes (61)
  learnt since, if any;
* results (02, 32, 42, 62): the receipt only.

It keeps no per-person state, only counters; the answers are deterministic, so a redelivered file gets the
same answers byte for byte (the receipt of a payment report is dated by the injected clock).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Final

from adapters.eltax.calendar import fiscal_year_of, is_allowed, reply_on
from adapters.eltax.errors import EltaxFileError
from adapters.eltax.mapping import amounts_of, slots_of
from adapters.eltax.municipalities import MunicipalRegister
from adapters.eltax.names import (
    COUNTERPART,
    correlation_of,
    notice_file_name,
    outbound,
    parse_name,
    receipt_file_name,
    reply_id,
)
from adapters.eltax.receipt import ReceiptEntry, ReceiptFile, write_receipt
from adapters.eltax.report import read_report
from adapters.eltax.tokucho import (
    FEDERATION_OBLIGOR,
    RESIDENT_TAX,
    NoticeFile,
    NoticeHeader,
    NoticeRecord,
    RecordReading,
    read_notice,
    write_notice,
)
from adapters.records.fields import Problem
from contracts.individual_number import IndividualNumber
from contracts.link import CounterpartFile
from contracts.messages.eltax import EltaxDocument, ReceiptStatus, TokuchoNoticeCode

__all__ = ["CALENDAR_ERROR", "NOT_RESIDENT", "WRONG_PARTY", "EltaxSimulator"]

NOT_RESIDENT: Final = "E100"
"""The municipality does not know the person at its address (該当者なし)."""
CALENDAR_ERROR: Final = "E030"
"""The notice is not allowed at its date (22 in an even month, 00 after May)."""
WRONG_PARTY: Final = "E040"
"""The file is for another municipality, obligor or collection system than it says."""
C = TokuchoNoticeCode
_REPLIES: Final = {C.TARGET: C.REQUEST, C.ADDITIONAL_CANDIDATE: C.ADDITIONAL_REQUEST}

Errors = tuple[tuple[str | None, str], ...]


def _errors(problems: tuple[Problem, ...] | list[Problem]) -> Errors:
    return tuple((None if p.field is None else p.field.name, p.kind.value) for p in problems)


class EltaxSimulator:
    """A simulated eLTAX with the municipalities of ``register``.

    Args:
        register: the municipalities' decisions.
        clock: the day a payment report is received (notices are received on their creation date).

    Attributes:
        files_received: files handled, redeliveries included.
        records: records accepted and rejected so far (``accepted``, ``rejected``).
        notices_issued: records of notices the municipalities sent, by notice code.
    """

    def __init__(self, register: MunicipalRegister | None = None, *, clock: Callable[[], date] = date.today):
        self.name: str = COUNTERPART
        self.register = register or MunicipalRegister()
        self._clock = clock
        self.files_received = 0
        self.records: Counter[str] = Counter()
        self.notices_issued: Counter[str] = Counter()

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one submitted file with its receipt and the municipalities' replies.

        Raises:
            EltaxFileError: the file is not one the federation submits to eLTAX.
        """
        name = parse_name(file.name)
        correlation_of(file)
        if not outbound(name):
            raise EltaxFileError("eLTAX does not take this file from the federation")
        self.files_received += 1
        replies: list[NoticeFile] = []
        if name.kind == "report":
            receipt = self._report(file, name.municipality_code)
        else:
            receipt, replies = self._notice(file, name.municipality_code, name.notice_code)
        self.records.update(r.status.value for r in receipt.records)
        answers = [self._file(receipt_file_name(file.name), write_receipt(receipt), file)]
        for notice in replies:
            self.notices_issued[notice.header.notice_code.value] += len(notice.records)
            reply = notice_file_name(
                notice.header.notice_code,
                name.municipality_code,
                reply_id(file.name, notice.header.notice_code),
            )
            answers.append(self._file(reply, write_notice(notice), file))
        return answers

    @staticmethod
    def _file(name: str, content: bytes, source: CounterpartFile) -> CounterpartFile:
        return CounterpartFile(COUNTERPART, name, content, source.correlation_id)

    def _report(self, file: CounterpartFile, municipality: str) -> ReceiptFile:
        reading = read_report(file.content)
        file_errors = list(_errors(reading.problems))
        if reading.municipality_code not in (None, municipality):
            file_errors.append(("municipality_code", WRONG_PARTY))
        received = self._clock()
        receipt = partial(ReceiptFile, file.name, EltaxDocument.PAYMENT_REPORT, None, municipality, received)
        if file_errors:
            return receipt(ReceiptStatus.REJECTED, tuple(file_errors))
        entries = []
        for row in reading.rows:
            errors = _errors(row.problems)
            if not errors and not self.register.resident(municipality, row.recipient_number or ""):
                errors = (("recipient_number", NOT_RESIDENT),)
            status = ReceiptStatus.REJECTED if errors else ReceiptStatus.ACCEPTED
            entries.append(ReceiptEntry(row.line, row.recipient_number, status, errors))
        return receipt(ReceiptStatus.ACCEPTED, (), tuple(entries))

    def _notice(
        self, file: CounterpartFile, municipality: str, code: TokuchoNoticeCode | None
    ) -> tuple[ReceiptFile, list[NoticeFile]]:
        reading = read_notice(file.content)
        header = reading.header
        file_errors = list(_errors(reading.problems))
        if header is not None:
            if header.municipality_code != municipality or header.notice_code is not code:
                file_errors.append(("municipality_code", WRONG_PARTY))
            if header.obligor_code != FEDERATION_OBLIGOR or header.system_code != RESIDENT_TAX:
                file_errors.append(("obligor_code", WRONG_PARTY))
            if not is_allowed(header.notice_code, header.created_on):
                file_errors.append(("created_on", CALENDAR_ERROR))
        received = header.created_on if header is not None else self._clock()
        receipt = partial(ReceiptFile, file.name, EltaxDocument.TOKUCHO_NOTICE, code, municipality, received)
        if file_errors or header is None:
            return receipt(ReceiptStatus.REJECTED, tuple(file_errors)), []
        entries, accepted = [], []
        for r in reading.records:
            errors = _errors(r.problems)
            checks_residence = header.notice_code in _REPLIES
            if (
                not errors
                and checks_residence
                and not self.register.resident(municipality, r.certificate_number or "")
            ):
                errors = (("certificate_number", NOT_RESIDENT),)
            status = ReceiptStatus.REJECTED if errors else ReceiptStatus.ACCEPTED
            entries.append(ReceiptEntry(r.position, r.certificate_number, status, errors))
            if not errors:
                accepted.append(r)
        return receipt(ReceiptStatus.ACCEPTED, (), tuple(entries)), self._replies(header, accepted)

    def _replies(self, header: NoticeHeader, accepted: list[RecordReading]) -> list[NoticeFile]:
        records = [r.record for r in accepted if r.record is not None]
        code = header.notice_code
        if code in _REPLIES and records:
            reply = _REPLIES[code]
            return [self._notice_file(header, reply, [self._request(header, r, reply) for r in records])]
        if code is not C.COLLECTION_RESULT:
            return []
        losses, changes = [], []
        for r in records:
            collected_on = r.event_date or header.created_on
            loss = self.register.loss(header.municipality_code, r.certificate_number, collected_on)
            if loss is not None and r.category == "00":
                losses.append(_reply_record(r, category=loss[0], event_date=loss[1]))
            collected = amounts_of(C.COLLECTION_RESULT, r.amounts).collected or 0
            change = self.register.provisional_change(
                header.municipality_code, r.certificate_number, collected
            )
            if change is not None and r.category == "00" and loss is None:
                effective = date(fiscal_year_of(collected_on) + 1, 4, 1)
                amounts = slots_of(C.PROVISIONAL_CHANGE, change)
                changes.append(_reply_record(r, event_date=effective, amounts=amounts))
        files = []
        if losses:
            files.append(self._notice_file(header, C.LOSS, losses))
        if changes:
            files.append(self._notice_file(header, C.PROVISIONAL_CHANGE, changes))
        return files

    def _request(self, header: NoticeHeader, r: NoticeRecord, reply: TokuchoNoticeCode) -> NoticeRecord:
        category = self.register.request_category(header.municipality_code, r.certificate_number)
        amounts: tuple[int | None, ...] = (None,) * 6
        if category != "03":
            given = amounts_of(header.notice_code, r.amounts)
            wanted = self.register.request_amounts(
                r.category or "01", given.annual_pension or 0, given.previous_year_tax or 0
            )
            amounts = slots_of(reply, wanted)
        return _reply_record(r, category=category, amounts=amounts, individual_number=r.individual_number)

    @staticmethod
    def _notice_file(
        header: NoticeHeader, code: TokuchoNoticeCode, records: list[NoticeRecord]
    ) -> NoticeFile:
        created = reply_on(code, header.created_on)
        return NoticeFile(NoticeHeader(header.municipality_code, code, created), tuple(records))


def _reply_record(
    r: NoticeRecord,
    *,
    category: str | None = None,
    event_date: date | None = None,
    amounts: tuple[int | None, ...] = (None,) * 6,
    individual_number: IndividualNumber | None = None,
) -> NoticeRecord:
    """A municipality's record about the person of ``r``: the identity is copied, the rest is new."""
    return NoticeRecord(
        certificate_number=r.certificate_number,
        basic_pension_number=r.basic_pension_number,
        pension_code=r.pension_code,
        birth_date=r.birth_date,
        sex=r.sex,
        kana_name=r.kana_name,
        kanji_name=r.kanji_name,
        postal_code=r.postal_code,
        kana_address=r.kana_address,
        kanji_address=r.kanji_address,
        category=category,
        event_date=event_date,
        amounts=amounts,
        individual_number=individual_number,
    )

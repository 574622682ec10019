"""Tax reports that carry numbers: the payment report (eLTAX) and the withholding slip (NTA).

Both are made from the same records (one recipient, the spouse and the dependants, each named by a usage
number) and enriched the same way (個人番号付加): the usage numbers become subjects, the subjects become
numbers sealed for the report's recipient, after the purpose table has been asked about every number that
would be sealed. They differ in what a :class:`ReportKind` declares: the purpose table's use, the recipient,
the message type and payload of the submission, and whether a dependant under 16 is reported with a
number (the payment report: yes; the withholding slip has no item for it, so the hub seals none).

A person the vault holds no number for is reported without one. A record with a number the report may not
carry (a person held only as 同一住所の者, say) is not sent: the pension system is told ``not_permitted``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from contracts.envelope import Envelope, Party, Purpose
from contracts.messages.eltax import (
    DependantKind,
    PaymentReportRecord,
    PaymentReportRequested,
    ReportDependant,
    SubmissionRecord,
    recipient_number_field,
    report_dependant_number_field,
    spouse_number_field,
)
from contracts.messages.nta import WithholdingSlipRequested
from contracts.purpose_table import Refusal
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, derived_id, reply
from hub.core.flows.purpose import not_permitted_reply, refusal_records, screen
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.vault import AUDIT_SCOPE, SubjectId

__all__ = ["Enrichment", "People", "ReportKind", "ReportRequest", "handle_report_request"]


class People:
    """The subjects, numbers and audit tokens of a message's usage numbers, looked up in one go each."""

    def __init__(self, ctx: HandlerContext, usage: Sequence[UsageNumber], *, numbers: bool) -> None:
        vault = ctx.uow.vault
        self.subjects = vault.subjects_by_usage(list(dict.fromkeys(usage)))
        known = list(dict.fromkeys(self.subjects.values()))
        self.numbers = vault.numbers_of(known) if numbers and known else {}
        self.tokens = vault.tokens(AUDIT_SCOPE, known) if known else {}

    def subject(self, usage: UsageNumber) -> SubjectId | None:
        """The subject of ``usage``, if the vault knows the person."""
        return self.subjects.get(usage)

    def audit(self, usage: Sequence[UsageNumber]) -> list[str]:
        """Audit tokens of the known people among ``usage``, each once."""
        found = (self.subjects.get(u) for u in usage)
        return list(dict.fromkeys(self.tokens[s] for s in found if s is not None))


class Enrichment:
    """The numbers one outgoing message carries (個人番号付加), sealed for its recipient, and its records.

    Args:
        ctx: the handler's context (its sealer and actor).
        people: the people of the incoming message, numbers looked up.
        recipient: who the numbers are sealed for.
        message_id: the outgoing message's id, which every sealed number is bound to.

    Attributes:
        named: the people the message names, in the order they were sealed (or went without a number).
        added: those of them whose numbers it carries.
    """

    def __init__(self, ctx: HandlerContext, people: People, recipient: Party, message_id: uuid.UUID) -> None:
        self._ctx = ctx
        self._people = people
        self._recipient = recipient
        self._message_id = message_id
        self.named: list[UsageNumber] = []
        self.added: list[UsageNumber] = []

    def sealed(self, person: UsageNumber | None, field: str) -> str | None:
        """``person``'s number sealed under ``field``; ``None``: no person, or the vault has no number."""
        if person is None:
            return None
        self.named.append(person)
        subject = self._people.subject(person)
        number = self._people.numbers.get(subject) if subject is not None else None
        if number is None:
            return None
        self.added.append(person)
        return self._ctx.sealer.seal(
            number, recipient=self._recipient, message_id=self._message_id, field=field
        )

    def records(self, sent: Envelope, **details: str) -> list[AccessRecord]:
        """The access records of ``sent``: enriched (whose numbers, how many, who went without), routed."""
        return [
            record_of(
                self._ctx,
                AuditAction.ENRICHED,
                sent,
                self._people.audit(self.added),
                **details,
                numbers=str(len(self.added)),
                without_number=str(len(self.named) - len(self.added)),
            ),
            record_of(self._ctx, AuditAction.ROUTED, sent, []),
        ]


ReportRequest = PaymentReportRequested | WithholdingSlipRequested
"""The pension system's request for a report: the same records, chunk, year and payer either way."""


Submission = Callable[[ReportRequest, tuple[SubmissionRecord, ...]], BaseModel]
"""Makes the submission's payload from the request and its enriched records."""


@dataclass(frozen=True, slots=True)
class ReportKind:
    """One kind of report with numbers: where it goes, under which use, and what it numbers."""

    use: str
    """The purpose table's use (``eltax.payment_report``, ``nta.withholding_slip``)."""
    recipient: Party
    submission_type: str
    purpose: Purpose
    submission: Submission
    minors_numbered: bool
    """Whether a dependant under 16 is reported with a number."""

    def numbers(self, dependant: ReportDependant) -> bool:
        """Whether this report carries ``dependant``'s number (the slip has no item for a child under 16)."""
        return self.minors_numbered or dependant.kind is not DependantKind.UNDER_16

    def numbered(self, record: PaymentReportRecord) -> list[UsageNumber]:
        """The people of ``record`` whose numbers this report carries (when the vault holds them)."""
        persons = [record.usage_number]
        if record.spouse is not None:
            persons.append(record.spouse.usage_number)
        persons += [d.usage_number for d in record.dependants if self.numbers(d)]
        return persons


def _named(record: PaymentReportRecord) -> list[UsageNumber]:
    persons = [record.usage_number, *(d.usage_number for d in record.dependants)]
    if record.spouse is not None:
        persons.append(record.spouse.usage_number)
    return persons


def handle_report_request(
    kind: ReportKind, message: Decoded[ReportRequest], ctx: HandlerContext
) -> list[Envelope]:
    """Add the numbers ``kind`` carries, sealed for its recipient, and route the report.

    Before anything is sealed, every number the report would carry is checked against the purpose table
    (:mod:`hub.core.flows.purpose`); a record with a refused number is answered ``not_permitted``.
    """
    env, request = message.envelope, message.payload
    usage = [u for r in request.records for u in _named(r)]
    people = People(ctx, usage, numbers=True)
    carried = [kind.numbered(r) for r in request.records]
    with_numbers = [
        s
        for persons in carried
        for u in persons
        if (s := people.subject(u)) is not None and s in people.numbers
    ]
    screening = screen(ctx, env, use=kind.use, subjects=with_numbers)
    refused: list[tuple[int, UsageNumber, Refusal]] = []
    sendable = []
    for r, persons in zip(request.records, carried, strict=True):
        found = [
            screening.refused[s]
            for u in persons
            if (s := people.subject(u)) is not None and s in screening.refused
        ]
        if found:
            refused.append((r.record_seq, r.usage_number, found[0]))
        else:
            sendable.append(r)
    audit = [
        record_of(ctx, AuditAction.RECEIVED, env, people.audit(usage), records=str(len(request.records)))
    ]
    if screening.refused:
        audit.extend(refusal_records(ctx, env, screening.refused, people.tokens))
    out: list[Envelope] = []
    if sendable:
        out.append(_submission(kind, ctx, env, request, sendable, people, audit))
    if refused:
        out.append(
            not_permitted_reply(ctx, env, batch_id=request.chunk.batch_id, refused=refused, records=audit)
        )
    ctx.uow.audit.append(audit)
    return out


def _submission(  # noqa: PLR0917 (one call site, private)
    kind: ReportKind,
    ctx: HandlerContext,
    env: Envelope,
    request: ReportRequest,
    sendable: Sequence[PaymentReportRecord],
    people: People,
    audit: list[AccessRecord],
) -> Envelope:
    ctx.policy.check(destination=kind.recipient, message_type=kind.submission_type, purpose=kind.purpose)
    enrichment = Enrichment(ctx, people, kind.recipient, derived_id(env.message_id, kind.recipient))
    sealed = enrichment.sealed
    records = []
    for r in sendable:
        base = r.model_dump(exclude={"spouse", "dependants"})
        seq = r.record_seq
        spouse = None
        if r.spouse is not None:
            spouse = {
                "name": r.spouse.name,
                "individual_number": sealed(r.spouse.usage_number, spouse_number_field(seq)),
            }
        dependants = [
            {
                "name": d.name,
                "kana_name": d.kana_name,
                "kind": d.kind,
                "individual_number": (
                    sealed(d.usage_number, report_dependant_number_field(seq, k)) if kind.numbers(d) else None
                ),
            }
            for k, d in enumerate(r.dependants)
        ]
        number = sealed(r.usage_number, recipient_number_field(seq))
        records.append(
            SubmissionRecord.model_validate(
                {**base, "individual_number": number, "spouse": spouse, "dependants": dependants}
            )
        )
    out = reply(
        env,
        message_type=kind.submission_type,
        destination=kind.recipient,
        purpose=kind.purpose,
        payload=kind.submission(request, tuple(records)),
        label=kind.recipient,
    )
    audit.extend(enrichment.records(out))
    return out

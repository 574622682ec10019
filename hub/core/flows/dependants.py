"""The hub's part in dependants' declarations (公的年金等の受給者の扶養親族等申告書).

The pension adapter sealed every dependant's number for the hub as it read the declaration. The hub opens
them here and keeps them in the vault under the dependants' usage numbers (扶養親族キー), with the
declaration's retention: basis ``tax.dependants_declaration``, kept until 10 January seven years after the
year following the filing deadline (:func:`hub.core.rules.retention.dependants_declaration_purge_after`). A
dependant who is already in the vault (a spouse who is a pensioner too) keeps the longer of the two
retentions. A declaration whose dependant key is linked to another number is refused whole, never
overwritten; the pension system is told which, by usage number, never with a number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from contracts.envelope import Envelope
from contracts.individual_number import IndividualNumber
from contracts.messages.dependants import (
    DeclarationAck,
    DeclarationStatus,
    DependantsDeclaration,
    DependantsDeclarationAcknowledged,
    DependantsDeclarationSubmitted,
    dependant_number_field,
)
from contracts.registry import Decoded
from contracts.usage_number import UsageNumber
from hub.core.flows.access import record_of
from hub.core.flows.context import HandlerContext, answer_pension
from hub.core.rules.retention import dependants_declaration_retention
from hub.ports.audit import AuditAction, Outcome
from hub.ports.vault import AUDIT_SCOPE, Ground, NumberConflict, Retention, SubjectId, Vault

__all__ = ["DECLARATION_HELD", "DEPENDANT_ROLE", "handle_dependants_declaration"]

_MAX_ATTEMPTS: Final = 4
DEPENDANT_ROLE: Final = "dependant"
"""The purpose table's role of a person named on a 扶養親族等申告書 (扶養控除対象者)."""
DECLARATION_HELD: Final = "declaration"
"""The purpose table's held-under basis of numbers from a 扶養親族等申告書."""
_CONFLICT: Final = "a dependant's key is linked to another number in the vault"


def _enrol_what_can_be(
    vault: Vault,
    declarations: Sequence[tuple[DependantsDeclaration, list[tuple[UsageNumber, IndividualNumber]]]],
    *,
    retention: Retention,
    source: str,
) -> tuple[dict[UsageNumber, SubjectId], set[int]]:
    """Enrol every declaration's dependants; returns the subjects and the refused declarations' record_seq.

    The vault refuses a batch with a conflict before writing any of it and names the usage numbers at
    fault; the declarations holding them are set aside whole and the rest enrolled again.
    """
    refused: set[int] = set()
    for _ in range(_MAX_ATTEMPTS):
        links = [link for d, links in declarations if d.record_seq not in refused for link in links]
        if not links:
            return {}, refused
        try:
            return vault.enrol(links, retention=retention, source=source), refused
        except NumberConflict as exc:
            if not exc.usage:
                raise
            refused |= _at_fault(vault, declarations, set(exc.usage), refused)
    raise NumberConflict("declarations kept conflicting; none of the rest was stored")


def _at_fault(
    vault: Vault,
    declarations: Sequence[tuple[DependantsDeclaration, list[tuple[UsageNumber, IndividualNumber]]]],
    usage: set[UsageNumber],
    refused: set[int],
) -> set[int]:
    """The declarations to set aside for conflicts on ``usage``.

    A dependant key the vault already links to a number is right with that number: only declarations
    giving it another one are at fault. A key the vault does not know, given different numbers by two
    declarations of the batch, cannot be decided here: every declaration naming it is set aside.
    """
    known = vault.subjects_by_usage(sorted(usage, key=str))
    current = vault.numbers_of(list(set(known.values())))
    at_fault = set()
    for d, links in declarations:
        if d.record_seq in refused:
            continue
        for u, number in links:
            if u in usage and (u not in known or current.get(known[u]) != number):
                at_fault.add(d.record_seq)
    return at_fault or {d.record_seq for d, links in declarations if any(u in usage for u, _ in links)}


def handle_dependants_declaration(
    message: Decoded[DependantsDeclarationSubmitted], ctx: HandlerContext
) -> list[Envelope]:
    """Store the dependants' numbers with the declaration's retention and acknowledge each declaration."""
    env, submitted = message.envelope, message.payload
    retention = dependants_declaration_retention(submitted.filing_deadline)
    assert retention.purge_after is not None  # a declaration's retention always has an end
    opened = [
        (
            record,
            [
                (
                    d.usage_number,
                    ctx.unsealer.unseal(
                        d.individual_number,
                        message_id=env.message_id,
                        field=dependant_number_field(record.record_seq, d.dependant_seq),
                    ),
                )
                for d in record.dependants
            ],
        )
        for record in submitted.records
    ]
    source = f"pension:declaration:{submitted.chunk.batch_id}"
    subjects, refused = _enrol_what_can_be(ctx.uow.vault, opened, retention=retention, source=source)
    # Why the vault holds these numbers: 扶養控除対象者 named on a 扶養親族等申告書 (tax use only).
    ctx.uow.vault.add_grounds(
        [(s, Ground(DEPENDANT_ROLE, DECLARATION_HELD)) for s in dict.fromkeys(subjects.values())],
        source=source,
    )
    tokens = ctx.uow.vault.tokens(AUDIT_SCOPE, list(set(subjects.values())))
    stored = [tokens[s] for s in dict.fromkeys(subjects.values())]
    records = [
        record_of(ctx, AuditAction.RECEIVED, env, stored, declarations=str(len(submitted.records))),
        record_of(
            ctx,
            AuditAction.LINKED,
            env,
            stored,
            retention_basis=retention.basis,
            purge_after=retention.purge_after.isoformat(),
        ),
    ]
    if refused:
        refusal = record_of(ctx, AuditAction.REFUSED, env, [], declarations=str(len(refused)))
        records.append(replace(refusal, outcome=Outcome.REFUSED, reason="number_conflict"))
    acks = DependantsDeclarationAcknowledged(
        chunk=submitted.chunk,
        tax_year=submitted.tax_year,
        records=tuple(
            DeclarationAck(
                record_seq=record.record_seq,
                declarant=record.declarant,
                status=DeclarationStatus.REFUSED
                if record.record_seq in refused
                else DeclarationStatus.STORED,
                dependants_stored=0 if record.record_seq in refused else len(record.dependants),
                retention_basis=retention.basis,
                purge_after=retention.purge_after,
                reason=_CONFLICT if record.record_seq in refused else None,
            )
            for record in submitted.records
        ),
    )
    answer = answer_pension(
        env, message_type="pension.dependants_declaration.acknowledged", payload=acks, code=env.purpose.code
    )
    records.append(record_of(ctx, AuditAction.ROUTED, answer, [], records=str(len(submitted.records))))
    ctx.uow.audit.append(records)
    return [answer]

"""The purpose check: a number is sealed only for a use its grounds permit, on behalf of an allowed actor.

Every handler that would seal a number (or send a person's code, or ask J-LIS about a person) calls
:func:`screen` first, with the use of the purpose table (``contracts/purpose_table.toml``) it is about to
make. For each person the vault's grounds say why the number is held (a role and the basis it was obtained
under, :class:`~hub.ports.vault.Ground`); the use permits some (role, basis) pairs, and its 事務 is done by
some actors. A person whose grounds permit none of them, or a message whose actor may not do the 事務, is
**refused**:

* the record is not sent (the handler leaves it out before sealing anything);
* an access record REFUSED names the rule (``purpose_table:<use>``) and the reason, per message and reason
  (:func:`refusal_records`);
* the pension system is told ``not_permitted`` for the record, with the reason, in the flow's outcome.

The check is independent of how numbers are sealed: it decides on subjects, before any sealing call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from contracts.envelope import Envelope
from contracts.messages.purpose import NotPermittedOutcomes, NotPermittedRecord
from contracts.purpose_table import Refusal, Use
from contracts.usage_number import UsageNumber
from hub.core.flows.access import access_record
from hub.core.flows.context import HandlerContext, reply
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.vault import SubjectId

__all__ = [
    "NOT_PERMITTED",
    "NOT_PERMITTED_TYPE",
    "Screening",
    "not_permitted_reply",
    "refusal_records",
    "screen",
    "screen_grounds",
]

NOT_PERMITTED = "not_permitted"
"""The reason code of a REFUSED access record written by the purpose check."""

NOT_PERMITTED_TYPE: Final = "pension.purpose.refused"
"""The pension system's answer for records the purpose check kept back, in flows without a status for it."""

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Screening:
    """The outcome of :func:`screen`: the use, and the refused subjects with their refusals."""

    use: Use
    refused: Mapping[SubjectId, Refusal]

    def allowed(self, subject: SubjectId) -> bool:
        """Whether ``subject``'s number may be used."""
        return subject not in self.refused


def screen_grounds(
    ctx: HandlerContext, env: Envelope, *, use: str, grounds: Mapping[K, Iterable[tuple[str, str | None]]]
) -> dict[K, Refusal]:
    """The refusals among ``grounds`` (key → the person's (role, held-under) pairs) for ``use``.

    The general form, for people the vault holds no number for yet (an acquisition asserts the role the
    request names, held under nothing).
    """
    refused = {}
    for key, pairs in grounds.items():
        refusal = ctx.purposes.check(use, actor=env.actor, grounds=pairs)
        if refusal is not None:
            refused[key] = refusal
    return refused


def screen(ctx: HandlerContext, env: Envelope, *, use: str, subjects: Iterable[SubjectId]) -> Screening:
    """Check, before sealing, which subjects' numbers ``use`` may take on behalf of ``env.actor``.

    Args:
        ctx: the handler's context (its vault and purpose table).
        env: the message being handled (its actor).
        use: the purpose table's use the handler is about to make.
        subjects: the people whose numbers (or codes) would be sent.
    """
    wanted = list(dict.fromkeys(subjects))
    found = ctx.uow.vault.grounds_of(wanted) if wanted else {}
    pairs = {s: [(g.role, g.held_under) for g in sorted(found.get(s, frozenset()))] for s in wanted}
    refused = screen_grounds(ctx, env, use=use, grounds=pairs)
    return Screening(ctx.purposes.use(use), refused)


def refusal_records(
    ctx: HandlerContext, env: Envelope, refused: Mapping[K, Refusal], tokens: Mapping[K, str]
) -> list[AccessRecord]:
    """One REFUSED access record per rule and reason, naming the rule and the people (audit tokens)."""
    groups: dict[tuple[str, str], list[K]] = defaultdict(list)
    for key, refusal in refused.items():
        groups[(refusal.rule, refusal.reason.value)].append(key)
    records = []
    for (rule, reason), keys in sorted(groups.items()):
        first = refused[keys[0]]
        records.append(
            access_record(
                ctx,
                AuditAction.REFUSED,
                env,
                [tokens[k] for k in keys if k in tokens],
                outcome=Outcome.REFUSED,
                reason=NOT_PERMITTED,
                rule=rule,
                refusal=reason,
                use=first.use,
                records=str(len(keys)),
                detail=first.message[:500],
            )
        )
    return records


def not_permitted_reply(
    ctx: HandlerContext,
    env: Envelope,
    *,
    batch_id: str,
    refused: Sequence[tuple[int, UsageNumber, Refusal]],
    records: list[AccessRecord],
    label: str = "not-permitted",
) -> Envelope:
    """The pension system's answer for records that were not sent (``pension.purpose.refused``), recorded."""
    payload = NotPermittedOutcomes(
        request_type=env.message_type,
        batch_id=batch_id,
        actor=env.actor,
        records=tuple(
            NotPermittedRecord(
                record_seq=seq,
                usage_number=usage,
                use=r.use,
                reason=r.reason,
                rule=r.rule,
                message=r.message[:600],
            )
            for seq, usage, r in refused
        ),
    )
    answer = reply(env, message_type=NOT_PERMITTED_TYPE, payload=payload, label=label, purpose=env.purpose)
    records.append(access_record(ctx, AuditAction.ROUTED, answer, records=str(len(refused))))
    return answer

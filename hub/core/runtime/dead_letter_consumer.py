"""The dead-letter consumer: takes what reaches ``{p}.dead_letter`` and keeps it in the dead-letter store.

Each delivery is described (:mod:`hub.core.runtime.dead_letter_entry`: failure, group, identity, redacted
body). Repeated deliveries of one dead-lettering are dropped through the consumer's inbox, keyed by the
event's ``death_key``. A DEAD_LETTERED access record is written for every dead-lettering the hub's worker has
not recorded itself (hosts and the broker cannot: they have no database), in the same transaction as the
store; then the batch is acknowledged. Nothing is ever dropped: what cannot be stored is handed back to
the queue, after a pause.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from contracts.errors import TransientError
from hub.core.runtime.dead_letter_entry import DeadLetterConfig, describe
from hub.core.runtime.senders import REPLAYERS
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.dead_letters import DeadLetterEntry, Failure, FailureOrigin
from hub.ports.store import UnitOfWork, UnitOfWorkFactory
from hub.ports.transport import Delivery, Disposition

__all__ = ["CONSUMER", "HUB_RECORDED_STAGES", "DeadLetterConfig", "DeadLetterConsumer", "hub_recorded"]

log = logging.getLogger(__name__)

CONSUMER = "dead-letters"
"""The consumer name in the inbox (its ids are ``death_key`` values)."""

_REFUSALS = frozenset({"policy_refused", "actor_not_permitted", "not_permitted"})

HUB_RECORDED_STAGES = frozenset({"decode", "sender", "actor", "handle"})
"""Stages at which the hub's worker writes the DEAD_LETTERED record itself, in the transaction that
dead-letters (``HubWorker._dead_letter``). Its ``retry`` stage (transient attempts spent) publishes the
dead letter without a record, so this consumer writes it."""


def hub_recorded(failure: Failure) -> bool:
    """Whether the hub's worker already wrote the DEAD_LETTERED access record for this failure."""
    return failure.origin is FailureOrigin.HUB and failure.stage in HUB_RECORDED_STAGES


class DeadLetterConsumer:
    """Handles batches from the dead-letter queue: store, record, commit, then acknowledge.

    Args:
        uow_factory: units of work with a dead-letter store, an inbox and the access record.
        config: the queue names it needs.
        actor: who writes the access records (``hub:dead-letters:<pid>``).
        pause: called with a number of seconds before a batch (or one dead letter of it) is handed back;
            the dead-letter queue has no retry tier, and a database outage must not spin.
        transient_pause_s: that number of seconds.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        config: DeadLetterConfig,
        *,
        actor: str,
        pause: Callable[[float], None] = time.sleep,
        transient_pause_s: float = 1.0,
    ) -> None:
        self._uow_factory = uow_factory
        self._config = config
        self._actor = actor
        self._pause = pause
        self._transient_pause_s = transient_pause_s

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Store one batch; returns one disposition per delivery."""
        now = datetime.now(UTC)
        entries = [describe(d, self._config, now) for d in deliveries]
        dispositions = [Disposition.ACK] * len(deliveries)
        try:
            with self._uow_factory() as uow:
                records = self._store(uow, entries, dispositions)
                if records:
                    uow.audit.append(records)
                uow.commit()
        except TransientError as exc:
            log.warning("dead letters not stored yet; handed back", extra={"error": exc.code})
        except Exception:  # nowhere else to send them: keep them in the queue, slowly
            log.exception("dead letters not stored; handed back")
        else:
            if Disposition.REQUEUE in dispositions:
                self._pause(self._transient_pause_s)  # it comes straight back: do not spin on it
            return dispositions
        self._pause(self._transient_pause_s)
        return [Disposition.REQUEUE] * len(deliveries)

    def _store(
        self, uow: UnitOfWork, entries: list[DeadLetterEntry], dispositions: list[Disposition]
    ) -> list[AccessRecord]:
        seen = uow.inbox.handled(CONSUMER, [e.death_key for e in entries])
        records: list[AccessRecord] = []
        for index, described in enumerate(entries):
            entry = (
                replace(described, sender=_replayed_sender(uow, described))
                if described.sender in REPLAYERS
                else described
            )
            # The actor the hub established for this very message when it handled or produced it; a
            # message the hub never saw (or could not read) has none: the federation's alone.
            if entry.message_id:
                entry = replace(entry, actor=uow.actors.of_messages([entry.message_id]).get(entry.message_id))
            context = {
                "message_id": entry.message_id,
                "message_type": entry.message_type,
                "reason": entry.failure.reason_code,
                "stage": entry.failure.stage,
            }
            if entry.death_key in seen:
                log.info("repeated dead letter dropped", extra=context)
                continue
            seen.add(entry.death_key)
            try:
                with uow.savepoint():
                    dead_letter_id, created = uow.dead_letters.add(entry)
                    uow.inbox.mark(CONSUMER, [entry.death_key])
            except TransientError:
                raise
            except Exception:
                # Kept in the queue (it has nowhere else to go) and retried with the next batch.
                log.exception("dead letter could not be stored; it is handed back", extra=context)
                dispositions[index] = Disposition.REQUEUE
                continue
            log.info(
                "dead letter stored" if created else "dead letter merged into a pending one",
                extra={**context, "dead_letter_id": dead_letter_id},
            )
            if not hub_recorded(entry.failure):
                records.append(self._record(entry, dead_letter_id))
        return records

    def _record(self, entry: DeadLetterEntry, dead_letter_id: int) -> AccessRecord:
        failure = entry.failure
        return AccessRecord(
            actor=self._actor,
            action=AuditAction.DEAD_LETTERED,
            message_id=entry.message_id,
            correlation_id=entry.correlation_id,
            message_type=entry.message_type,
            source=failure.source_queue,
            outcome=Outcome.REFUSED if failure.reason_code in _REFUSALS else Outcome.FAILED,
            reason=failure.reason_code,
            details={
                "failed_at": failure.failed_at.isoformat(),
                "stage": failure.stage,
                "exception": failure.exception_type,
                "origin": failure.origin.value,
                "dead_letter_id": str(dead_letter_id),
                "fingerprint": entry.fingerprint,
                **({"on_behalf_of": entry.actor} if entry.actor else {}),
            },
        )


def _replayed_sender(uow: UnitOfWork, entry: DeadLetterEntry) -> str | None:
    """The sender of a replay the broker dead-lettered: the one stored with the dead letter it replays.

    Only when the replay is that dead letter's exact message (id and body); otherwise nothing is proven.
    """
    if entry.replay_of is None:
        return None
    row = uow.dead_letters.get(entry.replay_of)
    if row is None or (row.message_id, row.body) != (entry.message_id, entry.body):
        return None
    return row.sender

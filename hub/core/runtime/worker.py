"""The hub's consumer: one database transaction per batch of deliveries, acks only after commit.

For each batch: refuse every body over its type's size limit unread (:mod:`hub.core.runtime.body_limits`),
decode the others against the registry; check that the broker-proven sender may send each message
(:mod:`hub.core.runtime.senders`: refused ones are dead-lettered with ``sender_not_permitted`` and recorded,
nothing else happens to them); establish the actor each message runs on behalf of and check it
(:meth:`HubWorker._actors`:
a request of the pension system names an actor allowed its 事務; an answer runs on behalf of its flow's actor;
refused ones are dead-lettered with ``actor_not_permitted`` and recorded); skip ids the inbox has seen
(redelivery or replay); run each message's handler
inside a savepoint, so that one bad message does not spoil its neighbours; write outgoing messages to the
outbox and the access records in the same transaction; commit; relay the outbox with publisher confirms;
then let the transport ack. Failures follow :mod:`hub.core.runtime.retry`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from contracts.envelope import Envelope
from contracts.errors import (
    ActorNotPermitted,
    ContractError,
    PermanentError,
    SenderNotPermitted,
    TransientError,
    UnknownMessageType,
    Unroutable,
)
from contracts.purpose_table import PurposeTable, default_table
from contracts.redaction import redact_identifier
from contracts.registry import Decoded, decode
from contracts.sealing import Sealer, Unsealer
from hub.core.flows.context import HandlerContext
from hub.core.rules.legal_basis import LegalBasisTable
from hub.core.rules.policy import NumberPolicy
from hub.core.runtime import headers as h
from hub.core.runtime.body_limits import BodyLimits
from hub.core.runtime.retry import Exchanges, RetryPolicy, dead_letter_message, retry_message
from hub.core.runtime.routing import PREFETCHERS, Handler, Prefetcher, to_outgoing
from hub.core.runtime.senders import (
    HUB,
    REPLAYERS,
    SenderIdentities,
    SenderTable,
    check_sender,
    load_sender_table,
    replayed_sender,
)
from hub.ports.actors import MessageActor
from hub.ports.audit import AccessRecord, AuditAction, Outcome
from hub.ports.dead_letters import DeadLetter
from hub.ports.store import UnitOfWork, UnitOfWorkFactory
from hub.ports.transport import Delivery, Disposition, OutgoingMessage, Transport

__all__ = ["HubWorker", "WorkerDeps"]

log = logging.getLogger(__name__)
CONSUMER = "hub"
RELAY_GRACE = timedelta(seconds=10)
"""How old an unsent outbox row must be before the sweep publishes it."""
ID_LIMIT = 200
"""Longest id or type the access record keeps (AMQP allows 255); longer ones are cut."""
_REFUSALS = frozenset({"policy_refused", "sender_not_permitted", "actor_not_permitted"})
"""Reasons recorded as REFUSED (a rule said no) rather than FAILED."""


def _replay_of(headers: Mapping[str, object]) -> int | None:
    value = headers.get(h.REPLAY_OF)
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:  # not "¹"
        return int(value)
    return None


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """Everything the worker needs, wired by the composition root."""

    uow_factory: UnitOfWorkFactory
    transport: Transport
    sealer: Sealer
    unsealer: Unsealer
    policy: NumberPolicy
    exchanges: Exchanges
    retry: RetryPolicy
    handlers: Mapping[tuple[str, int], Handler]
    actor: str
    identities: SenderIdentities
    """Which broker user is which service (and which users are shared, in development)."""
    after_commit: Callable[[], object] | None = None
    legal_basis: LegalBasisTable | None = None
    """The legal-basis table of the information-provision network; ``None`` refuses every query."""
    prefetchers: Mapping[tuple[str, int], Prefetcher] = field(default_factory=lambda: PREFETCHERS)
    """Per message type: looks up a whole batch's people before the handlers run (see routing)."""
    senders: SenderTable = field(default_factory=load_sender_table)
    """Which service may send which message type (``hub/senders.toml``)."""
    body_limits: BodyLimits = field(default_factory=BodyLimits)
    """A body over its type's limit is dead-lettered (``too_large``) without being decoded."""
    purposes: PurposeTable = field(default_factory=default_table)
    """The purpose table: the actors, the 事務 each request serves, the uses of numbers."""


def _cut(value: str | None) -> str | None:
    """An AMQP property as the access record can keep it: no Individual Number, no NUL, ID_LIMIT long."""
    return None if value is None else redact_identifier(value.replace("\x00", ""))[:ID_LIMIT]


class _HandlerFailed(Exception):
    """A handler failed in a batch run without savepoints: run the batch again, one savepoint each."""

    def __init__(self, index: int, error: Exception) -> None:
        super().__init__(index)
        self.index = index
        self.error = error


def _ctx(delivery: Delivery) -> dict[str, object]:
    return {
        "message_id": delivery.message_id,
        "message_type": delivery.message_type,
        "correlation_id": delivery.correlation_id,
        "queue": delivery.queue,
    }


class HubWorker:
    """Handles batches from the hub's ingress queue."""

    def __init__(self, deps: WorkerDeps) -> None:
        self._d = deps

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Handle one batch; returns one disposition per delivery."""
        dispositions = [Disposition.ACK] * len(deliveries)
        decoded: list[tuple[int, Decoded]] = []
        failures: list[tuple[int, BaseException, str]] = []
        transient: list[tuple[int, TransientError]] = []
        for index, delivery in enumerate(deliveries):
            try:
                if (too_large := self._d.body_limits.check(delivery)) is not None:
                    raise too_large
                message = decode(delivery.body)
                key = (message.envelope.message_type, message.envelope.schema_version)
                if key not in self._d.handlers:
                    raise UnknownMessageType(f"the hub does not handle {key[0]} v{key[1]} on its ingress")
                decoded.append((index, message))
            except ContractError as exc:
                failures.append((index, exc, "decode"))
        try:
            # Both checks may read the database (a replayed dead letter's sender, a flow's actor): an outage
            # here is as transient as one in the transaction below, and must not spend a delivery.
            passed = self._senders(deliveries, decoded, failures)
            decoded = [(index, message) for index, message in decoded if index in passed]
            decoded, claimed = self._actors(decoded, failures)
        except TransientError as exc:
            log.warning("checks failed transiently, scheduling retries", extra={"error": exc.code})
            return self._retry_unchecked(deliveries, exc)
        # The sender each copy the hub republishes (retry, dead letter) carries: as verified, or as proven.
        senders = [
            passed[i] if i in passed else self._proven(delivery) for i, delivery in enumerate(deliveries)
        ]
        try:
            try:
                sent = self._handle_in_transaction(
                    deliveries, decoded, failures, transient, dispositions, senders=senders, claimed=claimed
                )
            except _HandlerFailed as failed:
                sent = self._handle_in_transaction(
                    deliveries,
                    decoded,
                    failures,
                    transient,
                    dispositions,
                    senders=senders,
                    claimed=claimed,
                    careful=failed,
                )
        except TransientError as exc:
            log.warning("batch failed transiently, scheduling retries", extra={"error": exc.code})
            return self._retry([(delivery, exc, senders[i]) for i, delivery in enumerate(deliveries)])
        if self._d.after_commit is not None:
            self._d.after_commit()
        self._relay(sent)
        # Messages that failed transiently on their own retry alone, after their neighbours committed.
        retried = self._retry([(deliveries[index], error, senders[index]) for index, error in transient])
        for (index, _), disposition in zip(transient, retried, strict=True):
            dispositions[index] = disposition
        return dispositions

    def _senders(
        self,
        deliveries: Sequence[Delivery],
        decoded: list[tuple[int, Decoded]],
        failures: list[tuple[int, BaseException, str]],
    ) -> dict[int, str | None]:
        """Check each decoded message's sender; refusals join ``failures`` (stage ``sender``).

        Returns the proven sender by delivery index, for the messages that passed (``None``: a shared
        development user, nothing proven). Replays (by the operator or the console) are resolved to the
        sender stored with the dead letter they replay, read in one short transaction of their own.
        """
        identities, table = self._d.identities, self._d.senders
        proven: dict[int, str | None] = {}
        replays: dict[int, int | None] = {}
        for index, _ in decoded:
            delivery = deliveries[index]
            sender = identities.proven_sender(delivery.user_id, delivery.headers)
            if sender in REPLAYERS and not identities.shared(delivery.user_id):
                replays[index] = _replay_of(delivery.headers)
            proven[index] = sender
        stored = self._stored_dead_letters({i for i in replays.values() if i is not None}) if replays else {}
        passed: dict[int, str | None] = {}
        for index, message in decoded:
            delivery = deliveries[index]
            shared = identities.shared(delivery.user_id)
            try:
                sender = proven[index]
                if index in replays:
                    replay_of = replays[index]
                    sender = replayed_sender(
                        stored.get(replay_of) if replay_of is not None else None,
                        dead_letter_id=replay_of,
                        message_id=str(message.envelope.message_id),
                        body=delivery.body,
                        message_type=message.envelope.message_type,
                    )
                check_sender(table, message.envelope, sender, shared=shared and sender is None)
            except SenderNotPermitted as exc:
                failures.append((index, exc, "sender"))
                continue
            passed[index] = sender
        return passed

    def _actors(
        self, decoded: list[tuple[int, Decoded]], failures: list[tuple[int, BaseException, str]]
    ) -> tuple[list[tuple[int, Decoded]], dict[int, MessageActor]]:
        """Establish and check the actor of each message; refusals join ``failures`` (stage ``actor``).

        * A request of the pension system must name an actor the purpose table knows, allowed the 事務 the
          request serves (the seed: (2)(6)(9) 構成組合 only, (4)(5)(7) the federation only).
        * Any other message runs on behalf of its flow's actor, as recorded when the hub handled or produced
          the flow's earlier messages: a message without an actor takes it; one naming another is refused.

        Returns the messages that passed (with their actor filled in) and, by delivery index, the actor each
        message that passed the sender check claims or was given (recorded even when refused, so that its
        dead letter belongs to that actor).
        """
        table = self._d.purposes
        answers = [m for _, m in decoded if m.envelope.source != "pension"]
        flows: dict[str, frozenset[str]] = {}
        if answers:
            with self._d.uow_factory() as uow:
                flows = uow.actors.of_correlations({str(m.envelope.correlation_id) for m in answers})
        kept: list[tuple[int, Decoded]] = []
        claimed: dict[int, MessageActor] = {}
        for index, decoded_message in decoded:
            message = decoded_message
            env = message.envelope
            try:
                if env.source == "pension":
                    jimu = table.request_jimu(env.message_type)
                    if jimu is not None and (refused := table.may_do(env.actor, jimu.no)) is not None:
                        raise ActorNotPermitted(refused.message)  # noqa: TRY301 - collected like the others
                else:
                    known = flows.get(str(env.correlation_id), frozenset())
                    if env.actor is None and len(known) == 1:
                        env = env.model_copy(update={"actor": next(iter(known))})
                        message = Decoded(env, message.payload)
                    elif env.actor is not None and known and env.actor not in known:
                        flow = ", ".join(sorted(known))
                        raise ActorNotPermitted(  # noqa: TRY301
                            f"the flow runs on behalf of {flow}; the message names {env.actor}"
                        )
            except ActorNotPermitted as exc:
                failures.append((index, exc, "actor"))
                if env.actor is not None:
                    claimed[index] = MessageActor(str(env.message_id), str(env.correlation_id), env.actor)
                continue
            if env.actor is not None:
                claimed[index] = MessageActor(str(env.message_id), str(env.correlation_id), env.actor)
            kept.append((index, message))
        return kept, claimed

    def _retry_unchecked(self, deliveries: Sequence[Delivery], error: TransientError) -> list[Disposition]:
        """Retry a batch whose sender or actor checks could not read the database.

        A copy carries the sender the broker proved. A replay's original sender is known only once its dead
        letter has been read, so a replay is requeued instead (one delivery spent; the operator's copy
        keeps its replay headers) rather than retried under a sender nobody verified.
        """
        replays = {
            i
            for i, delivery in enumerate(deliveries)
            if self._d.identities.proven_sender(delivery.user_id, delivery.headers) in REPLAYERS
        }
        others = [(d, error, self._proven(d)) for i, d in enumerate(deliveries) if i not in replays]
        retried = iter(self._retry(others))
        return [Disposition.REQUEUE if i in replays else next(retried) for i in range(len(deliveries))]

    def _stored_dead_letters(self, ids: set[int]) -> dict[int, DeadLetter]:
        with self._d.uow_factory() as uow:
            found = {i: uow.dead_letters.get(i) for i in sorted(ids)}
        return {i: row for i, row in found.items() if row is not None}

    def _proven(self, delivery: Delivery) -> str | None:
        """The sender the broker proves for a message that was not checked (a replayer is no sender)."""
        sender = self._d.identities.proven_sender(delivery.user_id, delivery.headers)
        return None if sender in REPLAYERS else sender

    def _handle_in_transaction(
        self,
        deliveries: Sequence[Delivery],
        decoded: list[tuple[int, Decoded]],
        failures: list[tuple[int, BaseException, str]],
        transient: list[tuple[int, TransientError]],
        dispositions: list[Disposition],
        *,
        senders: Sequence[str | None],
        claimed: Mapping[int, MessageActor],
        careful: _HandlerFailed | None = None,
    ) -> list[tuple[int, OutgoingMessage]]:
        """Handle the batch in one transaction.

        First without a savepoint per message (two statements each, a tenth of the hub's time): if every
        handler succeeds, their messages are marked in the inbox with one statement. If one fails, the
        whole transaction rolls back (:class:`_HandlerFailed`) and the batch runs again ``careful``ly:
        each handler in a savepoint of its own, so that one failure does not spoil its neighbours; the
        message that failed is not handled a second time, its failure is taken as it was.
        """
        outgoing: list[OutgoingMessage] = []
        # Every message the sender check let through, with the actor it claims or was given (its dead letter,
        # if any, belongs to that actor), then the messages the handlers produce, which run on behalf of
        # their cause's actor: recorded in one statement just before the commit, not one per handler (that
        # was a twelfth of the hub's time on single-person requests, py-spy, `renkei bench --phase hub`).
        # Nothing in the transaction reads them back; a produced message joins only once its handler has
        # succeeded (after its savepoint, when careful), so a rolled-back handler leaves no actor behind.
        actors: list[MessageActor] = list(claimed.values())
        handled: list[str] = []
        with self._d.uow_factory() as uow:
            ids = [str(m.envelope.message_id) for _, m in decoded]
            already = uow.inbox.handled(CONSUMER, ids)
            ctx = HandlerContext(
                uow,
                self._d.sealer,
                self._d.unsealer,
                self._d.policy,
                self._d.actor,
                LegalBasisTable.empty() if self._d.legal_basis is None else self._d.legal_basis,
                self._d.purposes,
            )
            self._prefetch(uow, ctx, [m for _, m in decoded if str(m.envelope.message_id) not in already])
            for index, message in decoded:
                mid = str(message.envelope.message_id)
                if mid in already:
                    log.info("duplicate delivery skipped", extra=_ctx(deliveries[index]))
                    continue
                already.add(mid)
                handler = self._d.handlers[(message.envelope.message_type, message.envelope.schema_version)]
                if careful is None:
                    try:
                        outgoing.extend(self._produced(handler(message, ctx), actors))
                    except Exception as exc:
                        raise _HandlerFailed(index, exc) from exc
                    handled.append(mid)
                    continue
                try:
                    if index == careful.index:
                        raise careful.error  # noqa: TRY301 - the same handling as a fresh failure
                    mine: list[MessageActor] = []
                    with uow.savepoint():
                        produced = self._produced(handler(message, ctx), mine)
                        uow.inbox.mark(CONSUMER, [mid])
                    actors.extend(mine)
                    outgoing.extend(produced)
                except PermanentError as exc:
                    failures.append((index, exc, "handle"))
                except TransientError as exc:
                    # Rolled back to its savepoint: this message alone is retried after the commit.
                    transient.append((index, exc))
                    already.discard(mid)
                except Exception:
                    # A crash (a bug): requeue this one alone; the delivery limit stops a crash loop.
                    log.exception("handler crashed; the delivery is requeued", extra=_ctx(deliveries[index]))
                    dispositions[index] = Disposition.REQUEUE
            uow.inbox.mark(CONSUMER, handled)
            uow.actors.record(actors)
            outgoing.extend(self._dead_letter(uow, deliveries, failures, senders, claimed))
            outbox_ids = uow.outbox.add(outgoing)
            uow.commit()
        for index, error, stage in failures:
            log.warning(
                "message dead-lettered",
                extra={
                    **_ctx(deliveries[index]),
                    "reason": error.code if isinstance(error, PermanentError) else "crash",
                    "stage": stage,
                    "exception": type(error).__name__,
                },
            )
        return list(zip(outbox_ids, outgoing, strict=True))

    def _produced(self, envelopes: Sequence[Envelope], actors: list[MessageActor]) -> list[OutgoingMessage]:
        """The handler's messages, addressed; their actors join ``actors`` (their cause's), to be recorded."""
        actors.extend(
            MessageActor(str(env.message_id), str(env.correlation_id), env.actor)
            for env in envelopes
            if env.actor is not None
        )
        return [to_outgoing(env, self._d.exchanges) for env in envelopes]

    def _prefetch(self, uow: UnitOfWork, ctx: HandlerContext, messages: list[Decoded]) -> None:
        """Let each message type's prefetcher look up the batch's people in a few statements.

        An optimisation only: a prefetcher that fails (short of a transient failure, which fails the
        batch like any other) is rolled back and logged, and the handlers look their people up themselves.
        """
        groups: dict[tuple[str, int], list[Decoded]] = {}
        for message in messages:
            key = (message.envelope.message_type, message.envelope.schema_version)
            if key in self._d.prefetchers:
                groups.setdefault(key, []).append(message)
        for key, group in groups.items():
            if len(group) < 2:
                continue  # nothing to gain: the handler makes the same look-ups
            try:
                with uow.savepoint():
                    self._d.prefetchers[key](group, ctx)
            except TransientError:
                raise
            except Exception:  # noqa: BLE001 - see the docstring: the handlers do the work either way
                log.warning("prefetch failed; handlers look up their own", extra={"message_type": key[0]})

    def _dead_letter(
        self,
        uow: UnitOfWork,
        deliveries: Sequence[Delivery],
        failures: list[tuple[int, BaseException, str]],
        senders: Sequence[str | None],
        claimed: Mapping[int, MessageActor],
    ) -> list[OutgoingMessage]:
        messages, records = [], []
        for index, error, stage in failures:
            delivery = deliveries[index]
            message = dead_letter_message(
                delivery, error, stage=stage, exchanges=self._d.exchanges, sender=senders[index]
            )
            messages.append(message)
            code = error.code if isinstance(error, PermanentError) else "crash"
            details = {"stage": stage, "exception": type(error).__name__}
            if stage == "sender":
                details["sender"] = senders[index] or "unproven"
                details["user_id"] = _cut(delivery.user_id) or "none"
            if index in claimed:
                details["on_behalf_of"] = claimed[index].actor
            if stage == "actor":
                details["refusal"] = str(error)[:300]
            records.append(
                AccessRecord(
                    actor=self._d.actor,
                    action=AuditAction.DEAD_LETTERED,
                    message_id=_cut(delivery.message_id),
                    correlation_id=_cut(delivery.correlation_id),
                    message_type=_cut(delivery.message_type),
                    source=delivery.queue,
                    outcome=Outcome.REFUSED if code in _REFUSALS else Outcome.FAILED,
                    reason=code,
                    details=details,
                )
            )
        if records:
            uow.audit.append(records)
        return messages

    def _relay(self, sent: list[tuple[int, OutgoingMessage]]) -> None:
        if not sent:
            return
        try:
            try:
                self._d.transport.publish([m for _, m in sent])
            except Unroutable as exc:
                # Permanent: the rest of the batch went out. Park what no queue took in the dead letters,
                # instead of re-publishing it with every sweep forever.
                lost = set(exc.message_ids)
                parked = [self._unroutable(m, exc) for _, m in sent if m.message_id in lost]
                log.exception(
                    "outbox messages reached no queue; dead-lettered", extra={"messages": len(parked)}
                )
                self._d.transport.publish(parked)
            with self._d.uow_factory() as uow:
                uow.outbox.mark_sent([i for i, _ in sent])
                uow.commit()
        except TransientError as exc:
            # The outbox keeps them; the relay sweep publishes them later. Downstream consumers dedupe.
            log.warning("outbox relay deferred", extra={"error": exc.code, "messages": len(sent)})

    def _unroutable(self, message: OutgoingMessage, error: Unroutable) -> OutgoingMessage:
        delivery = Delivery(
            queue=f"{message.exchange}/{message.routing_key}",
            body=message.body,
            message_id=message.message_id,
            message_type=message.message_type,
            correlation_id=message.correlation_id,
            headers=dict(message.headers),
            redelivered=False,
            delivery_tag=0,
        )
        return dead_letter_message(delivery, error, stage="relay", exchanges=self._d.exchanges, sender=HUB)

    def _retry(self, failed: Sequence[tuple[Delivery, TransientError, str | None]]) -> list[Disposition]:
        """Republish each delivery to its next retry tier (or dead-letter it when its attempts are spent).

        The copy is published by the hub: it carries the sender the hub verified (:data:`h.SENDER`), so
        that the next attempt is checked against the original sender, not the hub.
        """
        if not failed:
            return []
        copies = []
        for delivery, error, sender in failed:
            exchanges = self._d.exchanges
            copy = retry_message(delivery, error, policy=self._d.retry, exchanges=exchanges, sender=sender)
            copies.append(
                copy
                or dead_letter_message(delivery, error, stage="retry", exchanges=exchanges, sender=sender)
            )
        try:
            self._d.transport.publish(copies)
        except TransientError:
            return [Disposition.REQUEUE] * len(failed)
        return [Disposition.ACK] * len(failed)

    def relay_pending(self, limit: int = 1_000, grace: timedelta = RELAY_GRACE) -> int:
        """Publish outbox rows a crash or a broker outage left behind; returns how many.

        Only rows older than ``grace`` (:data:`RELAY_GRACE`): younger ones belong to a batch that is
        relaying them itself right now, and taking them too would publish them twice.
        """
        with self._d.uow_factory() as uow:
            pending = uow.outbox.pending(limit, older_than=grace)
        if pending:
            self._relay(pending)
        return len(pending)

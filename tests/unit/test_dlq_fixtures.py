"""Shared set-up for the dead-letter tests: the hub on the in-memory broker and an SQLite file.

No test lives here; the other ``test_dlq_*`` modules import :func:`make_env` and the message helpers.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from contracts.envelope import Envelope, LegalBasis, Purpose, new_envelope
from contracts.errors import PermanentError, StoreUnavailable
from contracts.ids import new_id
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import SurvivalInquiryRecord, SurvivalInquiryRequested
from contracts.registry import Decoded, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.bootstrap.common import body_limits
from hub.core.flows.context import HandlerContext
from hub.core.operator.dead_letter_replay import DeadLetterOperations
from hub.core.runtime.dead_letter_consumer import DeadLetterConsumer
from hub.core.runtime.routing import Handler, to_outgoing
from hub.core.runtime.worker import HubWorker, WorkerDeps
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.audit.query import search
from hub.infra.audit.rows import StoredRecord
from hub.infra.broker.credentials import replay_routes, sender_identities
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.memory.transport import InMemoryTransport, ManualClock
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery
from hub.ports.store import UnitOfWork, UnitOfWorkFactory
from hub.ports.transport import BatchHandler, OutgoingMessage
from hub.settings import BodyLimitSettings, BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._shared_transport import shared

INQUIRY = ("pension.survival_inquiry.requested", 1)


def inquiry(message_id: uuid.UUID | None = None) -> Envelope:
    """A valid survival inquiry from the pension system (usage numbers only, nobody real)."""
    payload = SurvivalInquiryRequested(
        chunk=ChunkInfo(batch_id="b1", chunk_index=0, chunk_count=1, total_records=1),
        cycle="2026-12",
        as_of=date(2026, 11, 26),
        records=(
            SurvivalInquiryRecord(
                record_seq=0, usage_number=UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="AB-1")
            ),
        ),
    )
    return new_envelope(
        message_type=INQUIRY[0],
        schema_version=INQUIRY[1],
        source="pension",
        actor="federation",
        destination="hub",
        purpose=Purpose(code="pension.survival", legal_basis=(LegalBasis(law="番号法", article="第9条"),)),
        payload=payload_dict(payload),
        message_id=message_id or new_id(),
    )


@dataclass
class FlakyHandler:
    """Fails with ``error`` for the first ``failures`` calls of each message, then completes."""

    error: Callable[[], Exception] = lambda: PermanentError("injected fault", code="injected")
    failures: int = 1
    calls: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)

    def __call__(self, message: Decoded, ctx: HandlerContext) -> list[Envelope]:
        mid = str(message.envelope.message_id)
        self.calls.append(mid)
        if self.calls.count(mid) <= self.failures:
            raise self.error()
        self.completed.append(mid)
        return []


class DownForTheFirst:
    """A unit-of-work factory whose database is unreachable for the first ``outages`` transactions."""

    def __init__(self, factory: UnitOfWorkFactory, outages: int) -> None:
        self.factory, self.outages = factory, outages

    def __call__(self) -> UnitOfWork:
        if self.outages:
            self.outages -= 1
            raise StoreUnavailable("the database cannot be reached; the message will be retried")
        return self.factory()


@dataclass
class DlqEnv:
    """The hub wired to an in-memory broker and an SQLite file, with test handlers on its ingress."""

    settings: Settings
    hub: LocalDeployment
    mem: InMemoryTransport
    clock: ManualClock

    @property
    def names(self):
        return self.hub.names

    def worker(
        self, handlers: Mapping[tuple[str, int], Handler], uow_factory: UnitOfWorkFactory | None = None
    ) -> HubWorker:
        return HubWorker(
            WorkerDeps(
                uow_factory=uow_factory or self.hub.uow_factory(),
                transport=self.mem,
                sealer=HpkeSealer(self.hub.keyring.sealing_for()),
                unsealer=HpkeUnsealer(self.hub.keyring.unsealing("hub")),
                policy=self.hub.policy,
                exchanges=self.hub.exchanges,
                retry=self.hub.retry,
                handlers=handlers,
                actor="hub:test",
                identities=sender_identities(self.settings),
                body_limits=body_limits(self.settings),
            )
        )

    def consumer(self) -> DeadLetterConsumer:
        return self.hub.dead_letter_consumer(actor="hub:dead-letters:test")

    def operations(self, **kwargs) -> DeadLetterOperations:
        kwargs.setdefault("routes", replay_routes(self.settings, self.hub.exchanges))
        return DeadLetterOperations(self.hub.uow_factory(), self.mem, **kwargs)

    def send(self, envelope: Envelope) -> None:
        self.mem.publish([to_outgoing(envelope, self.hub.exchanges)])

    def send_raw(self, body: bytes, message_type: str = "garbage", message_id: str | None = None) -> str:
        mid = message_id or str(new_id())
        self.mem.publish([OutgoingMessage(self.names.ingress_exchange, "hub", body, mid, message_type, mid)])
        return mid

    def run(self, worker: BatchHandler, extra: Mapping[str, BatchHandler] | None = None) -> int:
        """Hub ingress and dead-letter queue until both are empty."""
        handlers: dict[str, BatchHandler] = {
            self.names.ingress_queue: worker,
            self.names.dead_letter_queue: self.consumer(),
        }
        return self.mem.run_until_idle({**handlers, **(extra or {})})

    def dead_letters(self, query: DeadLetterQuery | None = None) -> list[DeadLetter]:
        with self.hub.uow_factory()() as uow:
            return uow.dead_letters.find(query or DeadLetterQuery(statuses=()))

    def records(self, action: str | None = None) -> list[StoredRecord]:
        with self.hub.engine.connect() as conn:
            return search(conn, action=action, limit=10_000)


def make_env(
    tmp_path: Path,
    *,
    delivery_limit: int = 2,
    per_service: bool = False,
    body_limit: BodyLimitSettings | None = None,
) -> DlqEnv:
    """The env; ``per_service``: every service its own broker user, the hub's transport as ``t-hub``."""
    settings = Settings(
        data_dir=tmp_path / "var",
        exchange_prefix="t",
        log_json=False,
        retry=RetrySettings(max_attempts=2, delays_ms=(100, 200), delivery_limit=delivery_limit),
        broker=BrokerSettings(identity=BrokerIdentity.PER_SERVICE if per_service else BrokerIdentity.SHARED),
        body_limit=body_limit or BodyLimitSettings(),
    )
    clock = ManualClock()
    mem = InMemoryTransport(clock=clock, user="t-hub" if per_service else "guest")
    hub = local_deployment(settings, transports=shared(mem), configure_logs=False)
    hub.prepare()  # migrations and topology, both on the fakes
    return DlqEnv(settings, hub, mem, clock)

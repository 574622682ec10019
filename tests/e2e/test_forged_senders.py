"""Playing the attacker who owns one adapter: forged senders are refused by the hub and by the broker.

Every service here connects to the real broker as its own least-privilege user (created for a unique prefix
with ``renkei topology users``' own function, deleted afterwards); the hub runs its worker and dead-letter
consumer under ``{prefix}-hub``. Then:

* the review's forgery: the pension adapter's user publishes a ``jlis.number_acquisition.result`` answering a
  real outstanding query, with a number of its choosing sealed for the hub (it holds the hub's sealing key to
  seal dependants' numbers). The hub refuses it (``sender_not_permitted``), records it, links nothing and
  sends nothing to J-LIS, eLTAX, the intermediate server or the pension system;
* every adapter's user publishing a message type it may not send is refused and recorded;
* a simulator's user cannot publish to the hub's ingress at all (the broker refuses: no write permission).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

import pytest

from adapters.jlis.mapping_acquisition import ACQUISITION_PURPOSE
from adapters.pension.acquisition import NUMBER_ACQUISITION_PURPOSE
from contracts.envelope import Envelope, new_envelope
from contracts.errors import ConfigurationError, PublishNotConfirmed
from contracts.individual_number import synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.jlis_acquisition import (
    AcquisitionRequestRecord,
    BasicInfo,
    JlisAcquisitionResultRecord,
    JlisNumberAcquisitionQuery,
    JlisNumberAcquisitionResult,
    MatchStatus,
    NumberAcquisitionRequested,
    unique_number_field,
)
from contracts.registry import decode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.runtime.routing import to_outgoing
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.audit.query import search
from hub.infra.audit.rows import StoredRecord
from hub.infra.broker.credentials import broker_login
from hub.infra.broker.topology import renkei_topology
from hub.infra.broker.transport import PikaTransport
from hub.infra.broker.users import apply_users, delete_users
from hub.infra.crypto.sealing import HpkeSealer
from hub.infra.keys.service_keys import adapter_keys_from
from hub.infra.runner import ServiceGroup
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery, DeadLetterStatus
from hub.ports.transport import Delivery, Disposition
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests.e2e._running import wait_until
from tests.e2e.conftest import amqp_url, delete_prefixed

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

ADDRESS = "東京都千代田区霞が関一丁目1番1号"
ADAPTERS = (
    "adapter-jlis",
    "adapter-intermediate_server",
    "adapter-eltax",
    "adapter-nta",
    "adapter-implementing_bodies",
    "adapter-pension",
)


@dataclass
class World:
    settings: Settings
    hub: LocalDeployment
    transports: dict[str, PikaTransport]

    def transport(self, service: str) -> PikaTransport:
        if service not in self.transports:
            login = broker_login(self.settings, service)
            self.transports[service] = PikaTransport(
                login.addresses,
                connection_name=f"renkei-test:{self.settings.exchange_prefix}:{service}",
                user=login.user,
                publish_retry_s=2,
                reconnect_max_s=5,
            )
        return self.transports[service]

    def publish(self, service: str, envelope: Envelope) -> None:
        self.transport(service).publish([to_outgoing(envelope, self.hub.exchanges)])

    def dead_letters(self, *message_ids: str) -> list[DeadLetter]:
        with self.hub.uow_factory()() as uow:
            rows = uow.dead_letters.find(DeadLetterQuery(statuses=(), limit=1_000))
        return [r for r in rows if r.message_id in message_ids]

    def refused(self, message_id: str) -> list[StoredRecord]:
        with self.hub.engine.connect() as conn:
            return [
                r
                for r in search(conn, message_id=message_id, limit=100)
                if r.reason == "sender_not_permitted"
            ]

    def ready(self, queue: str) -> int:
        return self.transport("operator").queue_depth(queue)[0]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # One running hub and one set of users for the module: each rabbitmqctl call starts an Erlang VM.
    url = amqp_url()
    prefix = f"t{uuid.uuid4().hex[:8]}"
    e2e_settings = Settings(
        amqp_url=url,
        data_dir=tmp_path_factory.mktemp("forged") / "var",
        exchange_prefix=prefix,
        batch_wait_ms=5,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1000), delivery_limit=5),
    )
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("creating broker users needs rabbitmqctl on the broker's own machine")
    if subprocess.run(
        ["rabbitmqctl", "-q", "--timeout", "10", "ping"], capture_output=True, check=False
    ).returncode:
        pytest.skip("rabbitmqctl cannot reach the local node")
    settings = e2e_settings.model_copy(update={"broker": BrokerSettings(identity=BrokerIdentity.PER_SERVICE)})
    assert settings.broker_identity is BrokerIdentity.PER_SERVICE
    apply_users(settings)
    # The topology is declared as the broker's administrator, as a deploy job would as the operator.
    admin = PikaTransport(
        e2e_settings.amqp_url, connection_name=f"renkei-test:{settings.exchange_prefix}:admin"
    )
    admin.declare(renkei_topology(settings.exchange_prefix, settings.retry))
    admin.close()
    hub = local_deployment(settings, configure_logs=False)  # each role logs in as its own broker user
    hub.prepare_database()
    group: ServiceGroup = hub.hub_services()
    group.start()
    state = World(settings, hub, {})
    try:
        yield state
        assert not group.failures, group.failures
    finally:
        group.shutdown()
        for transport in state.transports.values():
            transport.close()
        hub.close()
        delete_users(settings)
        topology = renkei_topology(prefix, settings.retry)
        delete_prefixed(url, prefix, [q.name for q in topology.queues], [e.name for e in topology.exchanges])


def take(transport: PikaTransport, queue: str, count: int, timeout_s: float = 20) -> list[Delivery]:
    seen: list[Delivery] = []
    stop = threading.Event()

    def handler(batch: Sequence[Delivery]) -> list[Disposition]:
        seen.extend(batch)
        if len(seen) >= count:
            stop.set()
        return [Disposition.ACK] * len(batch)

    timer = threading.Timer(timeout_s, stop.set)
    timer.start()
    try:
        transport.consume(queue, handler, stop=stop, prefetch=10, batch_size=10, batch_wait_s=0.01)
    finally:
        timer.cancel()
    return seen


def acquisition_request(usage: UsageNumber, batch: str) -> Envelope:
    payload = NumberAcquisitionRequested(
        chunk=ChunkInfo(batch_id=batch, chunk_index=0, chunk_count=1, total_records=1),
        as_of=date(2026, 11, 20),
        records=(
            AcquisitionRequestRecord(
                record_seq=1,
                usage_number=usage,
                basic_info=BasicInfo(name="試験　花子", birth_date=date(1950, 4, 1), address=ADDRESS),
            ),
        ),
    )
    return new_envelope(
        message_type="pension.number_acquisition.requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=NUMBER_ACQUISITION_PURPOSE,
        payload=payload_dict(payload),
    )


def forged_result(hub: LocalDeployment, ref: str, batch: str) -> tuple[Envelope, str]:
    """A J-LIS answer linking a number of the forger's choosing, sealed with the pension adapter's key."""
    message_id = uuid.uuid4()
    number = synthetic_individual_number()
    sealed = HpkeSealer(adapter_keys_from(hub.keyring, "pension").sealing).seal(
        number, recipient="hub", message_id=message_id, field=unique_number_field(1)
    )
    payload = JlisNumberAcquisitionResult(
        chunk=ChunkInfo(batch_id=batch, chunk_index=0, chunk_count=1, total_records=1),
        fee_units=1,
        records=(
            JlisAcquisitionResultRecord(
                record_seq=1,
                ref=ref,
                match_status=MatchStatus.UNIQUE,
                candidate_count=1,
                individual_number=sealed,
                matched=BasicInfo(name="試験　花子", birth_date=date(1950, 4, 1), address=ADDRESS),
            ),
        ),
    )
    envelope = new_envelope(
        message_type="jlis.number_acquisition.result",
        schema_version=1,
        source="jlis",  # the forger claims to be J-LIS
        destination="hub",
        purpose=ACQUISITION_PURPOSE,
        payload=payload_dict(payload),
        message_id=message_id,
    )
    return envelope, number.reveal()


def outstanding_query(world: World, usage: UsageNumber, batch: str) -> str:
    """Ask the hub (legitimately, as the pension adapter) for an acquisition; return the query's J-LIS ref."""
    world.publish("adapter-pension", acquisition_request(usage, batch))
    [query] = take(world.transport("adapter-jlis"), world.hub.names.adapter_queue("jlis"), 1)
    payload = decode(query.body).payload
    assert isinstance(payload, JlisNumberAcquisitionQuery)
    return payload.records[0].ref


def vault_number(hub: LocalDeployment, usage: UsageNumber) -> object:
    with hub.uow_factory()() as uow:
        subjects = uow.vault.subjects_by_usage([usage])
        return uow.vault.numbers_of(list(subjects.values())).get(subjects[usage]) if subjects else None


@pytest.mark.timeout(120)
def test_the_pension_adapters_forged_jlis_result_links_nothing_and_sends_nothing(world: World) -> None:
    hub, names = world.hub, world.hub.names
    usage = UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="1234567890")
    ref = outstanding_query(world, usage, "forge-1")
    forged, chosen = forged_result(hub, ref, "forge-1")

    world.publish("adapter-pension", forged)

    wait_until(lambda: bool(world.refused(str(forged.message_id))), timeout_s=30, what="the refusal's record")
    [record] = world.refused(str(forged.message_id))
    assert (record.action, record.outcome, record.message_type) == (
        "dead_lettered",
        "refused",
        "jlis.number_acquisition.result",
    )
    assert record.details["sender"] == "adapter-pension"
    assert record.details["user_id"] == f"{names.prefix}-adapter-pension"
    mid = str(forged.message_id)
    wait_until(lambda: len(world.dead_letters(mid)) == 1, timeout_s=30, what="the dead letter")
    [dead] = world.dead_letters(mid)
    assert (dead.message_id, dead.failure.reason_code, dead.sender) == (
        str(forged.message_id),
        "sender_not_permitted",
        "adapter-pension",
    )
    assert chosen not in dead.body.decode()  # sealed, and the store redacts anyway
    # Nothing linked, nothing held, nothing sent on to anyone.
    assert vault_number(hub, usage) is None
    with hub.uow_factory()() as uow:
        assert not uow.holds.pending(limit=10)
    for adapter in ("jlis", "intermediate_server", "eltax", "nta", "implementing_bodies", "pension"):
        assert world.ready(names.adapter_queue(adapter)) == 0, adapter
    with hub.engine.connect() as conn:
        assert search(conn, action="linked", limit=100) == []
        assert search(conn, message_id=mid, action="received", limit=10) == []  # never even taken in


@pytest.mark.timeout(120)
def test_every_adapter_sending_a_type_it_may_not_send_is_refused_and_recorded(world: World) -> None:
    hub = world.hub
    ref = outstanding_query(
        world, UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="2234567890"), "forge-2"
    )
    sent: dict[str, Envelope] = {}
    for service in ADAPTERS:
        if service == "adapter-jlis":  # J-LIS may answer acquisitions, but never ask the hub for one
            envelope = acquisition_request(
                UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="3234567890"), "f3"
            )
        else:
            envelope, _ = forged_result(hub, ref, f"forge-{service}")
        world.publish(service, envelope)
        sent[service] = envelope

    for service, envelope in sent.items():
        mid = str(envelope.message_id)

        def refused_yet(mid: str = mid) -> bool:
            return bool(world.refused(mid))

        wait_until(refused_yet, timeout_s=30, what=f"{service}'s refusal")
        [record] = world.refused(mid)
        assert (record.outcome, record.details["sender"]) == ("refused", service)
    ids = [str(e.message_id) for e in sent.values()]
    wait_until(lambda: len(world.dead_letters(*ids)) == len(ADAPTERS), timeout_s=30, what="the dead letters")
    dead = world.dead_letters(*ids)
    assert {d.sender for d in dead} == set(ADAPTERS)
    assert {d.failure.reason_code for d in dead} == {"sender_not_permitted"}
    assert all(d.status is DeadLetterStatus.PENDING for d in dead)


@pytest.mark.timeout(60)
def test_no_simulator_can_publish_to_the_hub_at_all(world: World) -> None:
    envelope, _ = forged_result(world.hub, "a" * 16, "forge-sim")
    simulators = (
        "simulator-jlis",
        "simulator-intermediate_server",
        "simulator-eltax",
        "simulator-nta",
        "simulator-implementing_bodies",
    )
    for simulator in simulators:
        # The broker closes the publishing channel: ACCESS_REFUSED (the transport retries it briefly, as it
        # does any closed channel, then gives up).
        with pytest.raises((ConfigurationError, PublishNotConfirmed), match="403 ACCESS_REFUSED"):
            world.publish(simulator, envelope)
    assert world.ready(world.hub.names.ingress_queue) == 0

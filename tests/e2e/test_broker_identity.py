"""`renkei demo` with per-service identity, through the real broker: every service is its own broker user.

One demo run for the module (every flow, a few records each), with its users created once the way `make
demo` creates them (:func:`hub.bootstrap.broker_identity.establish_identity`: one ``rabbitmqctl
import_definitions``) and deleted afterwards (one ``rabbitmqctl eval``). While the services run, the
broker's own connection list (``rabbitmqctl list_connections user client_properties``) is read; a spy
queue bound to the ingress, route and counterpart exchanges keeps a copy of every message. Then:

* the flows complete (lost 0) and the report names the identity and every service's user;
* every connection of this process is logged in as the user of the service its name says;
* every message carries, as its broker-validated ``user_id``, the user of the sender ``hub/senders.toml``
  names for its type (and the direction of a link file);
* the console, as its own user, looks up queue depths and replays a dead letter, which the hub takes.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pika
import pytest

from contracts.errors import PolicyRefused
from hub.bootstrap.broker_identity import establish_identity
from hub.core.operator.dead_letter_replay import DeadLetterOperations
from hub.core.runtime.routing import to_outgoing
from hub.core.runtime.senders import load_sender_table
from hub.demo.deployment import local_deployment
from hub.demo.runner import DemoReport, run_demo
from hub.infra.broker.definitions import broker_users
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, Names, renkei_topology
from hub.infra.broker.users import delete_users
from hub.ports.dead_letters import DeadLetterQuery
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._amqp import get
from tests._availability import local_broker_admin, unavailable
from tests._connections import connection_name, service_of
from tests.e2e._running import wait_until
from tests.e2e.conftest import amqp_url, delete_prefixed
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 20
CTL_TIMEOUT_S = 30
RUNNING = ("hub", *(f"adapter-{a}" for a in ADAPTERS), *(f"simulator-{c}" for c in COUNTERPARTS))
"""The services that run for the whole demo (their consumers stay connected)."""


def ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=CTL_TIMEOUT_S, check=False
    )


@dataclass
class Run:
    settings: Settings
    names: Names
    report: DemoReport
    connections: dict[str, set[str]] = field(default_factory=dict)  # connection name -> users seen
    spied: list[dict[str, Any]] = field(default_factory=list)


class ConnectionWatch:
    """Reads the broker's connection list until every long-running service of this process is in it."""

    def __init__(self, pid: int, seen: dict[str, set[str]]) -> None:
        self.pid = pid
        self.seen = seen
        self.listings = 0

    def services(self) -> set[str]:
        return {s for name in self.seen if (s := service_of(name, self.pid)) is not None}

    def __call__(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # bounded; each listing is a CLI run (about a second)
            result = ctl("list_connections", "user", "client_properties", "--formatter", "json")
            assert result.returncode == 0, result.stderr
            self.listings += 1
            for row in json.loads(result.stdout or "[]"):
                name = connection_name(row.get("client_properties"))
                if service_of(name, self.pid) is not None:
                    self.seen.setdefault(name, set()).add(str(row["user"]))
            if set(RUNNING) <= self.services():
                return
            time.sleep(0.5)


def declare_spy(url: str, names: Names, spy: str) -> None:
    """A queue bound to every route of the ingress, route and counterpart exchanges (as the admin)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.queue_declare(spy, durable=False, auto_delete=False)
        channel.queue_bind(spy, names.ingress_exchange, "hub")
        for adapter in ADAPTERS:
            channel.queue_bind(spy, names.route_exchange, adapter)
        for counterpart in COUNTERPARTS:
            for direction in ("inbound", "outbound"):
                key = names.counterpart_routing_key(counterpart, direction)
                channel.queue_bind(spy, names.counterpart_exchange, key)
    finally:
        connection.close()


def drain_spy(url: str, spy: str) -> list[dict[str, Any]]:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    seen: list[dict[str, Any]] = []
    try:
        channel = connection.channel()
        for _ in range(100_000):  # bounded
            got = get(channel, spy)
            if got is None:
                break
            seen.append(
                {
                    "type": got.properties.type,
                    "user_id": got.properties.user_id,
                    "exchange": got.exchange,
                    "routing_key": got.routing_key,
                }
            )
        channel.queue_delete(spy)
    finally:
        connection.close()
    return seen


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    url = amqp_url()
    admin = local_broker_admin(url)
    if admin is None:
        unavailable("creating broker users needs rabbitmqctl on the broker's machine", tests="identity tests")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    settings = Settings(
        amqp_url=url,
        data_dir=tmp_path_factory.mktemp("identity") / "var",
        exchange_prefix=prefix,
        batch_wait_ms=5,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1000), delivery_limit=5),
        broker=BrokerSettings(identity=BrokerIdentity.PER_SERVICE),
    )
    names = Names(prefix)
    spy = f"{prefix}.spy"
    topology = renkei_topology(prefix, settings.retry)
    # The definitions imported as `make demo` imports them (the demo does it again: it is idempotent), so
    # that the spy can bind to the exchanges before anything is published.
    establish_identity(settings, create_users=True, admin=admin)
    declare_spy(url, names, spy)
    connections: dict[str, set[str]] = {}
    watch = ConnectionWatch(os.getpid(), connections)
    try:
        report = run_demo(settings, RECORDS, timeout_s=150, console=None, admin=admin, while_running=watch)
        state = Run(settings, names, report, connections, drain_spy(url, spy))
        yield state
    finally:
        delete_users(settings, admin=admin)
        delete_prefixed(
            url, prefix, [q.name for q in topology.queues] + [spy], [e.name for e in topology.exchanges]
        )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_every_flow_completes_and_the_report_names_each_services_user(run: Run) -> None:
    summary = run.report.as_json()
    assert summary["lost"] == 0, summary
    assert summary["dead_lettered"] == 0
    assert all(flow["sent"] > 0 for flow in summary["flows"].values())
    identity = summary["broker_identity"]
    assert (identity["mode"], identity["users_created"], identity["fallback"]) == ("per_service", True, None)
    prefix = run.settings.exchange_prefix
    assert identity["users"] == {service: f"{prefix}-{service}" for service in (*RUNNING, "operator")}


@pytest.mark.timeout(300)
def test_every_connection_logs_in_as_the_user_of_its_service(run: Run) -> None:
    prefix, pid = run.settings.exchange_prefix, os.getpid()
    by_service: dict[str, set[str]] = {}
    for name, users in run.connections.items():
        service = service_of(name, pid)
        assert service is not None
        by_service.setdefault(service, set()).update(users)
    assert set(RUNNING) <= set(by_service)  # every long-running service was seen connected
    for service, users in by_service.items():
        assert users == {f"{prefix}-{service}"}, (service, users)
    print(f"\nconnections: {len(run.connections)} of {len(by_service)} services, each as its own user")


@pytest.mark.timeout(300)
def test_every_message_carries_the_user_the_sender_table_names(run: Run) -> None:
    prefix, table = run.settings.exchange_prefix, load_sender_table()
    assert run.spied, "the spy saw nothing"
    senders: set[str] = set()
    for message in run.spied:
        rules = table.rules_for(message["type"])
        assert rules, message
        if len(rules) == 1:
            [rule] = rules
        else:  # a link file: the routing key says the direction, the table says who sends it that way
            queue = f"counterpart.{message['routing_key']}"
            [rule] = [r for r in rules if r.queue == queue]
        assert message["user_id"] == f"{prefix}-{rule.sender}", message
        senders.add(rule.sender)
    assert senders == set(RUNNING)  # every service sent something, and each was proven by the broker
    types = {m["type"] for m in run.spied}
    print(f"\nspy: {len(run.spied)} messages of {len(types)} types from {len(senders)} senders, each proven")


@pytest.mark.timeout(120)
def test_the_console_as_its_own_user_replays_a_dead_letter_the_hub_takes(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fault: the hub's handler refuses the message the first time only (a policy since fixed).
    flaky = FlakyHandler(error=lambda: PolicyRefused("injected: not allowed yet"), failures=1)
    monkeypatch.setattr("hub.bootstrap.hub_worker.HANDLERS", {INQUIRY: flaky})
    hub = local_deployment(run.settings, configure_logs=False)
    group = hub.hub_services()
    group.start()
    console = hub.console()
    try:
        envelope = inquiry()
        mid = str(envelope.message_id)
        hub.transport("as-pension", "adapter-pension").publish([to_outgoing(envelope, hub.exchanges)])

        def dead_letter() -> list[Any]:
            with console.uow_factory() as uow:
                return [d for d in uow.dead_letters.find(DeadLetterQuery()) if d.message_id == mid]

        wait_until(lambda: bool(dead_letter()), timeout_s=30, what="the dead letter")
        [row] = dead_letter()
        assert (row.sender, row.failure.reason_code) == ("adapter-pension", "policy_refused")

        transport = console.transport()
        assert transport.user == f"{run.settings.exchange_prefix}-console"
        assert transport.queue_depth(run.names.ingress_queue)[1] >= 1  # the hub consumes
        operations = DeadLetterOperations(console.uow_factory, transport, routes=console.replay_routes)
        report = operations.replay(DeadLetterQuery(ids=(row.id,)), operator="console-e2e", reason="fixed")
        assert [r.queue for r in report.results] == [run.names.ingress_queue]

        wait_until(lambda: flaky.completed == [mid], timeout_s=30, what="the replay handled")
        assert not group.failures
    finally:
        group.shutdown()
        console.close()
        hub.close()


def test_a_connection_name_tells_its_service() -> None:
    assert service_of("renkei-adapter-jlis-from-hub-42.consumer", 42) == "adapter-jlis"
    assert (
        service_of("renkei-simulator-intermediate_server-tick-42.publisher", 42)
        == "simulator-intermediate_server"
    )
    assert service_of("renkei-hub-ingress-42.publisher", 41) is None  # another process
    assert service_of("renkei-test:x:hub", 42) is None
    assert {u.role for u in broker_users("t")} >= set(RUNNING)

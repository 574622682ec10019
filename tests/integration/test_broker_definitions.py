"""The broker definitions document: its permission table, and its users on the real broker.

The broker tests import a generated document into the local broker in a virtual host of their own
(created by the import) with ``rabbitmqctl import_definitions``, then connect as the users it defines:
each may use its own queues and is refused (``403 ACCESS_REFUSED``, translated to ``ConfigurationError``)
everywhere else. The virtual host and every user of the document are deleted afterwards. The first tests
need no broker: they read the permission table itself (kept here, next to the broker tests they explain).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from contracts.errors import ConfigurationError
from hub.bootstrap.common import Wiring
from hub.core.runtime.senders import load_sender_table
from hub.demo.data import demo_population
from hub.demo.deployment import local_deployment
from hub.demo.runner import run_demo
from hub.infra.broker.credentials import replay_routes
from hub.infra.broker.definitions import (
    broker_users,
    consumed_queues,
    definitions,
    hash_password,
    password_matches,
)
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, Names, renkei_topology
from hub.infra.broker.transport import PikaTransport
from hub.infra.broker.users import Rabbitmqctl
from hub.infra.memory.transport import InMemoryTransport
from hub.infra.service_names import ServiceName
from hub.ports.transport import Delivery, Disposition, OutgoingMessage, Transport
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._shared_transport import shared

RETRY = RetrySettings(max_attempts=3, delays_ms=(200, 1_000), delivery_limit=5)
GUEST_HASH = "oMKMwmtBxv0FAQTliL8ZNjngy7N3t6iYxGTP2pIKnztc1xeC"  # RabbitMQ's own hash of "guest"
CTL_TIMEOUT_S = 60
CONSUME_GUARD_S = 20


# -- the permission table (no broker) ------------------------------------------------------------------


def granted(prefix: str, role: str, kind: str) -> set[str]:
    """Names of the topology's queues and exchanges that ``role`` may ``kind`` (configure/write/read)."""
    user = next(u for u in broker_users(prefix) if u.role == role)
    topology = renkei_topology(prefix, RETRY)
    resources = [q.name for q in topology.queues] + [e.name for e in topology.exchanges]
    return {name for name in resources if re.search(getattr(user, kind), name)}


def test_rabbitmq_accepts_the_hash_format() -> None:
    assert password_matches("guest", GUEST_HASH)
    assert not password_matches("Guest", GUEST_HASH)
    salted = hash_password("s3cret", salt=b"\x00\x01\x02\x03")
    assert salted == hash_password("s3cret", salt=b"\x00\x01\x02\x03")
    assert password_matches("s3cret", salted)
    assert password_matches("パスワード", hash_password("パスワード"))


def test_the_jlis_adapter_reads_its_queue_and_link_and_writes_towards_the_hub() -> None:
    p = "renkei"
    assert granted(p, "adapter-jlis", "read") == {"renkei.adapter.jlis", "renkei.counterpart.jlis.inbound"}
    assert granted(p, "adapter-jlis", "write") == {
        "renkei.ingress",
        "renkei.counterpart",
        "renkei.dead",
        "renkei.retry.200ms",
        "renkei.retry.1000ms",
    }
    assert granted(p, "adapter-jlis", "configure") == set()


def test_the_hub_reads_its_ingress_and_the_dead_letter_queue_it_consumes() -> None:
    # The dead-letter consumer runs in the hub's process (issue 18 found the hub's user could not read it).
    assert granted("renkei", "hub", "read") == {"renkei.hub.ingress", "renkei.dead_letter"}
    assert granted("renkei", "hub", "write") == {
        "renkei.route",
        "renkei.ingress",
        "renkei.dead",
        "renkei.retry.200ms",
        "renkei.retry.1000ms",
    }


def test_the_pension_adapter_has_no_counterpart_link() -> None:
    assert granted("renkei", "adapter-pension", "read") == {"renkei.adapter.pension"}
    assert "renkei.counterpart" not in granted("renkei", "adapter-pension", "write")


def test_a_simulator_reads_only_what_its_adapter_sends() -> None:
    assert granted("renkei", "simulator-jlis", "read") == {"renkei.counterpart.jlis.outbound"}


def consumed_in_code(tmp_path: Path, prefix: str) -> dict[str, set[str]]:
    """The queues each service's composition root consumes, by broker role (nothing connects)."""
    settings = Settings(data_dir=tmp_path, exchange_prefix=prefix)
    memory = InMemoryTransport()
    hub = local_deployment(settings, transports=shared(memory), configure_logs=False)
    try:
        groups = {"hub": hub.hub_services()}
        for adapter in ADAPTERS:
            groups[f"adapter-{adapter}"] = hub.adapter_services(adapter)
        population = demo_population(10)
        for counterpart in COUNTERPARTS:
            groups[f"simulator-{counterpart}"] = hub.simulator_services(counterpart, population)
        return {role: {queue for _, queue in group.consumed} for role, group in groups.items()}
    finally:
        hub.close()


def test_every_service_may_read_exactly_the_queues_its_code_consumes(tmp_path: Path) -> None:
    prefix = "renkei"
    consumed = consumed_in_code(tmp_path, prefix)
    roles = {u.role for u in broker_users(prefix)} - {"operator", "console"}
    assert set(consumed) == roles  # every service with a broker user that consumes, and no other
    for role, queues in consumed.items():
        assert queues, role
        assert granted(prefix, role, "read") == queues, role  # may read all it consumes, and nothing more
        assert set(consumed_queues(prefix, role)) == queues, role


def test_the_console_reads_nothing_and_declares_nothing() -> None:
    # Queue depths are passive declarations (no permission); replays publish. It runs no consumer.
    assert granted("renkei", "console", "read") == set()
    assert granted("renkei", "console", "configure") == set()
    assert consumed_queues("renkei", "console") == ()


class _Recorder:
    """One service's connection to the shared in-memory broker, as its own user; notes where it publishes."""

    def __init__(self, transport: InMemoryTransport, service: str, published: dict[str, set[str]]) -> None:
        self._transport = transport
        self._service = service
        self._published = published

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def publish(self, messages: Sequence[OutgoingMessage]) -> None:
        self._published[self._service].update(m.exchange for m in messages)
        self._transport.publish(messages)

    def close(self) -> None:
        self._transport.close()


class RecordingTransports:
    """Every service its own user (``{prefix}-{service}``) on one in-memory broker, publishes noted."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.broker = InMemoryTransport(user=f"{prefix}-operator")
        self.published: dict[str, set[str]] = defaultdict(set)

    def __call__(self, service: ServiceName, role: str) -> Transport:
        view = self.broker.for_user(f"{self.prefix}-{service}")
        return _Recorder(view, service, self.published)


def writes_the_table_needs(prefix: str, role: str) -> set[str]:
    """The exchanges ``role`` must write to: those of the queues of what it may send (the sender table),
    or of every replay target (the console); plus, for a consumer, its dead letters and retries."""
    names, table = Names(prefix), load_sender_table()
    routes = replay_routes(
        Settings(exchange_prefix=prefix), Wiring.of(Settings(exchange_prefix=prefix)).exchanges
    )
    if role == "console":
        return {routes.target(r.message_type, r.sender).exchange for r in table.rules}
    sent = {routes.target(r.message_type, r.sender).exchange for r in table.rules if r.sender == role}
    failures = {names.dead_letter_exchange} | {names.retry_exchange(d) for d in RETRY.delays_ms}
    return sent | (failures if consumed_queues(prefix, role) else set())


def test_every_service_may_write_exactly_what_it_sends_and_its_code_publishes_nothing_else(
    tmp_path: Path,
) -> None:
    prefix = "t"
    roles = {u.role for u in broker_users(prefix)} - {"operator"}
    for role in roles:  # the permissions are the sender table's, no more and no less
        assert granted(prefix, role, "write") == writes_the_table_needs(prefix, role), role
    # Every flow of the demo, every service as its own user: what each really publishes is allowed it.
    settings = Settings(
        data_dir=tmp_path / "var",
        exchange_prefix=prefix,
        log_json=False,
        batch_wait_ms=5,
        retry=RETRY,
        broker=BrokerSettings(identity=BrokerIdentity.PER_SERVICE),
    )
    transports = RecordingTransports(prefix)
    report = run_demo(settings, 20, timeout_s=60, console=None, transports=transports)
    assert (report.lost, report.dead_lettered) == (0, 0), report.as_json()
    publishers = set(transports.published) - {"operator"}  # the demo's own look-ups and set-up
    assert publishers == {
        "hub",
        *(f"adapter-{a}" for a in ADAPTERS),
        *(f"simulator-{c}" for c in COUNTERPARTS),
    }
    for service, exchanges in transports.published.items():
        assert exchanges <= granted(prefix, service, "write"), service
    # ... and the console's replay publishes to its replay target's exchange, which it may write.
    console = local_deployment(settings, transports=transports, configure_logs=False)
    try:
        root = console.console()
        target = root.replay_routes.target("pension.survival_check.outcomes", "hub")
        assert target.exchange in granted(prefix, "console", "write")
        root.transport().publish([message(target.exchange, target.routing_key)])
        assert transports.published["console"] == {target.exchange}
        root.close()
    finally:
        console.close()


def test_only_the_operator_configures_and_nothing_outside_the_prefix() -> None:
    topology = renkei_topology("renkei", RETRY)
    every_name = {q.name for q in topology.queues} | {e.name for e in topology.exchanges}
    assert granted("renkei", "operator", "configure") == every_name
    for user in broker_users("renkei"):
        if user.role != "operator":
            assert granted("renkei", user.role, "configure") == set(), user.role
        for kind in ("configure", "write", "read"):
            assert not re.search(getattr(user, kind), "renkeiX.hub.ingress")
            assert not re.search(getattr(user, kind), "other.renkei.hub.ingress")


def test_every_adapter_simulator_and_the_hub_has_a_user() -> None:
    roles = {u.role for u in broker_users("renkei")}
    assert {"hub", "operator", "adapter-jlis", "adapter-pension", "simulator-jlis"} <= roles
    assert {"adapter-intermediate_server", "adapter-eltax", "adapter-nta", "simulator-nta"} <= roles
    assert {"adapter-implementing_bodies", "simulator-implementing_bodies"} <= roles


def test_plain_passwords_and_unknown_users_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="not a rabbit_password_hashing_sha256 hash"):
        definitions("renkei", RETRY, {"renkei-hub": "correct horse battery staple"})
    with pytest.raises(ConfigurationError, match="unknown broker users nobody"):
        definitions("renkei", RETRY, {"nobody": None})
    with pytest.raises(ConfigurationError):
        hash_password("")


def test_the_document_is_json_and_holds_no_password() -> None:
    document = definitions("renkei", RETRY, {"renkei-hub": hash_password("do-not-leak")})
    text = json.dumps(document)
    assert "do-not-leak" not in text
    queues = {q["name"]: q for q in document["queues"]}
    assert queues["renkei.hub.ingress"]["arguments"]["x-delivery-limit"] == 5
    assert queues["renkei.retry.200ms"]["arguments"]["x-message-ttl"] == 200
    assert {u["password_hash"] == "" for u in document["users"]} == {True, False}


# -- the users on the broker -----------------------------------------------------------------------------


def ctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CTL_TIMEOUT_S,
        check=False,
    )


@dataclass
class Imported:
    """A definitions document imported into its own virtual host."""

    names: Names
    vhost: str
    urls: dict[str, str]  # by role
    connection_name: str

    def transport(self, role: str) -> PikaTransport:
        return PikaTransport(
            self.urls[role],
            connection_name=f"{self.connection_name}:{role}",
            reconnect_max_s=5,
            publish_retry_s=2,
            connect_timeout_s=10,
        )


@pytest.fixture(scope="module")
def imported(amqp_url: str) -> Iterator[Imported]:
    # One import for the module: each rabbitmqctl call starts an Erlang VM (about half a second).
    parts = urlparse(amqp_url)
    if shutil.which("rabbitmqctl") is None or parts.hostname not in {"127.0.0.1", "localhost"}:
        pytest.skip("importing definitions needs rabbitmqctl on the broker's own machine")
    if ctl("--timeout", "10", "ping").returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the local node (run the tests as root or rabbitmq)")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    vhost = f"renkei-test-{prefix}"
    roles = {u.role: u.name for u in broker_users(prefix)}
    passwords = {role: secrets.token_urlsafe(18) for role in ("hub", "adapter-jlis", "operator")}
    document = definitions(
        prefix, RETRY, {roles[role]: hash_password(pw) for role, pw in passwords.items()}, vhost=vhost
    )
    try:
        result = ctl("import_definitions", "--timeout", str(CTL_TIMEOUT_S - 10), stdin=json.dumps(document))
        assert result.returncode == 0, result.stderr
        host = f"{parts.hostname}:{parts.port or 5672}"
        yield Imported(
            names=Names(prefix),
            vhost=vhost,
            urls={role: url(roles[role], pw, host, vhost) for role, pw in passwords.items()},
            connection_name=f"renkei-test:{__name__}:{prefix}",
        )
    finally:
        ctl("delete_vhost", vhost)
        Rabbitmqctl().delete([user["name"] for user in document["users"]])  # one CLI call for them all


def url(user: str, password: str, host: str, vhost: str) -> str:
    return f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{host}/{quote(vhost, safe='')}"


def message(exchange: str, routing_key: str) -> OutgoingMessage:
    return OutgoingMessage(
        exchange=exchange,
        routing_key=routing_key,
        body=b'{"test": "permissions"}',
        message_id=str(uuid.uuid4()),
        message_type="test.permissions",
        correlation_id=str(uuid.uuid4()),
    )


def consume_one(transport: PikaTransport, queue: str) -> list[Delivery]:
    """Consume until one delivery arrived (or the guard runs out); return what arrived."""
    stop, seen = threading.Event(), list[Delivery]()

    def handler(batch: Sequence[Delivery]) -> Sequence[Disposition]:
        seen.extend(batch)
        stop.set()
        return [Disposition.ACK] * len(batch)

    guard = threading.Timer(CONSUME_GUARD_S, stop.set)
    guard.start()
    try:
        transport.consume(queue, handler, stop=stop, prefetch=10, batch_size=10, batch_wait_s=0.01)
    finally:
        guard.cancel()
    return seen


@pytest.mark.rabbitmq
def test_the_jlis_adapter_consumes_what_the_hub_routes_to_it(imported: Imported) -> None:
    hub, jlis = imported.transport("hub"), imported.transport("adapter-jlis")
    try:
        hub.publish([message(imported.names.route_exchange, "jlis")])
        assert jlis.queue_depth(imported.names.adapter_queue("jlis")) == (1, 0)
        seen = consume_one(jlis, imported.names.adapter_queue("jlis"))
        assert [d.message_type for d in seen] == ["test.permissions"]
    finally:
        hub.close()
        jlis.close()


@pytest.mark.rabbitmq
@pytest.mark.parametrize("queue", ["hub_ingress", "pension_adapter"])
def test_the_jlis_adapter_is_refused_other_queues(imported: Imported, queue: str) -> None:
    names = imported.names
    target = names.ingress_queue if queue == "hub_ingress" else names.adapter_queue("pension")
    jlis = imported.transport("adapter-jlis")
    try:
        with pytest.raises(ConfigurationError, match="403 ACCESS_REFUSED") as refused:
            consume_one(jlis, target)
        assert target in str(refused.value)
    finally:
        jlis.close()


@pytest.mark.rabbitmq
def test_the_jlis_adapter_publishes_to_the_hub_but_declares_nothing(imported: Imported) -> None:
    names = imported.names
    jlis = imported.transport("adapter-jlis")
    try:
        jlis.publish([message(names.ingress_exchange, "hub")])  # confirmed: write on the ingress is allowed
        # Declaring needs `configure`, which only the operator has: a worker that declares the topology on
        # start (as `renkei run` does today) is refused under these definitions.
        with pytest.raises(ConfigurationError, match="403 ACCESS_REFUSED"):
            jlis.declare(renkei_topology(names.prefix, RETRY))
    finally:
        jlis.close()
    hub = imported.transport("hub")
    try:
        assert [d.message_type for d in consume_one(hub, names.ingress_queue)] == ["test.permissions"]
    finally:
        hub.close()


@pytest.mark.rabbitmq
def test_the_operator_applies_the_same_topology_idempotently(imported: Imported) -> None:
    operator = imported.transport("operator")
    try:
        operator.declare(renkei_topology(imported.names.prefix, RETRY))  # same arguments: accepted
    finally:
        operator.close()

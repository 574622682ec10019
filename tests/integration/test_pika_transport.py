"""PikaTransport against the local broker: stopping, losing the connection, giving up, TLS URLs.

The connection kills close only this test's own connections (by name, with ``rabbitmqctl
close_connection``), never the other connections of the shared broker.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

import pytest
from tenacity import Retrying, stop_after_delay, wait_fixed

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker._io import connection_parameters
from hub.infra.broker.topology import Names, renkei_topology
from hub.infra.broker.transport import PikaTransport
from hub.ports.transport import Delivery, Disposition, OutgoingMessage
from hub.settings import RetrySettings
from tests.conftest import BrokerSandbox

RETRY = RetrySettings(max_attempts=3, delays_ms=(200,), delivery_limit=5)
CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1/%2F"


def ping(names: Names, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        exchange=names.ingress_exchange,
        routing_key="hub",
        body=b'{"n": %d}' % n,
        message_id=str(uuid.uuid4()),
        message_type="test.ping",
        correlation_id=str(uuid.uuid4()),
    )


def close_connections(name: str) -> int:
    """Close the broker connections called ``name``; return how many were closed."""
    listed = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid", "client_properties"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    closed = 0
    for line in listed.stdout.splitlines():
        pid, _, props = line.partition("\t")
        if f'{{"connection_name","{name}"}}' in props:
            subprocess.run(
                ["rabbitmqctl", "-q", "close_connection", pid, "renkei test: connection kill"],
                capture_output=True,
                timeout=30,
                check=True,
            )
            closed += 1
    return closed


@pytest.fixture
def names(broker_sandbox: BrokerSandbox) -> Names:
    names = Names(broker_sandbox.prefix)
    broker_sandbox.track(renkei_topology(names.prefix, RETRY))
    return names


@pytest.fixture
def transport(broker_sandbox: BrokerSandbox, names: Names) -> Iterator[PikaTransport]:
    transport = PikaTransport(
        broker_sandbox.url,
        connection_name=broker_sandbox.connection_name,
        reconnect_max_s=10,
        connect_timeout_s=5,
    )
    transport.declare(renkei_topology(names.prefix, RETRY))
    yield transport
    transport.close()


@pytest.fixture
def rabbitmqctl() -> None:
    """Skip unless ``rabbitmqctl`` can talk to the node (it needs the node's Erlang cookie)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not available to close connections")
    probe = subprocess.run(
        ["rabbitmqctl", "-q", "list_connections", "pid"], check=False, capture_output=True, timeout=30
    )
    if probe.returncode != 0:
        pytest.skip("rabbitmqctl cannot reach the broker node (not root, or another node)")


@pytest.mark.rabbitmq
@pytest.mark.timeout(20)
def test_stop_event_ends_consume_promptly(transport: PikaTransport, names: Names) -> None:
    transport.publish([ping(names, n) for n in range(5)])
    seen: list[Delivery] = []
    stop = threading.Event()

    def handler(batch: Sequence[Delivery]) -> list[Disposition]:
        seen.extend(batch)
        return [Disposition.ACK] * len(batch)

    worker = threading.Thread(
        target=transport.consume, args=(names.ingress_queue, handler), kwargs={"stop": stop}
    )
    worker.start()
    for attempt in Retrying(stop=stop_after_delay(5), wait=wait_fixed(0.05), reraise=True):
        with attempt:
            assert len(seen) == 5
    stop.set()
    worker.join(timeout=2)

    assert not worker.is_alive()
    assert transport.queue_depth(names.ingress_queue) == (0, 0)


@pytest.mark.rabbitmq
@pytest.mark.timeout(40)
@pytest.mark.usefixtures("rabbitmqctl")
def test_consumer_survives_a_connection_kill_without_losing_messages(
    transport: PikaTransport, names: Names, broker_sandbox: BrokerSandbox
) -> None:
    sent = [ping(names, n) for n in range(300)]
    transport.publish(sent)
    acked: set[str] = set()
    redelivered: set[str] = set()
    first_batch_in, killed, stop = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def handler(batch: Sequence[Delivery]) -> list[Disposition]:
        if not first_batch_in.is_set():
            first_batch_in.set()
            killed.wait(20)  # settle the first batch only after its connection is gone: stale tags
        redelivered.update(d.message_id for d in batch if d.redelivered and d.message_id)
        acked.update(d.message_id for d in batch if d.message_id)
        if len(acked) >= len(sent):
            stop.set()
        return [Disposition.ACK] * len(batch)

    def run() -> None:
        try:
            transport.consume(names.ingress_queue, handler, stop=stop, prefetch=100, batch_size=50)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert first_batch_in.wait(10)
        assert close_connections(f"{broker_sandbox.connection_name}.consumer") == 1
        killed.set()
        worker.join(timeout=25)
    finally:
        killed.set()
        stop.set()
        worker.join(timeout=5)

    assert not errors
    assert acked == {m.message_id for m in sent}
    assert redelivered  # the first batch's acks went nowhere; the new connection got those messages again
    for attempt in Retrying(stop=stop_after_delay(5), wait=wait_fixed(0.1), reraise=True):
        with attempt:
            assert transport.queue_depth(names.ingress_queue) == (0, 0)
    assert transport.queue_depth(names.dead_letter_queue)[0] == 0


@pytest.mark.rabbitmq
@pytest.mark.timeout(30)
@pytest.mark.usefixtures("rabbitmqctl")
def test_publisher_reconnects_after_a_connection_kill(
    transport: PikaTransport, names: Names, broker_sandbox: BrokerSandbox
) -> None:
    transport.publish([ping(names, 0)])
    assert close_connections(f"{broker_sandbox.connection_name}.publisher") == 1

    transport.publish([ping(names, 1)])

    for attempt in Retrying(stop=stop_after_delay(5), wait=wait_fixed(0.05), reraise=True):
        with attempt:
            assert transport.queue_depth(names.ingress_queue) == (2, 0)


@pytest.mark.timeout(15)
def test_consume_gives_up_after_the_reconnect_budget() -> None:
    transport = PikaTransport(CLOSED_PORT_URL, connection_name="renkei-test:unreachable", reconnect_max_s=0.5)

    with pytest.raises(BrokerUnavailable):
        transport.consume("anything", lambda batch: [], stop=threading.Event())


@pytest.mark.timeout(15)
def test_publish_to_an_unreachable_broker_raises_broker_unavailable() -> None:
    transport = PikaTransport(CLOSED_PORT_URL, connection_name="renkei-test:unreachable", publish_retry_s=0)

    with pytest.raises(BrokerUnavailable):
        transport.publish([ping(Names("t"), 0)])


@pytest.mark.timeout(15)
def test_stop_event_ends_consume_while_reconnecting() -> None:
    transport = PikaTransport(CLOSED_PORT_URL, connection_name="renkei-test:unreachable", reconnect_max_s=60)
    stop = threading.Event()
    worker = threading.Thread(
        target=transport.consume, args=("anything", lambda b: []), kwargs={"stop": stop}
    )
    worker.start()
    stop.set()
    worker.join(timeout=3)
    assert not worker.is_alive()


def test_amqps_urls_get_tls_options() -> None:
    params = connection_parameters("amqps://user:pw@broker.example:5671/renkei", "renkei-test")

    assert params.ssl_options is not None
    assert (params.host, params.port, params.virtual_host) == ("broker.example", 5671, "renkei")
    assert params.client_properties is not None
    assert params.client_properties["connection_name"] == "renkei-test"


@pytest.mark.timeout(15)
def test_a_password_the_broker_refuses_is_a_configuration_error_not_an_outage(amqp_url: str) -> None:
    """The permanent path stays permanent: RabbitMQ answers a wrong password with Connection.Close 403."""
    parts = urlsplit(amqp_url)
    wrong = parts._replace(
        netloc=f"renkei-no-such-user-{uuid.uuid4().hex[:8]}:wrong@{parts.hostname}:{parts.port}"
    )
    transport = PikaTransport(urlunsplit(wrong), connection_name="renkei-test:refused", publish_retry_s=0)

    with pytest.raises(ConfigurationError, match=r"refused the credentials|403"):
        transport.publish([ping(Names("t"), 0)])

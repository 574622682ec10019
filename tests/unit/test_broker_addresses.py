"""Several broker addresses: settings, the order they are tried in, and the transport moving on (no I/O).

The sessions are replaced by fakes that "connect" by host and port, so no socket is opened.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pika
import pytest

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker import transport as transport_pika
from hub.infra.broker._addresses import BrokerAddresses
from hub.ports.transport import OutgoingMessage
from hub.settings import Settings

NODES = [f"amqp://guest:guest@127.0.0.1:{port}/%2F" for port in (5681, 5682, 5683)]


def test_amqp_urls_is_split_on_commas_and_replaces_amqp_url() -> None:
    settings = Settings(amqp_urls=f" {NODES[0]}, {NODES[1]} ,{NODES[2]},")

    assert settings.amqp_addresses == tuple(NODES)


def test_without_amqp_urls_the_single_url_is_used() -> None:
    settings = Settings(amqp_url=NODES[1], amqp_urls="")

    assert settings.amqp_addresses == (NODES[1],)


def test_amqp_urls_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENKEI_AMQP_URLS", ",".join(NODES))

    assert Settings().amqp_addresses == tuple(NODES)


def test_a_piece_that_is_not_a_url_is_refused() -> None:
    # A raw comma inside ssl_options would split one URL into two pieces; it must be written as %2C.
    with pytest.raises(ValueError, match="%2C"):
        Settings(amqp_urls="amqps://h:5671/v?ssl_options={'ca_certs': 'a', 'server_hostname': 'b'}")


def _port(params: Any) -> int:
    return int(params.port)


def test_the_first_address_that_answers_is_used_and_remembered() -> None:
    addresses = BrokerAddresses(NODES, "renkei-test")
    down = {5681}
    tried: list[int] = []

    def open_one(params: object) -> int:
        tried.append(_port(params))
        if _port(params) in down:
            raise BrokerUnavailable("connection refused")
        return _port(params)

    assert addresses.open("publisher", open_one) == 5682
    assert addresses.open("consumer", open_one) == 5682, "starts with the address that last worked"
    assert tried == [5681, 5682, 5682]

    down = {5682}
    tried.clear()
    assert addresses.open("consumer", open_one) == 5683
    assert tried == [5682, 5683]
    down = {5683}
    assert addresses.open("publisher", open_one) == 5681, "wraps around"


def test_when_no_address_answers_broker_unavailable_says_how_many_were_tried() -> None:
    addresses = BrokerAddresses(NODES, "renkei-test")
    tried: list[int] = []

    def open_one(params: object) -> int:
        tried.append(_port(params))
        raise BrokerUnavailable("connection refused")

    with pytest.raises(BrokerUnavailable, match="none of 3 broker addresses answered"):
        addresses.open("consumer", open_one)
    assert tried == [5681, 5682, 5683], "each address once per call"


def test_a_configuration_error_is_not_retried_on_the_other_nodes() -> None:
    addresses = BrokerAddresses(NODES, "renkei-test")
    tried: list[int] = []

    def open_one(params: object) -> int:
        tried.append(_port(params))
        raise ConfigurationError("the broker refused the credentials")

    with pytest.raises(ConfigurationError):
        addresses.open("publisher", open_one)
    assert tried == [5681]


def test_connection_names_carry_the_role() -> None:
    addresses = BrokerAddresses(NODES[0], "renkei-hub-1")
    names: list[str] = []

    def open_one(params: pika.URLParameters) -> None:
        names.append((params.client_properties or {})["connection_name"])

    addresses.open("publisher", open_one)
    addresses.open("consumer", open_one)
    assert names == ["renkei-hub-1.publisher", "renkei-hub-1.consumer"]


def test_no_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        BrokerAddresses([], "renkei-test")


class _FakePublisher:
    """A publisher session that 'connects' unless its port is down."""

    down: set[int] = set()  # noqa: RUF012 - test double, set per test
    published: list[tuple[int, list[str]]] = []  # noqa: RUF012

    def __init__(self, params: object, *, max_in_flight: int, timeout_s: float, user: str) -> None:
        del max_in_flight, timeout_s
        self.port = _port(params)
        if self.port in self.down:
            raise BrokerUnavailable("connection refused")
        self.alive = True
        self.admin = self

    def check_exchange(self, exchange: str) -> None:
        del exchange

    def publish(self, messages: list[OutgoingMessage], timeout_s: float) -> None:
        del timeout_s
        if self.port in self.down:
            self.alive = False
            raise BrokerUnavailable("connection lost")
        self.published.append((self.port, [m.message_id for m in messages]))

    def close(self) -> None:
        self.alive = False


def test_the_transport_publishes_through_the_next_node_when_its_node_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_pika, "PublisherSession", _FakePublisher)
    monkeypatch.setattr(_FakePublisher, "down", set())
    monkeypatch.setattr(_FakePublisher, "published", [])
    transport = transport_pika.PikaTransport(NODES, connection_name="renkei-test", publish_retry_s=5)
    message = OutgoingMessage(
        exchange="x",
        routing_key="k",
        body=b"{}",
        message_id=str(uuid.uuid4()),
        message_type="t",
        correlation_id="c",
    )

    transport.publish([message])
    _FakePublisher.down.add(5681)  # the node the publisher is on stops
    transport.publish([message])

    assert [port for port, _ in _FakePublisher.published] == [5681, 5682]
    transport.close()


class _FakeConsumer:
    """A consumer session on a port; ``lost`` makes its next batch fail like a stopped node."""

    down: set[int] = set()  # noqa: RUF012
    opened: list[int] = []  # noqa: RUF012

    def __init__(self, params: object, **_: Any) -> None:
        self.port = _port(params)
        if self.port in self.down:
            raise BrokerUnavailable("connection refused")
        self.opened.append(self.port)

    def next_batch(self, batch_size: int, batch_wait_s: float) -> list[object]:
        del batch_size, batch_wait_s
        if self.port in self.down:
            raise BrokerUnavailable("connection lost")
        return []

    def settle(self, batch: object, dispositions: object) -> None:
        del batch, dispositions

    def close(self) -> None:
        pass


@pytest.mark.timeout(30)
def test_a_consumer_whose_node_stops_reconnects_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport_pika, "ConsumerSession", _FakeConsumer)
    monkeypatch.setattr(transport_pika, "_HEALTHY_SESSION_S", 0.0)  # any session counts as healthy
    monkeypatch.setattr(_FakeConsumer, "down", set())
    monkeypatch.setattr(_FakeConsumer, "opened", [])
    transport = transport_pika.PikaTransport(NODES, connection_name="renkei-test", reconnect_max_s=20)
    stop = threading.Event()
    worker = threading.Thread(target=transport.consume, args=("q", lambda b: []), kwargs={"stop": stop})
    worker.start()
    try:
        _wait_for(lambda: _FakeConsumer.opened == [5681])
        _FakeConsumer.down.add(5681)
        _wait_for(lambda: _FakeConsumer.opened == [5681, 5682])
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()


def _wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    done = threading.Event()
    for _ in range(int(timeout_s / 0.02)):  # bounded
        if condition():
            return
        done.wait(0.02)
    raise AssertionError("condition not met in time")

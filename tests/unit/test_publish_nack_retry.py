"""A nacked publish is retried for ``publish_retry_s`` before the caller hears of it (no I/O).

A quorum queue whose leader was on a stopped node nacks publishes until a new leader is elected. If the
transport raised at once, every consumer that publishes would requeue its delivery at once, and that
loop would spend a message's whole delivery limit in a second (seen on the local cluster: 238 J-LIS
inquiries dead-lettered with ``delivery_limit`` during one node stop).
"""

from __future__ import annotations

import pytest

from contracts.errors import PublishNotConfirmed
from hub.infra.broker import transport as transport_pika
from hub.ports.transport import OutgoingMessage

URL = "amqp://guest:guest@127.0.0.1:5681/%2F"
MESSAGE = OutgoingMessage(
    exchange="x", routing_key="k", body=b"{}", message_id="m-1", message_type="t", correlation_id="c"
)


class _NackingPublisher:
    """Nacks the first ``nacks`` publishes, then confirms."""

    nacks = 0
    attempts = 0

    def __init__(self, params: object, *, max_in_flight: int, timeout_s: float, user: str) -> None:
        del params, max_in_flight, timeout_s
        self.alive = True
        self.admin = self

    def check_exchange(self, exchange: str) -> None:
        del exchange

    def publish(self, messages: list[OutgoingMessage], timeout_s: float) -> None:
        del messages, timeout_s
        type(self).attempts += 1
        if type(self).attempts <= type(self).nacks:
            raise PublishNotConfirmed("the broker nacked message m-1")

    def close(self) -> None:
        self.alive = False


@pytest.fixture
def publisher(monkeypatch: pytest.MonkeyPatch) -> type[_NackingPublisher]:
    monkeypatch.setattr(transport_pika, "PublisherSession", _NackingPublisher)
    monkeypatch.setattr(_NackingPublisher, "attempts", 0)
    return _NackingPublisher


@pytest.mark.timeout(30)
def test_a_nack_is_retried_and_the_publish_succeeds(
    publisher: type[_NackingPublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher, "nacks", 2)
    transport = transport_pika.PikaTransport(URL, connection_name="renkei-test", publish_retry_s=10)

    transport.publish([MESSAGE])

    assert publisher.attempts == 3
    transport.close()


@pytest.mark.timeout(30)
def test_nacks_beyond_the_retry_window_reach_the_caller(
    publisher: type[_NackingPublisher], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publisher, "nacks", 1_000)
    transport = transport_pika.PikaTransport(URL, connection_name="renkei-test", publish_retry_s=0.5)

    with pytest.raises(PublishNotConfirmed):
        transport.publish([MESSAGE])

    assert 1 <= publisher.attempts < 1_000
    transport.close()

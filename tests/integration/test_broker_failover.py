"""PikaTransport with several broker addresses, on the local broker: a dead address is skipped.

The first address is a closed port (as a stopped cluster node is); publishing, consuming and look-ups go
through the second. The cluster test (tests/cluster) stops a real node in the middle of a flow.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

import pytest
from tenacity import Retrying, stop_after_delay, wait_fixed

from hub.infra.broker.topology import Names, renkei_topology
from hub.infra.broker.transport import PikaTransport
from hub.ports.transport import Delivery, Disposition, OutgoingMessage
from hub.settings import RetrySettings
from tests.conftest import BrokerSandbox

pytestmark = pytest.mark.rabbitmq

RETRY = RetrySettings(max_attempts=3, delays_ms=(200,), delivery_limit=5)
CLOSED_PORT_URL = "amqp://guest:guest@127.0.0.1:1/%2F"


@pytest.mark.timeout(30)
def test_a_dead_first_address_is_skipped_for_publishing_and_consuming(broker_sandbox: BrokerSandbox) -> None:
    names = Names(broker_sandbox.prefix)
    topology = broker_sandbox.track(renkei_topology(names.prefix, RETRY))
    transport = PikaTransport(
        [CLOSED_PORT_URL, broker_sandbox.url],
        connection_name=broker_sandbox.connection_name,
        connect_timeout_s=5,
        reconnect_max_s=10,
    )
    try:
        transport.declare(topology)
        sent = [
            OutgoingMessage(
                exchange=names.ingress_exchange,
                routing_key="hub",
                body=b"{}",
                message_id=str(uuid.uuid4()),
                message_type="test.ping",
                correlation_id="c",
            )
            for _ in range(20)
        ]
        transport.publish(sent)
        seen: set[str] = set()
        stop = threading.Event()

        def handler(batch: Sequence[Delivery]) -> list[Disposition]:
            seen.update(d.message_id or "" for d in batch)
            return [Disposition.ACK] * len(batch)

        worker = threading.Thread(
            target=transport.consume, args=(names.ingress_queue, handler), kwargs={"stop": stop}
        )
        worker.start()
        try:
            for attempt in Retrying(stop=stop_after_delay(10), wait=wait_fixed(0.05), reraise=True):
                with attempt:
                    assert seen == {m.message_id for m in sent}
        finally:
            stop.set()
            worker.join(timeout=5)
        assert not worker.is_alive()
        assert transport.queue_depth(names.ingress_queue) == (0, 0)
    finally:
        transport.close()

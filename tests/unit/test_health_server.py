"""A process's /healthz, /readyz and /metrics (hub/infra/observability/health_server.py) on a ServiceGroup.

The group runs on the in-memory transport: the consumer reports when it is up, handled messages are
counted by outcome, periodic tasks make the process unready when they stop succeeding, and a failing
database check makes it unready too.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Sequence

import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from hub.infra.broker.topology import Names
from hub.infra.memory.transport import InMemoryTransport
from hub.infra.observability.health_server import HealthServer, serve_health, watch_database
from hub.infra.runner import ServiceGroup
from hub.ports.transport import (
    Delivery,
    Disposition,
    ExchangeSpec,
    OutgoingMessage,
    QueueSpec,
    Topology,
)

DEADLINE_S = 10.0


def get(server: HealthServer, path: str) -> tuple[int, str]:
    host, port = server.address
    try:
        with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def eventually(condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    pytest.fail(f"not within {DEADLINE_S} s: {what}")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def world() -> Iterator[tuple[InMemoryTransport, Names, str]]:
    transport = InMemoryTransport()
    names = Names(f"t{uuid.uuid4().hex[:8]}")
    queue = f"{names.prefix}.work"
    transport.declare(
        Topology(
            exchanges=(
                ExchangeSpec(names.ingress_exchange),
                ExchangeSpec(names.dead_letter_exchange, "fanout"),
            ),
            queues=(
                QueueSpec(
                    queue,
                    arguments={"x-dead-letter-exchange": names.dead_letter_exchange},
                    bindings=((names.ingress_exchange, "hub"),),
                ),
                QueueSpec(names.dead_letter_queue, bindings=((names.dead_letter_exchange, ""),)),
            ),
        )
    )
    yield transport, names, queue
    transport.close()


def message(names: Names, message_type: str, n: int) -> OutgoingMessage:
    return OutgoingMessage(
        exchange=names.ingress_exchange,
        routing_key="hub",
        body=b"{}",
        message_id=f"m{n}",
        message_type=message_type,
        correlation_id=f"c{n}",
    )


def test_ready_once_the_consumer_is_up_and_counts_what_it_handled(world):
    transport, names, queue = world
    service = f"svc-{uuid.uuid4().hex[:6]}"
    group = ServiceGroup()

    def handler(batch: Sequence[Delivery]) -> list[Disposition]:
        # The first delivery is accepted, the others rejected to the dead-letter exchange.
        return [Disposition.ACK if d.message_id == "m0" else Disposition.DEAD_LETTER for d in batch]

    group.consume(service, transport, queue, handler, prefetch=10, batch_size=10, batch_wait_s=0.0)
    server = serve_health(group, "hub", "127.0.0.1", 0, base=CollectorRegistry())
    assert server is not None
    try:
        status, body = get(server, "/readyz")
        assert status == 503
        assert json.loads(body)["status"] == "fail"  # not started yet
        group.start()
        eventually(lambda: get(server, "/readyz")[0] == 200, "ready")
        ready = json.loads(get(server, "/readyz")[1])
        assert ready["role"] == "hub"
        assert {(c["name"], c["kind"], c["status"]) for c in ready["checks"]} == {(service, "consumer", "ok")}
        assert get(server, "/healthz") == (200, json.dumps({"status": "ok", "role": "hub"}))

        transport.publish([message(names, "pension.survival_inquiry.requested", n) for n in range(3)])
        eventually(lambda: transport.queue_depth(names.dead_letter_queue)[0] == 2, "two dead letters")
        from prometheus_client import REGISTRY

        # The process's counters live in the default registry; this server was given an empty base.
        assert "renkei_messages_handled_total" not in get(server, "/metrics")[1]
        text = get(server, "/metrics")[1]
        assert samples(text)[("renkei_ready", ())] == 1.0

        full = serve_health(group, "hub", "127.0.0.1", 0, base=REGISTRY)
        assert full is not None
        try:
            found = samples(get(full, "/metrics")[1])
        finally:
            full.close()
        kind = "pension.survival_inquiry.requested"
        handled = "renkei_messages_handled_total"
        assert found[(handled, (("message_type", kind), ("outcome", "ack"), ("service", service)))] == 1
        assert (
            found[(handled, (("message_type", kind), ("outcome", "dead_letter"), ("service", service)))] == 2
        )
        assert found[("renkei_consumer_up", (("service", service),))] == 1
        assert found[("renkei_batch_size_count", (("service", service),))] >= 1
        assert found[("renkei_handler_seconds_count", (("service", service),))] >= 1
    finally:
        group.shutdown()
        server.close()
    assert group.readiness().ok is False  # the consumer is down once the group stops


def test_a_task_that_stops_succeeding_makes_the_process_unready():
    now = [1000.0]
    group = ServiceGroup(clock=lambda: now[0])
    failing = threading.Event()

    def task() -> int:
        if failing.is_set():
            raise RuntimeError("the directory is gone")
        return 2

    group.every(f"poller-{uuid.uuid4().hex[:6]}", 0.01, task, stale_after_s=30)
    group.start()
    try:
        eventually(lambda: "last success" in group.readiness().checks[0].detail, "a first run")
        assert group.readiness().ok
        failing.set()
        time.sleep(0.05)
        assert group.readiness().ok  # still within 30 s of the last success
        assert "the last run failed" in group.readiness().checks[0].detail
        now[0] += 31
        check = group.readiness().checks[0]
        assert (check.ok, check.kind) == (False, "task")
        failing.clear()
        eventually(lambda: group.readiness().ok, "ready again after a success")
    finally:
        group.shutdown()


def test_a_database_that_does_not_answer_makes_the_hub_unready(tmp_path, world):
    transport, _, queue = world
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}")  # its directory does not exist
    group = ServiceGroup()
    group.consume(
        "c", transport, queue, lambda b: [Disposition.ACK] * len(b), prefetch=1, batch_size=1, batch_wait_s=0
    )
    watch_database(group, engine)
    group.start()
    server = serve_health(group, "hub", "127.0.0.1", 0, base=CollectorRegistry())
    assert server is not None
    try:
        eventually(lambda: any(c.name == "c" and c.ok for c in group.readiness().checks), "consumer up")
        status, body = get(server, "/readyz")
        assert status == 503
        [database] = [c for c in json.loads(body)["checks"] if c["name"] == "database"]
        assert database == {
            "name": "database",
            "kind": "database",
            "status": "fail",
            "detail": "failed: OperationalError",
        }
        assert samples(get(server, "/metrics")[1])[("renkei_state_up", ())] == 0.0
        assert get(server, "/healthz")[0] == 200  # alive, though not ready
        assert get(server, "/nothing")[0] == 404
    finally:
        group.shutdown()
        server.close()
        engine.dispose()


def test_a_dead_thread_makes_the_process_not_alive(world):
    transport, names, _ = world
    group = ServiceGroup()
    # A queue that does not exist: the consumer thread dies at once with ConfigurationError.
    group.consume(
        "ghost", transport, f"{names.prefix}.missing", lambda b: [], prefetch=1, batch_size=1, batch_wait_s=0
    )
    server = serve_health(group, "adapter jlis", "127.0.0.1", 0, base=CollectorRegistry())
    assert server is not None
    group.start()
    try:
        eventually(lambda: "ghost" in group.failures, "the thread died")
        status, body = get(server, "/healthz")
        assert status == 503
        assert json.loads(body) == {"status": "fail", "role": "adapter jlis", "stopped": ["ghost"]}
    finally:
        group.shutdown()
        server.close()


def test_off_without_a_port():
    assert serve_health(ServiceGroup(), "hub", "127.0.0.1", None) is None


def test_counters_never_fall_between_scrapes():
    registry = CollectorRegistry()
    counter = Counter("renkei_probe", "probe", registry=registry)
    group = ServiceGroup()
    server = serve_health(group, "hub", "127.0.0.1", 0, base=registry)
    assert server is not None
    try:
        seen = []
        for _ in range(3):
            counter.inc()
            seen.append(samples(get(server, "/metrics")[1])[("renkei_probe_total", ())])
        assert seen == [1.0, 2.0, 3.0]
    finally:
        server.close()

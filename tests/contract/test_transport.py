"""One contract for every Transport: the in-memory double and RabbitMQ must behave alike.

``TransportContract`` holds the tests; each subclass supplies ``make_transport`` (and ``pass_time`` for
message TTLs). The RabbitMQ subclass runs on the shared local broker under a unique prefix per test.
"""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

import pytest
from tenacity import Retrying, stop_after_delay, wait_fixed

from contracts.errors import BrokerUnavailable, ConfigurationError, SenderNotPermitted, Unroutable
from hub.core.runtime.body_limits import BodyLimits
from hub.infra.broker.topology import Names, apply_topology, renkei_topology, retry_delay_ms
from hub.infra.memory.transport import InMemoryTransport, ManualClock
from hub.ports.transport import (
    Delivery,
    Disposition,
    ExchangeSpec,
    HeaderValue,
    OutgoingMessage,
    QueueSpec,
    Topology,
    Transport,
)
from hub.settings import RetrySettings, Settings

if TYPE_CHECKING:
    from tests.conftest import BrokerSandbox

RETRY = RetrySettings(max_attempts=3, delays_ms=(200,), delivery_limit=2)
TIMEOUT_S = 8.0


def message(
    names: Names,
    *,
    n: int = 0,
    exchange: str | None = None,
    routing_key: str = "hub",
    headers: Mapping[str, HeaderValue] | None = None,
) -> OutgoingMessage:
    return OutgoingMessage(
        exchange=names.ingress_exchange if exchange is None else exchange,
        routing_key=routing_key,
        body=f'{{"n": {n}}}'.encode(),
        message_id=str(uuid.uuid4()),
        message_type="test.ping",
        correlation_id=str(uuid.uuid4()),
        headers=dict(headers or {}),
    )


def take(
    transport: Transport,
    queue: str,
    count: int,
    decide: Callable[[Delivery], Disposition] = lambda _d: Disposition.ACK,
    *,
    batch_size: int = 200,
    timeout_s: float = TIMEOUT_S,
) -> list[Delivery]:
    """Consume ``queue`` until ``count`` deliveries were seen (or the timeout); settle each by ``decide``."""
    seen: list[Delivery] = []
    stop = threading.Event()

    def handler(batch: Sequence[Delivery]) -> list[Disposition]:
        assert len(batch) <= batch_size
        seen.extend(batch)
        if len(seen) >= count:
            stop.set()
        return [decide(d) for d in batch]

    timer = threading.Timer(timeout_s, stop.set)
    timer.start()
    try:
        transport.consume(queue, handler, stop=stop, prefetch=50, batch_size=batch_size, batch_wait_s=0.05)
    finally:
        timer.cancel()
    return seen


def eventually(check: Callable[[], object], timeout_s: float = TIMEOUT_S) -> None:
    for attempt in Retrying(stop=stop_after_delay(timeout_s), wait=wait_fixed(0.05), reraise=True):
        with attempt:
            assert check()


def first_death(delivery: Delivery) -> dict[str, object]:
    deaths = delivery.headers["x-death"]
    assert isinstance(deaths, list)
    assert deaths
    return dict(deaths[0])


@pytest.mark.timeout(30)
class TransportContract:
    """The behaviour renkei relies on. Subclasses provide ``make_transport`` and ``pass_time``."""

    @pytest.fixture
    def make_transport(self) -> Callable[..., Transport]:
        """A new transport; keyword arguments (``body_limits``) go to its constructor."""
        raise NotImplementedError

    @pytest.fixture
    def pass_time(self) -> Callable[[float], None]:
        """Let ``seconds`` pass for message TTLs (a real broker's clock runs by itself)."""
        return lambda seconds: None

    @pytest.fixture
    def names(self) -> Names:
        return Names(f"t{uuid.uuid4().hex[:8]}")

    @pytest.fixture
    def topology(self, names: Names) -> Topology:
        return renkei_topology(names.prefix, RETRY)

    @pytest.fixture
    def transport(self, make_transport: Callable[..., Transport], topology: Topology) -> Iterator[Transport]:
        transport = make_transport()
        transport.declare(topology)
        yield transport
        transport.close()

    def test_round_trip_keeps_body_ids_and_headers(self, transport: Transport, names: Names) -> None:
        sent = message(
            names, n=7, headers={"x-hub-attempt": 2, "replayed": True, "origin": "pension", "none": None}
        )
        transport.publish([sent])

        [got] = take(transport, names.ingress_queue, 1)

        assert got.body == sent.body
        assert (got.message_id, got.message_type, got.correlation_id) == (
            sent.message_id,
            sent.message_type,
            sent.correlation_id,
        )
        assert {k: got.headers.get(k) for k in sent.headers} == dict(sent.headers)
        assert (got.queue, got.exchange, got.routing_key) == (
            names.ingress_queue,
            names.ingress_exchange,
            "hub",
        )
        assert not got.redelivered
        eventually(lambda: transport.queue_depth(names.ingress_queue)[0] == 0)

    def test_a_body_over_its_limit_arrives_cut_to_the_limit_with_its_size(
        self, make_transport: Callable[..., Transport], topology: Topology, names: Names
    ) -> None:
        transport = make_transport(body_limits=BodyLimits(1024, MappingProxyType({"test.bulk": 4096})))
        try:
            transport.declare(topology)
            small = message(names, n=1)
            big = dataclasses.replace(message(names, n=2), body=b"x" * 3000)
            bulk = dataclasses.replace(message(names, n=3), body=b"y" * 3000, message_type="test.bulk")
            transport.publish([small, big, bulk])
            got = {d.message_id: d for d in take(transport, names.ingress_queue, 3)}
        finally:
            transport.close()
        assert (got[small.message_id].body, got[small.message_id].arrived_size) == (small.body, None)
        assert got[big.message_id].body == b"x" * 1024
        assert (got[big.message_id].arrived_size, got[big.message_id].size) == (3000, 3000)
        assert (got[bulk.message_id].body, got[bulk.message_id].size) == (bulk.body, 3000)

    def test_default_exchange_routes_by_queue_name(self, transport: Transport, names: Names) -> None:
        transport.publish([message(names, exchange="", routing_key=names.adapter_queue("eltax"))])

        [got] = take(transport, names.adapter_queue("eltax"), 1)

        assert got.routing_key == names.adapter_queue("eltax")

    def test_unroutable_raises_and_the_routable_rest_is_delivered(
        self, transport: Transport, names: Names
    ) -> None:
        good = message(names, n=1)
        lost = message(names, n=2, exchange=names.route_exchange, routing_key="nobody")

        with pytest.raises(Unroutable, match=lost.message_id):
            transport.publish([good, lost])

        [got] = take(transport, names.ingress_queue, 1)
        assert got.message_id == good.message_id

    def test_missing_exchange_raises_unroutable(self, transport: Transport, names: Names) -> None:
        with pytest.raises(Unroutable):
            transport.publish([message(names, exchange=f"{names.prefix}.nowhere")])
        transport.publish([message(names)])  # the transport is still usable

    def test_dead_letter_lands_in_dead_letter_queue_with_reason(
        self, transport: Transport, names: Names
    ) -> None:
        sent = message(names, n=3, headers={"reason": "bad"})
        transport.publish([sent])

        take(transport, names.ingress_queue, 1, lambda _d: Disposition.DEAD_LETTER)
        [dead] = take(transport, names.dead_letter_queue, 1)

        assert (dead.message_id, dead.body) == (sent.message_id, sent.body)
        assert dead.headers.get("reason") == "bad"
        death = first_death(dead)
        assert (death["reason"], death["queue"]) == ("rejected", names.ingress_queue)
        assert dead.headers["x-first-death-queue"] == names.ingress_queue
        assert dead.headers["x-first-death-reason"] == "rejected"
        assert dead.user_id == transport.user  # the broker keeps the publisher's user when it dead-letters

    # -- Validated User-ID: every message names its publisher, and no publisher can name another --------

    def test_every_delivery_carries_the_user_that_published_it(
        self, transport: Transport, names: Names
    ) -> None:
        transport.publish([message(names, n=1), message(names, n=2)])

        got = take(transport, names.ingress_queue, 2)

        assert transport.user
        assert [d.user_id for d in got] == [transport.user, transport.user]

    def test_a_message_naming_its_own_user_is_published(self, transport: Transport, names: Names) -> None:
        sent = message(names)
        transport.publish([dataclasses.replace(sent, user_id=transport.user)])

        [got] = take(transport, names.ingress_queue, 1)

        assert (got.message_id, got.user_id) == (sent.message_id, transport.user)

    def test_a_message_naming_another_user_is_refused_and_nothing_of_its_batch_is_published(
        self, transport: Transport, names: Names
    ) -> None:
        honest = message(names, n=1)
        forged = dataclasses.replace(message(names, n=2), user_id=f"{transport.user}-other")

        with pytest.raises(SenderNotPermitted, match="user_id"):
            transport.publish([honest, forged])

        assert transport.queue_depth(names.ingress_queue)[0] == 0
        transport.publish([honest])  # the transport is still usable
        [got] = take(transport, names.ingress_queue, 1)
        assert (got.message_id, got.user_id) == (honest.message_id, transport.user)

    def test_crashing_handler_dead_letters_after_the_delivery_limit(
        self, transport: Transport, names: Names
    ) -> None:
        sent = message(names)
        transport.publish([sent])
        deliveries: list[Delivery] = []
        stop = threading.Event()

        def crash(batch: Sequence[Delivery]) -> list[Disposition]:
            deliveries.extend(batch)
            if len(deliveries) >= RETRY.delivery_limit + 1:
                stop.set()
            raise RuntimeError("handler bug")

        timer = threading.Timer(TIMEOUT_S, stop.set)
        timer.start()
        try:
            transport.consume(names.ingress_queue, crash, stop=stop, prefetch=10, batch_size=10)
        finally:
            timer.cancel()

        # Delivered once plus once per allowed redelivery, then dead-lettered: never lost, never looping.
        assert [d.message_id for d in deliveries] == [sent.message_id] * (RETRY.delivery_limit + 1)
        assert [d.redelivered for d in deliveries] == [False] + [True] * RETRY.delivery_limit
        [dead] = take(transport, names.dead_letter_queue, 1)
        assert dead.message_id == sent.message_id
        assert first_death(dead)["reason"] == "delivery_limit"
        assert dead.headers["x-first-death-queue"] == names.ingress_queue
        eventually(lambda: transport.queue_depth(names.ingress_queue)[0] == 0)

    def test_retry_tier_returns_message_to_its_queue_after_the_ttl(
        self, transport: Transport, names: Names, pass_time: Callable[[float], None]
    ) -> None:
        tier = names.retry_exchange(RETRY.delays_ms[0])
        sent = message(names, exchange=tier, routing_key=names.ingress_queue, headers={"x-hub-attempt": 1})
        transport.publish([sent])
        pass_time(RETRY.delays_ms[0] / 1000)

        [back] = take(transport, names.ingress_queue, 1)

        assert (back.message_id, back.body, back.headers["x-hub-attempt"]) == (sent.message_id, sent.body, 1)
        assert back.routing_key == names.ingress_queue
        death = first_death(back)
        assert (death["reason"], death["queue"]) == ("expired", names.retry_queue(RETRY.delays_ms[0]))
        assert back.user_id == transport.user  # the retry tier keeps the publisher's user

    def test_batches_settle_each_delivery_by_its_disposition(
        self, transport: Transport, names: Names
    ) -> None:
        sent = [message(names, n=i) for i in range(60)]
        transport.publish(sent)
        doomed = {m.message_id for m in sent[3::10]}
        retried = {m.message_id for m in sent[5::10]}
        requeued: set[str] = set()

        def decide(d: Delivery) -> Disposition:
            assert d.message_id is not None
            if d.message_id in doomed:
                return Disposition.DEAD_LETTER
            if d.message_id in retried and d.message_id not in requeued:
                requeued.add(d.message_id)
                return Disposition.REQUEUE
            return Disposition.ACK

        seen = take(transport, names.ingress_queue, len(sent) + len(retried), decide, batch_size=20)

        assert len(seen) == len(sent) + len(retried)
        assert {d.message_id for d in seen} == {m.message_id for m in sent}
        assert requeued == retried
        for message_id in retried:
            assert [d.redelivered for d in seen if d.message_id == message_id] == [False, True]
        dead = take(transport, names.dead_letter_queue, len(doomed))
        assert {d.message_id for d in dead} == doomed
        eventually(lambda: transport.queue_depth(names.ingress_queue)[0] == 0)

    def test_concurrent_publishers_share_one_transport(self, transport: Transport, names: Names) -> None:
        batches = [[message(names, n=t * 100 + i) for i in range(50)] for t in range(4)]
        errors: list[BaseException] = []

        def publish(batch: list[OutgoingMessage]) -> None:
            try:
                transport.publish(batch)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=publish, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=TIMEOUT_S)

        assert not errors
        seen = take(transport, names.ingress_queue, 200)
        assert {d.message_id for d in seen} == {m.message_id for b in batches for m in b}

    def test_declare_twice_is_fine(self, transport: Transport, topology: Topology, names: Names) -> None:
        transport.declare(topology)
        transport.publish([message(names)])
        eventually(lambda: transport.queue_depth(names.ingress_queue) == (1, 0))

    def test_declare_with_other_arguments_raises_configuration_error(
        self, transport: Transport, names: Names
    ) -> None:
        clash = Topology(exchanges=(), queues=(QueueSpec(names.ingress_queue, {"x-queue-type": "classic"}),))
        with pytest.raises(ConfigurationError):
            transport.declare(clash)
        transport.publish([message(names)])  # the transport is still usable

    def test_queue_depth_counts_ready_messages(self, transport: Transport, names: Names) -> None:
        assert transport.queue_depth(names.adapter_queue("jlis")) == (0, 0)
        transport.publish(
            [message(names, exchange=names.route_exchange, routing_key="jlis") for _ in range(3)]
        )
        eventually(lambda: transport.queue_depth(names.adapter_queue("jlis")) == (3, 0))

    def test_missing_queue_raises_configuration_error(self, transport: Transport, names: Names) -> None:
        with pytest.raises(ConfigurationError):
            transport.queue_depth(f"{names.prefix}.missing")
        with pytest.raises(ConfigurationError):
            transport.consume(f"{names.prefix}.missing", lambda b: [], stop=threading.Event())
        assert transport.queue_depth(names.ingress_queue) == (0, 0)

    def test_stop_event_ends_consume(self, transport: Transport, names: Names) -> None:
        stop = threading.Event()
        worker = threading.Thread(
            target=transport.consume,
            args=(names.ingress_queue, lambda b: [Disposition.ACK] * len(b)),
            kwargs={"stop": stop},
        )
        worker.start()
        eventually(lambda: transport.queue_depth(names.ingress_queue)[1] == 1)
        stop.set()
        worker.join(timeout=3)
        assert not worker.is_alive()

    def test_apply_topology_declares_every_queue(
        self, transport: Transport, topology: Topology, names: Names
    ) -> None:
        settings = Settings(exchange_prefix=names.prefix, retry=RETRY)

        assert apply_topology(transport, settings) == topology
        for queue in topology.queues:
            assert transport.queue_depth(queue.name) == (0, 0)

    def test_publish_after_close_raises_broker_unavailable(self, transport: Transport, names: Names) -> None:
        transport.close()
        with pytest.raises(BrokerUnavailable):
            transport.publish([message(names)])


class TestRenkeiTopology:
    """The topology as value objects (no broker needed)."""

    def test_names_follow_the_documented_scheme(self) -> None:
        names = Names("renkei")
        assert (names.ingress_exchange, names.ingress_queue) == ("renkei.ingress", "renkei.hub.ingress")
        assert (names.route_exchange, names.adapter_queue("pension")) == (
            "renkei.route",
            "renkei.adapter.pension",
        )
        assert names.counterpart_queue("jlis", "outbound") == "renkei.counterpart.jlis.outbound"
        assert names.counterpart_routing_key("eltax", "inbound") == "eltax.inbound"
        assert names.retry_exchange(5_000) == names.retry_queue(5_000) == "renkei.retry.5000ms"
        assert (names.dead_letter_exchange, names.dead_letter_queue) == ("renkei.dead", "renkei.dead_letter")

    def test_every_work_queue_dead_letters_at_least_once_with_a_delivery_limit(self) -> None:
        topology = renkei_topology("renkei", RetrySettings(delivery_limit=7))
        names = Names("renkei")
        work = [q for q in topology.queues if ".retry." not in q.name and q.name != names.dead_letter_queue]

        assert len(work) == 1 + 6 + 5 * 2  # ingress, six adapters, both directions of five lines
        for queue in work:
            assert dict(queue.arguments) == {
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": "renkei.dead",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                "x-delivery-limit": 7,
            }
            assert len(queue.bindings) == 1

    def test_retry_tiers_expire_back_through_the_default_exchange(self) -> None:
        topology = renkei_topology("renkei", RetrySettings(delays_ms=(1_000, 5_000, 1_000)))
        tiers = {q.name: q for q in topology.queues if ".retry." in q.name}
        kinds = {e.name: e.type for e in topology.exchanges}

        assert sorted(tiers) == ["renkei.retry.1000ms", "renkei.retry.5000ms"]
        for delay in (1_000, 5_000):
            queue = tiers[f"renkei.retry.{delay}ms"]
            assert queue.arguments["x-message-ttl"] == delay
            assert queue.arguments["x-dead-letter-exchange"] == ""
            assert "x-dead-letter-routing-key" not in queue.arguments
            assert queue.bindings == ((queue.name, ""),)
            assert kinds[queue.name] == "fanout"
        assert kinds["renkei.dead"] == "fanout"

    def test_retry_delay_of_an_attempt_repeats_the_last_tier(self) -> None:
        retry = RetrySettings(delays_ms=(1_000, 5_000))
        assert [retry_delay_ms(retry, n) for n in (1, 2, 3, 9)] == [1_000, 5_000, 5_000, 5_000]

    @pytest.mark.parametrize("prefix", ["", "has space", "a/b", "x" * 200])
    def test_bad_prefix_is_a_configuration_error(self, prefix: str) -> None:
        with pytest.raises(ConfigurationError):
            renkei_topology(prefix, RETRY)

    def test_bad_names_are_configuration_errors(self) -> None:
        names = Names("renkei")
        with pytest.raises(ConfigurationError):
            names.adapter_queue("mystery")
        with pytest.raises(ConfigurationError):
            names.counterpart_queue("pension", "outbound")  # the pension system has no simulated counterpart
        with pytest.raises(ConfigurationError):
            renkei_topology("renkei", RetrySettings(delays_ms=(0,)))


class TestInMemoryTransport(TransportContract):
    @pytest.fixture
    def clock(self) -> ManualClock:
        return ManualClock()

    @pytest.fixture
    def make_transport(self, clock: ManualClock) -> Callable[..., Transport]:
        return lambda **options: InMemoryTransport(clock=clock, **options)

    @pytest.fixture
    def pass_time(self, clock: ManualClock) -> Callable[[float], None]:
        return clock.advance

    def test_drain_and_run_until_idle(self, names: Names, topology: Topology) -> None:
        transport = InMemoryTransport()
        transport.declare(topology)
        transport.publish([message(names, n=i) for i in range(5)])

        def forward(batch: Sequence[Delivery]) -> list[Disposition]:
            transport.publish(
                [message(names, exchange=names.route_exchange, routing_key="pension") for _ in batch]
            )
            return [Disposition.ACK] * len(batch)

        acked: list[Delivery] = []

        def sink(batch: Sequence[Delivery]) -> list[Disposition]:
            acked.extend(batch)
            return [Disposition.ACK] * len(batch)

        handled = transport.run_until_idle(
            {names.ingress_queue: forward, names.adapter_queue("pension"): sink}
        )

        assert (handled, len(acked)) == (10, 5)
        assert transport.queue_depth(names.ingress_queue) == (0, 0)

    def test_a_transport_for_another_user_shares_the_queues_and_stamps_its_own_user(
        self, names: Names, topology: Topology
    ) -> None:
        hub = InMemoryTransport(user="renkei-hub")
        hub.declare(topology)
        pension = hub.for_user("renkei-adapter-pension")
        pension.publish([message(names)])

        with pytest.raises(SenderNotPermitted):
            pension.publish([dataclasses.replace(message(names), user_id="renkei-adapter-jlis")])
        pension.close()

        [got] = take(hub, names.ingress_queue, 1)
        assert (got.user_id, hub.user, pension.user) == (
            "renkei-adapter-pension",
            "renkei-hub",
            "renkei-adapter-pension",
        )

    def test_topic_exchange_matches_wildcards(self) -> None:
        transport = InMemoryTransport()
        transport.declare(
            Topology(
                exchanges=(ExchangeSpec("events", "topic"),),
                queues=(
                    QueueSpec("all", bindings=(("events", "filing.#"),)),
                    QueueSpec("one", bindings=(("events", "filing.*.done"),)),
                ),
            )
        )
        names = Names("x")
        transport.publish([message(names, exchange="events", routing_key="filing.eltax.done")])
        transport.publish([message(names, exchange="events", routing_key="filing")])
        assert transport.queue_depth("all") == (2, 0)
        assert transport.queue_depth("one") == (1, 0)


@pytest.mark.rabbitmq
class TestPikaTransport(TransportContract):
    @pytest.fixture
    def names(self, broker_sandbox: BrokerSandbox) -> Names:
        return Names(broker_sandbox.prefix)

    @pytest.fixture
    def topology(self, names: Names, broker_sandbox: BrokerSandbox) -> Topology:
        return broker_sandbox.track(renkei_topology(names.prefix, RETRY))

    @pytest.fixture
    def make_transport(self, broker_sandbox: BrokerSandbox) -> Callable[..., Transport]:
        from hub.infra.broker.transport import PikaTransport

        return lambda **options: PikaTransport(
            broker_sandbox.url,
            connection_name=broker_sandbox.connection_name,
            confirm_timeout_s=5,
            reconnect_max_s=5,
            connect_timeout_s=5,
            **options,
        )

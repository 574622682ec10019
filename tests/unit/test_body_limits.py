"""The size limit at the door, for every consumer: the hub's worker, the adapter and simulator hosts and the
dead-letter consumer refuse a body over its type's limit before anything reads it; nothing else is lost.

Bodies here are small (limits of a few KiB); the review's 8 MB body is in test_redaction_review_cases.py,
and the memory of a real consumer in tests/integration/test_body_limit_memory.py.
"""

from __future__ import annotations

import json
import random
import string
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from unittest import mock

import pytest
from pydantic import ValidationError

from contracts.errors import BodyTooLarge
from contracts.individual_number import check_digit
from contracts.link import AdapterOutput, CounterpartFile
from contracts.redaction import find_numbers
from hub.bootstrap.common import body_limits
from hub.core.operator.dead_letter_replay import ActionOutcome
from hub.core.runtime import hosting
from hub.core.runtime.body_limits import DEFAULT_LIMIT, BodyLimits
from hub.core.runtime.hosting import AdapterHost, HostDeps, SimulatorHost
from hub.ports.dead_letters import DeadLetterQuery
from hub.ports.transport import Delivery, Disposition, OutgoingMessage
from hub.settings import BULK_MESSAGE_TYPES, BodyLimitSettings
from tests.unit.test_dlq_fixtures import DlqEnv, make_env

LIMITS = BodyLimits(1024, MappingProxyType({"bulk.kind": 4096}))
KIB = 1024
SMALL = 64 * KIB  # the smallest limit settings allow


def number(seed: int) -> str:
    rng = random.Random(seed)
    base = "".join(rng.choice(string.digits) for _ in range(11))
    return base + str(check_digit(base))


def delivery(body: bytes, message_type: str = "small.kind", *, arrived_size: int | None = None, n: int = 1):
    return Delivery(
        queue="t.adapter.jlis",
        body=body,
        message_id=f"m-{n}",
        message_type=message_type,
        correlation_id=f"c-{n}",
        headers={},
        redelivered=False,
        delivery_tag=n,
        arrived_size=arrived_size,
    )


def test_the_limit_is_the_types_own_or_the_default():
    assert LIMITS.limit_for("bulk.kind") == 4096
    assert LIMITS.limit_for("other") == LIMITS.limit_for(None) == 1024
    assert LIMITS.largest == 4096
    assert LIMITS.check(delivery(b"x" * 1024)) is None
    assert LIMITS.check(delivery(b"x" * 4096, "bulk.kind")) is None
    refused = LIMITS.check(delivery(b"x" * 1025))
    assert isinstance(refused, BodyTooLarge)
    assert (refused.code, refused.size, refused.limit) == ("too_large", 1025, 1024)
    assert "1,025 bytes" in str(refused)
    # The size as it arrived counts, not what a transport kept of it.
    assert LIMITS.check(delivery(b"x" * 10, arrived_size=5000, message_type="bulk.kind")) is not None


def test_a_transport_keeps_no_more_than_the_limit():
    assert LIMITS.cut("small.kind", b"x" * 10) == (b"x" * 10, None)
    assert LIMITS.cut("small.kind", b"x" * 3000) == (b"x" * 1024, 3000)
    assert LIMITS.cut("bulk.kind", b"x" * 3000) == (b"x" * 3000, None)
    with pytest.raises(ValueError, match="at least one byte"):
        BodyLimits(0)


def test_settings_declare_a_default_and_larger_limits_for_the_bulk_kinds(monkeypatch):
    monkeypatch.delenv("RENKEI_BODY_LIMIT_PER_TYPE", raising=False)
    monkeypatch.delenv("RENKEI_BODY_LIMIT_DEFAULT_BYTES", raising=False)
    default = BodyLimitSettings()
    assert default.default_bytes == DEFAULT_LIMIT == 4 * 1024 * 1024
    assert set(default.per_type) == set(BULK_MESSAGE_TYPES)
    assert "pension.survival_inquiry.requested" in default.per_type
    assert min(default.per_type.values()) > default.default_bytes
    monkeypatch.setenv("RENKEI_BODY_LIMIT_PER_TYPE", json.dumps({"pension.x": 100_000}))
    monkeypatch.setenv("RENKEI_BODY_LIMIT_DEFAULT_BYTES", "200000")
    assert BodyLimitSettings().per_type == {"pension.x": 100_000}
    assert BodyLimitSettings().largest == 200_000
    with pytest.raises(ValidationError):
        BodyLimitSettings(per_type={"pension.x": 10})


# -- hosts --------------------------------------------------------------------------------------------------


@dataclass
class CountingAdapter:
    name: str = "jlis"
    seen: list[str] = field(default_factory=list)

    def from_hub(self, message) -> AdapterOutput:
        self.seen.append(message)
        return AdapterOutput()

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        self.seen.append(file.name)
        return AdapterOutput()


@dataclass
class CountingSimulator:
    name: str = "jlis"
    seen: list[str] = field(default_factory=list)

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        self.seen.append(file.name)
        return []


@pytest.fixture
def env(tmp_path):
    settings = BodyLimitSettings(default_bytes=SMALL, per_type={"bulk.kind": 4 * SMALL})
    env = make_env(tmp_path, body_limit=settings)
    yield env
    env.hub.close()


def host_deps(env: DlqEnv) -> HostDeps:
    # The limits from settings, as the adapter and simulator roots wire them.
    hub = env.hub
    return HostDeps(env.mem, hub.exchanges, hub.retry, hub.link_cipher(), body_limits(env.settings))


def dead_copies(env: DlqEnv) -> list[Delivery]:
    return env.mem.ready(env.names.dead_letter_queue)


def test_an_adapter_host_dead_letters_an_over_limit_body_unread_and_handles_its_neighbours(env):
    a = number(1)
    adapter = CountingAdapter()
    host = AdapterHost(adapter, host_deps(env))
    big = f'{{"note": "{a}"}}'.encode() + b" " * SMALL
    batch = [delivery(b"{}", n=1), delivery(big, n=2), delivery(b"{}", n=3)]
    decoded: list[int] = []

    def decode(body: bytes) -> str:
        decoded.append(len(body))
        return body.decode()

    with mock.patch.object(hosting, "decode", decode):
        dispositions = host.from_hub(batch)
    assert dispositions == [Disposition.ACK] * 3
    assert decoded == [2, 2], "the large body never reached the decoder"
    assert adapter.seen == ["{}", "{}"]
    [copy] = dead_copies(env)
    assert copy.headers["x-renkei-reason"] == "too_large"
    assert copy.headers["x-renkei-body-size"] == len(big)
    assert len(copy.body) == SMALL
    assert not find_numbers(copy.body.decode(), embedded=True)


def test_a_link_host_and_a_simulator_host_refuse_an_over_limit_file_before_opening_it(env):
    deps = host_deps(env)
    opened: list[int] = []

    def open_file(body: bytes) -> CounterpartFile:
        opened.append(len(body))
        return CounterpartFile("jlis", "f", b"", "c")

    link = mock.Mock(open=open_file)
    deps = replace(deps, link=link)
    adapter, simulator = CountingAdapter(), CountingSimulator()
    big = delivery(b"x" * (SMALL + 1), "jlis.file", n=2)
    assert (
        AdapterHost(adapter, deps).from_counterpart([delivery(b"y", "jlis.file"), big])
        == [Disposition.ACK] * 2
    )
    assert SimulatorHost(simulator, deps)([big]) == [Disposition.ACK]
    assert opened == [1], "only the small file was opened"
    assert [d.headers["x-renkei-reason"] for d in dead_copies(env)] == ["too_large", "too_large"]


def test_a_declared_bulk_kind_may_be_larger(env):
    adapter = CountingAdapter()
    with mock.patch.object(hosting, "decode", return_value="decoded"):
        AdapterHost(adapter, host_deps(env)).from_hub([delivery(b"x" * 3 * SMALL, "bulk.kind")])
    assert adapter.seen == ["decoded"]
    assert dead_copies(env) == []


# -- the hub's worker and the dead-letter consumer ----------------------------------------------------------


def send_big(env, size: int = SMALL + 1000) -> None:
    env.mem.publish(
        [OutgoingMessage(env.names.ingress_exchange, "hub", b"z" * size, "m-big", "small.kind", "m-big")]
    )


def test_the_worker_records_the_refusal_and_the_store_keeps_the_size(env):
    send_big(env)
    env.run(env.worker({}))
    [dead] = env.dead_letters()
    assert (dead.failure.reason_code, dead.failure.stage) == ("too_large", "decode")
    assert dead.headers["x-renkei-body-size"] == SMALL + 1000
    assert dead.body == b"z" * SMALL
    [record] = env.records("dead_lettered")
    assert record.reason == "too_large"


def test_the_dead_letter_consumer_keeps_an_over_limit_dead_letter_cut_and_names_why(env):
    a = number(2)
    consumer = env.consumer()
    body = f"{a} ".encode() * 6000  # 78,000 bytes, straight to the dead-letter exchange
    headers = {"x-death": [{"reason": "rejected", "queue": env.names.ingress_queue, "count": 1}]}
    env.mem.publish(
        [
            OutgoingMessage(
                env.names.dead_letter_exchange,
                "",
                body,
                "m-x",
                "t",
                "m-x",
                headers,  # type: ignore[arg-type]  # x-death, the broker's own list of tables, faked
            )
        ]
    )
    env.mem.run_until_idle({env.names.dead_letter_queue: consumer})
    [dead] = env.dead_letters()
    assert dead.failure.reason_code == "too_large"
    assert "78,000 bytes" in dead.failure.reason_text
    assert "dead-lettered as rejected" in dead.failure.reason_text
    assert len(dead.body) == SMALL
    assert a.encode() not in dead.body


def test_replay_skips_a_dead_letter_whose_body_was_cut(env):
    send_big(env)
    env.run(env.worker({}))
    report = env.operations().replay(DeadLetterQuery(), operator="ops", reason="try again")
    [result] = report.results
    assert result.outcome is ActionOutcome.SKIPPED
    assert "send it again" in result.detail
    assert env.mem.queue_depth(env.names.ingress_queue) == (0, 0)


def test_the_bench_hands_the_limits_to_its_services_as_settings_they_read(monkeypatch):
    from hub.bench.services import settings_env
    from hub.settings import Settings

    limits = BodyLimitSettings(default_bytes=SMALL, per_type={"pension.x": 2 * SMALL}, kept_bytes=KIB)
    env = settings_env(Settings(body_limit=limits))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings().body_limit == limits

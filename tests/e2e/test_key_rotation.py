"""Key rotation without an outage: rotate, re-wrap and retire while the hub, adapters and simulators run.

The whole deployment runs on the real broker (:func:`hub.demo.deployment.local_deployment`), each service with
its own keyring file. Half of the flows start; once the hub has sealed numbers under the old keys, every key
that can rotate gets a new version (the KEK, every recipient's sealing key pair, every link key) and the data
keys are re-wrapped while the services keep running; then the other flows start. Nothing may be
dead-lettered or lost, and both the old and the new versions must have been used. Afterwards every old
version is retired, and the vault still opens every number.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pika
import pytest
from sqlalchemy import select

from contracts.errors import ConfigurationError
from hub.bootstrap.transports import transient
from hub.cli.keys import KeyInUse, retire_key, rewrap_keys, rotate_keys
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.demo.flow import DemoFlow
from hub.demo.registry import FLOWS
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, Names
from hub.infra.db.tables.vault import numbers, subject_keys
from hub.infra.keys.keyring import RECIPIENTS, KeyKind, KeyName
from hub.infra.keys.keyring_files import deployment_keyring
from hub.infra.keys.rotation import queues_carrying
from hub.settings import Settings
from tests._amqp import get
from tests.e2e._running import wait_until
from tests.e2e.conftest import amqp_url

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 60
BEFORE = ("survival_inquiry", "payment_report", "info_query")
AFTER = ("number_acquisition", "dependants_declaration", "special_collection", "duplicate_data")


class RouteSpy:
    """A copy of every message the hub routes to the adapters, read from a queue of the test's own.

    The outbox keeps no body once the broker confirmed it (erasure), so the test looks at what the hub sent
    on the wire instead: a classic exclusive queue bound to the route exchange with every adapter's key.
    """

    def __init__(self, settings) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(amqp_url()))
        self._channel = self._connection.channel()
        queue = self._channel.queue_declare("", exclusive=True).method.queue
        assert queue, "the broker names a queue declared without a name"
        self._queue = queue
        route = Names(settings.exchange_prefix).route_exchange
        for adapter in ADAPTERS:
            self._channel.queue_bind(self._queue, route, routing_key=adapter)
        self.bodies: list[bytes] = []

    def sealed_under(self, keys: dict[str, str]) -> int:
        """Routed messages holding a number sealed for one of the recipients under the key id given for it."""
        while True:
            got = get(self._channel, self._queue)
            if got is None:
                break
            self.bodies.append(got.body)
        markers = [f"sealed:v2:{recipient}:{key_id}:".encode() for recipient, key_id in keys.items()]
        return sum(1 for body in self.bodies if any(m in body for m in markers))

    def close(self) -> None:
        self._connection.close()


def _current_ids(keyring) -> dict[str, str]:
    return {r: keyring.sealing_keys(r).current.key_id for r in ("jlis", "intermediate_server", "eltax")}


def _in_flight(hub: LocalDeployment, settings: Settings) -> dict[str, int]:
    """Messages waiting where numbers sealed for the hub travel (its ingress, retry tiers, dead letters)."""
    hub_key = KeyName(KeyKind.SEAL_PRIVATE, "hub")
    waiting: dict[str, int] = {}
    with transient(hub.transports, "operator", "in-flight") as transport:
        for queue in queues_carrying(Names(settings.exchange_prefix), hub_key, settings.retry.delays_ms):
            try:
                ready, _ = transport.queue_depth(queue)
            except ConfigurationError:
                continue  # not declared: nothing waits there
            if ready:
                waiting[queue] = ready
    return waiting


def _all_done(flows: list[DemoFlow]) -> bool:
    return all(f.completed() >= f.sent() for f in flows)


@pytest.mark.timeout(300)
def test_rotation_in_three_steps_while_every_flow_runs_loses_nothing(e2e_settings) -> None:
    settings = e2e_settings
    hub = local_deployment(settings, configure_logs=False)
    before: list[DemoFlow] = [FLOWS[name]() for name in BEFORE]
    after: list[DemoFlow] = [FLOWS[name]() for name in AFTER]
    try:
        hub.prepare()
        for flow in (*before, *after):
            flow.prepare(hub, RECORDS)
        old = _current_ids(deployment_keyring(settings))
        dead_before = hub.dead_letter_depth()
        spy = RouteSpy(settings)
        services = hub.services(simulators=True, population=hub.population(RECORDS))
        services.start()
        try:
            for flow in before:
                flow.start(hub, RECORDS)
            wait_until(lambda: spy.sealed_under(old) > 0, timeout_s=60, what="the first seals")
            # Step 1 and step 2 while everything runs: no service is restarted.
            rotated = rotate_keys(settings, kek=True, sealing=RECIPIENTS, links=COUNTERPARTS)
            assert set(rotated.written) >= {"hub", "adapter-jlis", "simulator-jlis", "console", "operator"}
            rewrap_keys(settings)
            for flow in after:
                flow.start(hub, RECORDS)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline and not _all_done([*before, *after]) and not services.failures:
                time.sleep(0.2)
            # What an operator waits for before step 3: nothing sealed for the hub still travelling (a copy
            # in a retry tier, a redelivered duplicate), or retiring the old key is rightly refused.
            wait_until(lambda: not _in_flight(hub, settings), timeout_s=60, what="the hub's queues to drain")
        finally:
            services.shutdown()
        assert not services.failures, sorted(services.failures)
        for flow in (*before, *after):
            counts = flow.finish()
            assert counts.completed == counts.sent, f"{flow.name}: {counts.completed} of {counts.sent}"
            assert counts.duplicates == 0, flow.name
        assert hub.dead_letter_depth() == dead_before, "a message was dead-lettered during the rotation"

        new = _current_ids(deployment_keyring(settings))
        assert not set(new.values()) & set(old.values())
        assert spy.sealed_under(old) > 0
        assert spy.sealed_under(new) > 0  # the running hub switched to the new public keys, no restart
        spy.close()

        # Step 2 again (data keys made in the second before the hub re-read its keyring), then step 3.
        rewrap_keys(settings)
        retired = []
        for key in ["kek", *(f"seal.{r}" for r in RECIPIENTS), *(f"link.{c}" for c in COUNTERPARTS)]:
            try:
                report = retire_key(settings, key, "1", grace=timedelta(0), transports=hub.transports)
            except KeyInUse as exc:  # say what still needs it (the report), not only that something does
                pytest.fail(f"{key} version 1 still in use: {json.dumps(exc.report.as_json())}")
            retired.extend(report.retired)
        final = deployment_keyring(settings)
        for name in final.names():
            if name.kind in (KeyKind.KEK, KeyKind.SEAL_PRIVATE, KeyKind.LINK):
                assert [v.version for v in final.series(name).versions] == [2], name
        assert set(retired) <= final.retired
        for service in ("hub", "adapter-jlis", "adapter-eltax", "simulator-eltax"):
            text = settings.keyring_path_of(service).read_text(encoding="utf-8")
            held = text.split('"retired"')[0]  # an old id is named only among the retired ones
            assert not any(key_id in held for key_id in old.values())
        with hub.engine.connect() as conn:
            assert set(conn.execute(select(subject_keys.c.kek_id)).scalars()) == {final.kek.current.key_id}
            subjects = list(conn.execute(select(numbers.c.subject_id).where(numbers.c.is_current)).scalars())
        with hub.uow_factory()() as uow:
            assert len(uow.vault.numbers_of(subjects)) == len(subjects) > 0  # every number opens after it
    finally:
        hub.close()


def test_retiring_the_current_version_or_one_still_in_use_is_refused(e2e_settings) -> None:
    settings = e2e_settings
    hub = local_deployment(settings, configure_logs=False)
    try:
        hub.prepare()
        hub.enrol_population(hub.population(20), 20)
        with pytest.raises(Exception, match="current"):
            retire_key(settings, "kek", "1", grace=timedelta(0), transports=hub.transports)
        rotate_keys(settings, kek=True)
        with pytest.raises(KeyInUse) as refused:
            retire_key(settings, "kek", "1", grace=timedelta(0), transports=hub.transports)
        assert refused.value.report.usage[0].counts["data keys wrapped by it"] == 20
        with pytest.raises(KeyInUse) as early:
            retire_key(
                settings, "kek", "1", grace=timedelta(minutes=5), transports=hub.transports, dry_run=True
            )
        assert early.value.report.waiting
        assert deployment_keyring(settings).series(KeyName(KeyKind.KEK)).by_version(1) is not None
    finally:
        hub.close()

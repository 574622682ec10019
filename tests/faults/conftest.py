"""Fixtures of the fault suite: a private broker and database server, and deployments of four processes.

The broker and the PostgreSQL cluster are the session's own (see :mod:`tests.faults._broker` and
:mod:`tests.faults._postgres`): the tests restart them, which must not disturb anything else on the
machine, another session of the suite included. Both start once per session, on free ports, and stop at
its end; servers left by a session that died are stopped by the next one. While working on the suite,
``RENKEI_FAULTS_KEEP_SERVERS=1`` keeps one pair (broker on 5690, PostgreSQL on 5491) across sessions
instead; ``RENKEI_FAULTS_DIR`` moves their directories from ``var/faults``. Without the binaries the tests
skip, and fail under ``CI``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import BrokerUnavailable
from hub.demo.deployment import local_deployment
from hub.demo.flow import DemoFlow
from hub.demo.survival import SurvivalFlow
from hub.infra.broker.teardown import delete_topology as delete_flow_topology
from hub.infra.broker.topology import renkei_topology
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._availability import rabbitmq_binaries, unavailable
from tests.faults._broker import PrivateBroker, free_port, reap_stale_nodes
from tests.faults._postgres import PrivatePostgres, postgres_binaries, reap_stale
from tests.faults.harness import SERVICES, Deployment

RECORDS = 10_000
"""Records per fault flow (the issue asks for at least 10,000)."""

_ROOT = Path(os.environ.get("RENKEI_FAULTS_DIR") or Path(__file__).resolve().parents[2] / "var" / "faults")
_KEEP = bool(os.environ.get("RENKEI_FAULTS_KEEP_SERVERS"))


@pytest.fixture(scope="session")
def fault_broker() -> Iterator[PrivateBroker]:
    """The session's own RabbitMQ node on free loopback ports."""
    sbin = rabbitmq_binaries()
    if sbin is None:
        unavailable(
            "RabbitMQ is not installed (/usr/lib/rabbitmq/bin): no private broker for fault tests",
            tests="the fault tests",
        )
    assert sbin is not None
    _ROOT.mkdir(parents=True, exist_ok=True)
    reap_stale_nodes(_ROOT, sbin)
    if _KEEP:
        broker = PrivateBroker(
            _ROOT / "broker-keep", sbin, "renkei-faults-keep@localhost", 5690, 25690, keep=True
        )
    else:
        pid = os.getpid()
        broker = PrivateBroker(
            _ROOT / f"broker-{pid}", sbin, f"renkei-faults-{pid}@localhost", free_port(), free_port()
        )
    try:
        broker.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        broker.shutdown(remove=not _KEEP)
        unavailable(f"the private broker did not start: {exc}", tests="the fault tests")
    yield broker
    if not _KEEP:
        broker.shutdown(remove=True)


@pytest.fixture(scope="session")
def fault_postgres() -> Iterator[PrivatePostgres]:
    """The session's own PostgreSQL cluster on a free loopback port."""
    binaries = postgres_binaries()
    if binaries is None:
        unavailable(
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin): no private cluster",
            tests="the fault tests",
        )
    assert binaries is not None
    _ROOT.mkdir(parents=True, exist_ok=True)
    reap_stale(_ROOT, binaries)
    if _KEEP:
        cluster = PrivatePostgres(_ROOT / "postgres-keep", binaries, 5491, keep=True)
    else:
        cluster = PrivatePostgres(_ROOT / f"postgres-{os.getpid()}", binaries, free_port())
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        cluster.stop(remove=not _KEEP)
        unavailable(f"the private PostgreSQL cluster did not start: {exc}", tests="the fault tests")
    yield cluster
    if not _KEEP:
        cluster.stop(remove=True)


def fault_settings(node: PrivateBroker, data_dir: Path, **overrides: Any) -> Settings:
    """Settings of one fault test: its own prefix and data directory on the private broker.

    Shared broker identity unless ``broker`` says otherwise: the deployments of :func:`deploy` run every
    service as its own broker user; the bad-input corpus publishes as the broker's administrator.
    """
    values: dict[str, Any] = {
        "amqp_url": node.url,
        "broker": BrokerSettings(identity=BrokerIdentity.SHARED),
        "data_dir": data_dir,
        "exchange_prefix": f"f{uuid.uuid4().hex[:8]}",
        "log_json": True,
        "batch_wait_ms": 5,
        # Five tries over about nine seconds: a database restart is over long before they are spent.
        "retry": RetrySettings(max_attempts=5, delays_ms=(200, 500, 1_000, 2_000, 5_000), delivery_limit=20),
    }
    values.update(overrides)
    return Settings(**values)


def delete_topology(url: str, settings: Settings) -> None:
    """Delete a flow's queues and exchanges."""
    topology = renkei_topology(settings.exchange_prefix, settings.retry)
    delete_flow_topology(url, topology, connection_name="renkei-faults-teardown")


@pytest.fixture(scope="session")
def enrolled_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory (keys and SQLite database) with the demo population of :data:`RECORDS` enrolled.

    Enrolling 10,000 people takes seconds; each SQLite deployment starts from a copy of this instead.
    """
    data_dir = tmp_path_factory.mktemp("enrolled") / "var"
    settings = Settings(data_dir=data_dir, exchange_prefix="template")
    hub = local_deployment(settings, configure_logs=False)
    try:
        hub.prepare_database()
        hub.enrol_population(hub.population(RECORDS), RECORDS)
    finally:
        hub.close()
    return data_dir


DeployFactory = Callable[..., Deployment]


@pytest.fixture
def deploy(fault_broker: PrivateBroker, enrolled_data_dir: Path, tmp_path: Path) -> Iterator[DeployFactory]:
    """Build (and prepare) deployments; every process they start is killed when the test ends."""
    made: list[Deployment] = []

    def build(
        records: int = RECORDS,
        *,
        services: tuple[str, ...] = SERVICES,
        flow: Callable[[], DemoFlow] = SurvivalFlow,
        **overrides: Any,
    ) -> Deployment:
        root = tmp_path / f"d{len(made)}"
        per_service = BrokerSettings(identity=BrokerIdentity.PER_SERVICE)
        settings = fault_settings(fault_broker, root / "var", **{"broker": per_service, **overrides})
        if records == RECORDS and not settings.db_url:
            shutil.copytree(enrolled_data_dir, settings.data_dir)
        # Every service as its own broker user on the private node (created here, deleted by close()).
        deployment = Deployment(
            settings, records, root / "logs", services=services, flow=flow, admin=fault_broker.admin()
        )
        made.append(deployment)
        deployment.prepare()
        return deployment

    yield build
    for deployment in made:
        deployment.close()
        # The broker application may be down after a failed restart test; the node is private anyway.
        with contextlib.suppress(BrokerUnavailable):
            delete_topology(fault_broker.url, deployment.settings)

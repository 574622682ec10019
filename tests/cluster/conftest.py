"""Fixtures of the cluster and multi-worker tests: the local three-node cluster, settings, deployments.

The cluster is started once per session by ``scripts/rabbitmq-cluster.sh`` in ``var/cluster-test`` (its
own directory, never the developer's ``var/cluster``) and stopped and deleted at the end (set
``RENKEI_CLUSTER_KEEP=1`` to keep it, and each flow's logs and data, while working on these tests).
Without RabbitMQ installed the cluster tests skip, and fail under ``CI``.

A flow's data directory and process logs live under ``var/cluster-runs``, not pytest's ``tmp_path``:
pytest keeps only the newest three temporary roots of a user, so a concurrent pytest session could delete
a long flow's SQLite file from under its running processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from contracts.errors import BrokerUnavailable
from hub.infra.broker.teardown import delete_topology as delete_flow_topology
from hub.infra.broker.topology import renkei_topology
from hub.infra.broker.users import Rabbitmqctl
from hub.infra.db.scratch import drop_database
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._availability import local_broker_admin, rabbitmq_binaries, unavailable
from tests.cluster._cluster import ROOT, LocalCluster
from tests.cluster._scaled import ScaledDeployment

RECORDS = 10_000
"""Records per flow (the issue asks for at least 10,000)."""

_CLUSTER_DIR = ROOT / "var" / "cluster-test"
_RUNS_DIR = ROOT / "var" / "cluster-runs"
_KEEP = bool(os.environ.get("RENKEI_CLUSTER_KEEP"))


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[LocalCluster]:
    """Three RabbitMQ nodes on 127.0.0.1:5681..5683, stopped and deleted when the session ends."""
    sbin = rabbitmq_binaries()
    if sbin is None:
        unavailable(
            "RabbitMQ is not installed (/usr/lib/rabbitmq/bin): run scripts/ensure-rabbitmq.sh",
            tests="the cluster tests",
        )
    assert sbin is not None
    cluster = LocalCluster(_CLUSTER_DIR, sbin)
    try:
        cluster.start()
    except (RuntimeError, OSError) as exc:
        cluster.destroy()
        unavailable(f"the local cluster did not start: {exc}", tests="the cluster tests")
    try:
        yield cluster
    finally:
        if not _KEEP:
            cluster.destroy()


def scaled_settings(urls: list[str], data_dir: Path, **overrides: Any) -> Settings:
    """Settings of one flow: its own prefix and data directory; small chunks and batches so that the
    work spreads over every worker (500 chunks of 20 records, 10 deliveries a batch); every service its
    own broker user."""
    values: dict[str, Any] = {
        "broker": BrokerSettings(identity=BrokerIdentity.PER_SERVICE),
        "amqp_url": urls[0],
        "amqp_urls": ",".join(urls),
        "data_dir": data_dir,
        "exchange_prefix": f"c{uuid.uuid4().hex[:8]}",
        "log_json": True,
        "chunk_records": 20,
        "prefetch": 20,
        "batch_size": 10,
        "batch_wait_ms": 5,
        # Short retry tiers: a node stop is over in seconds, and the test should not wait minutes.
        "retry": RetrySettings(max_attempts=5, delays_ms=(200, 500, 1_000, 2_000, 5_000), delivery_limit=20),
    }
    values.update(overrides)
    return Settings(**values)


def delete_topology(urls: list[str], settings: Settings) -> None:
    """Delete a flow's queues and exchanges through the first node that answers (best effort)."""
    topology = renkei_topology(settings.exchange_prefix, settings.retry)
    for url in urls:
        try:
            delete_flow_topology(url, topology, connection_name="renkei-cluster-test-teardown")
        except BrokerUnavailable:
            continue
        return


DeployFactory = Callable[..., ScaledDeployment]


def make_deployments(
    urls: list[str], name: str, admin: Rabbitmqctl | None
) -> tuple[DeployFactory, Callable[[], None]]:
    """A factory of prepared deployments, and the clean-up that kills their processes and queues.

    With ``admin``, every service runs as its own broker user (created there, deleted at the clean-up);
    without, with the shared log-in.
    """
    made: list[ScaledDeployment] = []
    run_dir = _RUNS_DIR / f"{name[:40]}-{uuid.uuid4().hex[:6]}"

    def build(records: int = RECORDS, *, hubs: int = 2, jlis: int = 2, **overrides: Any) -> ScaledDeployment:
        root = run_dir / f"d{len(made)}"
        if admin is None:
            overrides = {"broker": BrokerSettings(identity=BrokerIdentity.SHARED), **overrides}
        settings = scaled_settings(urls, root / "var", **overrides)
        deployment = ScaledDeployment(settings, records, root / "logs", hubs=hubs, jlis=jlis, admin=admin)
        made.append(deployment)
        deployment.prepare()
        return deployment

    def cleanup() -> None:
        for deployment in made:
            deployment.close()
            delete_topology(urls, deployment.settings)
        if not _KEEP:
            shutil.rmtree(run_dir, ignore_errors=True)
            with contextlib.suppress(OSError):
                _RUNS_DIR.rmdir()  # only when no other session's run is in it

    return build, cleanup


@pytest.fixture
def cluster_deploy(local_cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[DeployFactory]:
    """Deployments on the local cluster; every process is killed when the test ends."""
    build, cleanup = make_deployments(local_cluster.urls, request.node.name, local_cluster.admin())
    try:
        yield build
    finally:
        cleanup()


@pytest.fixture
def broker_deploy(amqp_url: str, request: pytest.FixtureRequest) -> Iterator[DeployFactory]:
    """Deployments on the shared broker (RENKEI_TEST_AMQP_URL); every process is killed at the end.

    Every service is its own broker user when ``rabbitmqctl`` can reach the broker (this machine's).
    """
    build, cleanup = make_deployments([amqp_url], request.node.name, local_broker_admin(amqp_url))
    try:
        yield build
    finally:
        cleanup()


@pytest.fixture
def fresh_pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database on RENKEI_TEST_PG_URL's server, dropped after the test."""
    base = os.environ.get("RENKEI_TEST_PG_URL", "")
    if not base:
        unavailable(
            "RENKEI_TEST_PG_URL is not set",
            tests="the cluster tests",
        )
    name = f"renkei_mw_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        unavailable(f"cannot create a test database: {exc}", tests="the cluster tests")
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        drop_database(admin, name)

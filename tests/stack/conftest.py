"""Fixtures of the stack test: compose's secrets, a scratch database, the local cluster, the process stack.

Everything is the test's own: the secrets come from ``docker/make-secrets.sh --dir`` into the run's
directory (never ``docker/secrets``), the cluster runs in ``var/stack-test`` (never the developer's
``var/cluster`` nor ``make test-cluster``'s ``var/cluster-test``) on 127.0.0.1:5681-5683 and is stopped and
deleted at the end, and the scratch database is dropped. ``RENKEI_STACK_KEEP=1`` keeps the directory, the
logs and the cluster while working on the test.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub.console.users import hash_token
from hub.infra.db.scratch import drop_database
from tests._availability import rabbitmq_binaries, unavailable
from tests.cluster._cluster import LocalCluster
from tests.stack._compose import read_compose
from tests.stack._stack import ROOT, ProcessStack

_DIR = ROOT / "var" / "stack-test"
_KEEP = bool(os.environ.get("RENKEI_STACK_KEEP"))
_TESTS = "the stack test"


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    """The run's directory, readable by the containers' user (uid 10001)."""
    run = _DIR / f"run-{uuid.uuid4().hex[:6]}"
    run.mkdir(parents=True)
    for path in (_DIR.parent, _DIR, run):
        path.chmod(path.stat().st_mode | 0o011)  # others may pass through (not list)
    try:
        yield run
    finally:
        if not _KEEP:
            shutil.rmtree(run, ignore_errors=True)


@pytest.fixture
def secrets_dir(stack_dir: Path) -> Path:
    """``docker/make-secrets.sh --dir``: every secret compose names, owned and moded as it makes them; and
    a console user, as the operator adds one (an empty users file keeps the console from starting)."""
    target = stack_dir / "secrets"
    result = subprocess.run(
        [str(ROOT / "docker" / "make-secrets.sh"), "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    users = target / "console_users.toml"
    token = secrets.token_urlsafe(24)
    with users.open("w", encoding="utf-8") as out:  # keeps the file's owner and mode
        out.write(
            '[[users]]\nname = "stack-test"\nrole = "viewer"\norg = "federation"\n'
            f'token_hash = "{hash_token(token)}"\n'
        )
    (stack_dir / "console-token").write_text(token, encoding="utf-8")  # the test's, not compose's
    return target


@pytest.fixture
def scratch_db() -> Iterator[str]:
    """A new database on RENKEI_TEST_PG_URL's server, standing in for compose's ``postgres``; dropped."""
    base = os.environ.get("RENKEI_TEST_PG_URL", "")
    if not base:
        unavailable("RENKEI_TEST_PG_URL is not set", tests=_TESTS)
    name = f"renkei_stack_{uuid.uuid4().hex[:10]}"
    admin = base.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    head, _, _ = base.rpartition("/")
    try:
        yield f"{head}/{name}"
    finally:
        drop_database(admin, name)


@pytest.fixture
def stack_cluster() -> Iterator[LocalCluster]:
    """The cluster's handle; the stack starts it in start-up order (with compose's cookie)."""
    sbin = rabbitmq_binaries()
    if sbin is None:
        unavailable(
            "RabbitMQ is not installed (/usr/lib/rabbitmq/bin): run scripts/ensure-rabbitmq.sh", tests=_TESTS
        )
    assert sbin is not None
    cluster = LocalCluster(_DIR / "cluster", sbin)
    cluster.destroy()  # one left by a broken run
    try:
        yield cluster
    finally:
        if not _KEEP:
            cluster.destroy()


@pytest.fixture
def process_stack(
    stack_dir: Path, secrets_dir: Path, scratch_db: str, stack_cluster: LocalCluster
) -> Iterator[ProcessStack]:
    """compose.yaml's services as local processes; every one stopped at the end."""
    compose = read_compose(ROOT / "docker" / "compose.yaml", secrets_dir)
    stack = ProcessStack(compose, stack_dir, stack_cluster, scratch_db, simulator_records=RECORDS)
    try:
        yield stack
    finally:
        stack.down()
        for containers in stack.containers.values():
            for c in containers:
                c.kill()


RECORDS = 100
"""People in each flow (the simulators' register size too)."""

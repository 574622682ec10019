"""The compose stack, booted from ``docker/compose.yaml``, runs every flow through a broker node and a hub
worker stopped mid-flow, and loses and duplicates nothing.

It runs compose's process form (:mod:`tests.stack._stack` says what it reads from the file and what it
maps): on this machine and in CI no Docker engine answers ``docker info``. Where one does, the summary says
so; running ``docker compose up`` on the real file there is not done by this test.

The flow: ``up`` with the simulation and console profiles (broker-definitions, the three nodes,
broker-init's import, init's migration and topology check, two hub workers, the six adapters, J-LIS
twice, the five simulators, the console), each process its own health port; every health check passes.
The test then plays the pension benefit system and the federation's loader (``renkei demo``'s ten flows,
as the operator's environment): the simulated counterparts are paused (SIGSTOP) so that the faults land
while every flow is under way; one hub worker is killed (SIGKILL) and restarted as ``restart:
unless-stopped`` would, the broker node holding most connections is stopped, the counterparts resume, the
node comes back. Once every flow completed: the outbox drains, compose's ``audit-checkpoint`` job signs a
checkpoint, ``renkei audit verify`` (with the checkpoint's public key) passes with nothing uncovered, every
process's ``/readyz`` says ok and its compose health check passes, nothing was dead-lettered; then the
stack stops and the flows' outcome files show every record once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request

import pytest
from sqlalchemy import Executable, func, select

from hub.bootstrap.common import open_database
from hub.bootstrap.transports import pika_transports
from hub.demo.deployment import LocalDeployment
from hub.demo.flow import DemoFlow
from hub.demo.registry import FLOWS
from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.messaging import inbox, outbox
from hub.infra.keys.keyring_files import deployment_keyring
from hub.settings import Settings
from tests.stack._stack import VENV_BIN, ProcessStack
from tests.stack.conftest import RECORDS

pytestmark = [pytest.mark.stack, pytest.mark.slow]

PROFILES = {"simulation", "console"}
_FLOW_TIMEOUT_S = 150


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def operator_settings(stack: ProcessStack, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The operator's settings (init's environment: operator.env and compose's), reaching every service's
    keyring and broker password as the deployment's owner does; its data directory is the pension
    exchange volume, where the pension benefit system drops and collects its files."""
    init = stack.containers["init"][0]
    for key in [k for k in os.environ if k.startswith("RENKEI_") and not k.startswith("RENKEI_TEST_")]:
        monkeypatch.delenv(key)
    for key, value in init.env.items():
        if key.startswith("RENKEI_"):
            monkeypatch.setenv(key, value)
    secrets = stack.run_dir / "secrets"
    monkeypatch.setenv("RENKEI_KEY_FILE", str(secrets / "keys" / "{service}" / "keyring.json"))
    monkeypatch.setenv("RENKEI_BROKER_PASSWORD_FILE", str(secrets / "broker" / "{service}"))
    pension = stack.containers["adapter-pension"][0]
    monkeypatch.setenv("RENKEI_DATA_DIR", pension.env["RENKEI_DATA_DIR"])
    monkeypatch.delenv("RENKEI_HEALTH_PORT", raising=False)
    return Settings()


def console_health(stack: ProcessStack) -> dict[str, object]:
    """The console's view of the deployment (``/api/health``, signed in with the test's viewer token): every
    check ok but the simulators, which must say they run in production (they do: profile simulation)."""
    console = stack.containers["console"][0]
    token = (stack.run_dir / "console-token").read_text(encoding="utf-8")
    request = urllib.request.Request(
        f"http://127.0.0.1:{console.health_port}/api/health", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        health: dict[str, object] = json.loads(answer.read())
    checks = health["checks"]
    assert isinstance(checks, list)

    def as_expected(check: dict[str, object]) -> bool:
        if check["kind"] == "simulator":
            return check["status"] == "warn" and "runs in production" in str(check.get("detail"))
        return check["status"] == "ok"

    wrong = [c for c in checks if not as_expected(c)]
    assert not wrong, f"the console's health: {json.dumps(health, ensure_ascii=False)[:3000]}"
    kinds = {str(c["kind"]) for c in checks}
    assert {"database", "adapter", "simulator"} <= kinds, kinds
    return health


def count(hub: LocalDeployment, query: Executable) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def progress(flows: list[DemoFlow]) -> tuple[int, int]:
    return sum(f.completed() for f in flows), sum(f.sent() for f in flows)


@pytest.mark.timeout(420)
def test_the_compose_stack_runs_every_flow_through_a_node_and_a_hub_stopped_mid_flow(
    process_stack: ProcessStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack = process_stack
    form = (
        "process form (a Docker engine answers, but this test does not run `docker compose up`)"
        if docker_answers()
        else "process form (no Docker engine answers `docker info`)"
    )
    stack.note(f"stack: {form}")
    active = stack.up(PROFILES)

    def all_healthy() -> bool:
        # A process that exits would crash-loop under compose's restart policy and never be healthy.
        assert not stack.died(), f"processes exited at start-up: {stack.died()}\n{stack.diagnosis()}"
        return not stack.unhealthy()

    stack.wait_for(all_healthy, "every service's health check", 150, poll_s=1)
    stack.note(f"every service up and healthy: {', '.join(c.name for c in stack.running())}")

    settings = operator_settings(stack, monkeypatch)
    hub = LocalDeployment(
        settings,
        transports=pika_transports(settings),
        engine=open_database(settings),
        keyring=deployment_keyring(settings),
    )
    simulators = [c for name, cs in stack.containers.items() if name.startswith("simulator-") for c in cs]
    hubs = stack.containers["hub"]
    try:
        flows = [FLOWS[name]() for name in FLOWS]
        for flow in flows:
            flow.prepare(hub, RECORDS)
        dead_before = hub.dead_letter_depth()
        for sim in simulators:  # the counterparts hold their answers until the faults are done
            sim.signal(signal.SIGSTOP)
        for flow in flows:
            flow.start(hub, RECORDS)
        stack.note(f"{len(flows)} flows started: {progress(flows)[1]} records")
        stack.wait_for(
            lambda: count(hub, select(func.count()).select_from(inbox)) >= 4, "the hub's first messages", 90
        )

        # Faults, bounded: a hub worker crashes and restarts; the node with most connections stops.
        victim_hub = hubs[0]
        victim_hub.kill()
        stack.note(f"{victim_hub.name} killed at {progress(flows)} (completed, sent)")
        connections = stack.cluster.connections("renkei-")
        node = max(connections, key=lambda n: connections[n])
        stack.cluster.stop_node(node)
        at_stop = progress(flows)
        stack.note(f"node {node} stopped (connections per node {connections}) at {at_stop}")
        assert at_stop[0] < at_stop[1], "the faults must land while the flows run"
        victim_hub.start()  # restart: unless-stopped
        for sim in simulators:
            sim.signal(signal.SIGCONT)
        stack.cluster.start_node(node)
        stack.note(f"node {node} back, {victim_hub.name} restarted at {progress(flows)}")

        deadline = time.monotonic() + _FLOW_TIMEOUT_S
        while time.monotonic() < deadline and progress(flows)[0] < progress(flows)[1]:
            assert not stack.died(), f"processes died: {stack.died()}\n{stack.diagnosis()}"
            time.sleep(0.5)
        done, sent = progress(flows)
        assert done == sent, f"{done} of {sent} records completed\n{stack.diagnosis()}"
        stack.note(f"every flow completed: {done} records")
        stack.wait_for(
            lambda: (
                count(hub, select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))) == 0
            ),
            "the outbox to drain",
            60,
        )
        dead_lettered = max(0, hub.dead_letter_depth() - dead_before)
        r = access_records.c
        twice = count(
            hub,
            select(func.count()).select_from(
                select(r.message_id)
                .group_by(r.message_id, r.action, r.details)
                .having(func.count() > 1)
                .subquery()
            ),
        )
        assert twice == 0, f"{twice} access records written twice for one message and action"

        stack.run_job("audit-checkpoint")
        verify = subprocess.run(
            [
                str(VENV_BIN / "renkei"),
                "audit",
                "verify",
                "--json",
                "--public-key",
                str(stack.run_dir / "secrets" / "audit-signing.pub.pem"),
            ],
            env=stack.containers["init"][0].env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        verdict = json.loads(verify.stdout or "{}")
        assert verify.returncode == 0, f"{verify.stdout[-2000:]}\n{verify.stderr[-2000:]}"
        assert verdict.get("uncovered_records") == 0, verdict
        assert verdict.get("checkpoints", 0) >= 1, verdict

        ready = stack.readyz()
        not_ok = {name: body for name, body in ready.items() if body.get("status") != "ok"}
        assert not not_ok, f"/readyz not ok: {json.dumps(not_ok, ensure_ascii=False)[:3000]}"
        unhealthy = stack.unhealthy()
        # Logs go to stderr as JSON (compose sets no RENKEI_LOG_FILE); none fills a tmpfs data directory.
        log_files = stack.files_in_mounts("*.log*")
        assert not log_files, f"log files in the containers' tmpfs or volumes: {log_files}"
        hub_log = stack.containers["hub"][1].log.read_text(encoding="utf-8").splitlines()
        assert any(line.startswith('{"event"') for line in hub_log), "the hub logs JSON lines to stderr"
        console = console_health(stack)["status"]
        assert not unhealthy, f"compose health checks failing: {unhealthy}"
    finally:
        stack.down()
        hub.close()

    counts = {flow.name: flow.finish() for flow in flows}
    lost = sum(c.sent - c.completed for c in counts.values())
    duplicates = sum(c.duplicates for c in counts.values())
    print("\n" + "\n".join(stack.events))
    print(
        f"\nstack ({form}): services {len(active)}, processes {len(ready)}, flows {len(counts)}, "
        f"records {sum(c.sent for c in counts.values())}, lost {lost}, duplicates {duplicates} "
        f"(access records twice {twice}), "
        f"dead-lettered {dead_lettered}, audit verify ok ({verdict['records_checked']} records, "
        f"{verdict['checkpoints']} checkpoint(s)), "
        f"readyz ok {len(ready)}/{len(ready)}, console health {console} (simulators in production), "
        f"node {node} and {victim_hub.name} stopped mid-flow at "
        f"{at_stop[0]}/{at_stop[1]}"
    )
    assert lost == 0, counts
    assert duplicates == 0, counts
    assert dead_lettered == 0

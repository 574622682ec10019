"""The console's health tells the truth: a complete production deployment says ok, a missing adapter fails.

Simulators are not expected in production (they used to be, as warnings, so production health never said
ok); in development a missing simulator still warns. /healthz and /readyz answer without a sign-in, for
container health checks, and hold names and statuses only.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS
from hub.settings import Environment
from tests.console_fixtures import ConsoleWorld, console_world, token

__all__ = ["console_world"]


@contextmanager
def consumers(world: ConsoleWorld, queues: list[str]) -> Iterator[None]:
    """A consumer on each of ``queues`` (the in-memory broker counts them), for the block's duration."""
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=world.transport.consume, args=(q, lambda b: []), kwargs={"stop": stop}, daemon=True
        )
        for q in queues
    ]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        stop.set()
        for t in threads:
            t.join(5)


def _health(world: ConsoleWorld, environment: Environment) -> dict[str, Any]:
    root = world.app.state.console.root  # the console's own composition root
    root.settings = root.settings.model_copy(update={"environment": environment})
    with TestClient(world.app) as client:
        world.app.state.console.sampler.sample()
        data: dict[str, Any] = client.get("/api/health", headers=token("vic")).json()
    return data


def _workers(world: ConsoleWorld) -> list[str]:
    n = world.hub.names
    return [
        n.ingress_queue,
        n.dead_letter_queue,
        *(n.adapter_queue(a) for a in ADAPTERS),
    ]


def test_a_complete_production_deployment_is_ok(console_world):
    with consumers(console_world, _workers(console_world)):
        health = _health(console_world, Environment.PRODUCTION)
    assert health["status"] == "ok", health
    assert not [c for c in health["checks"] if c["kind"] == "simulator"]


def test_a_simulator_running_in_production_warns(console_world):
    n = console_world.hub.names
    with consumers(console_world, [*_workers(console_world), n.counterpart_queue("jlis", "outbound")]):
        health = _health(console_world, Environment.PRODUCTION)
    assert health["status"] == "warn"
    [simulator] = [c for c in health["checks"] if c["kind"] == "simulator"]
    assert "runs in production" in simulator["detail"]


def test_in_development_missing_simulators_warn_and_a_missing_adapter_fails(console_world):
    n = console_world.hub.names
    with consumers(console_world, _workers(console_world)):
        health = _health(console_world, Environment.DEVELOPMENT)
    assert health["status"] == "warn"
    simulators = [c for c in health["checks"] if c["kind"] == "simulator"]
    assert len(simulators) == len(COUNTERPARTS)
    assert {c["status"] for c in simulators} == {"warn"}
    workers = [q for q in _workers(console_world) if q != n.adapter_queue("eltax")]
    with consumers(console_world, workers):
        health = _health(console_world, Environment.PRODUCTION)
    assert health["status"] == "fail"
    [eltax] = [c for c in health["checks"] if c["name"] == "adapter eltax"]
    assert eltax["status"] == "fail"


def test_probes_answer_without_a_sign_in(console_world):
    with TestClient(console_world.app) as client:
        assert client.get("/healthz").json() == {"status": "ok", "role": "console"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"][0]["status"] == "ok"
        assert client.get("/api/health").status_code == 401  # the full health still needs a sign-in

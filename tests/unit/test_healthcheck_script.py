"""docker/healthcheck.py (renkei-healthcheck) asks the process's own /readyz, not the broker.

It used to pass when some consumer existed on the queue, which another replica satisfies; now it passes
only when this process's /readyz says ok, from the role its arguments name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from hub.infra.observability.health_server import serve_health
from hub.infra.runner import ServiceGroup

SCRIPT = Path(__file__).resolve().parents[2] / "docker" / "healthcheck.py"


def check(port: int | None, *argv: str) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENKEI_")}
    if port is not None:
        env["RENKEI_HEALTH_PORT"] = str(port)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *argv], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def adapter():
    """A group with one periodic task, serving /readyz as ``adapter jlis``; ``ready`` switches the task."""
    now = [0.0]
    ok = threading.Event()
    ok.set()

    def task() -> None:
        if not ok.is_set():
            raise RuntimeError("down")

    group = ServiceGroup(clock=lambda: now[0])
    group.every(f"t-{uuid.uuid4().hex[:6]}", 0.01, task, stale_after_s=30)
    server = serve_health(group, "adapter jlis", "127.0.0.1", 0, base=CollectorRegistry())
    assert server is not None
    group.start()
    deadline = time.monotonic() + 10
    while "last success" not in group.readiness().checks[0].detail and time.monotonic() < deadline:
        time.sleep(0.02)
    yield server.address[1], ok, now
    group.shutdown()
    server.close()


def test_healthy_when_the_process_itself_is_ready(adapter):
    port, _, _ = adapter
    code, out = check(port, "adapter", "jlis")
    assert (code, out.split(":")[0]) == (0, "healthy"), out


def test_unhealthy_when_the_port_belongs_to_another_role(adapter):
    port, _, _ = adapter
    code, out = check(port, "hub")
    assert code == 1
    assert "'adapter jlis', not 'hub'" in out


def test_unhealthy_when_the_process_is_not_ready(adapter):
    port, ok, now = adapter
    ok.clear()
    now[0] += 60  # the task has not succeeded for a minute
    code, out = check(port, "adapter", "jlis")
    assert code == 1
    assert "unhealthy:" in out
    assert "more than 30 s" in out


def test_unhealthy_when_nothing_answers_or_no_port_is_set():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out = check(port, "simulator", "jlis")
    assert (code, "no answer" in out) == (1, True)
    code, out = check(None, "hub")
    assert code == 1
    assert "RENKEI_HEALTH_PORT is not set" in out

"""What the service-backed tests share: RabbitMQ's binaries, and what to do when a service is missing.

On a developer machine a missing service skips its tests with the reason; under ``CI`` it fails them, so
that a CI run can never pass by skipping what it was meant to test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub.infra.broker.users import Rabbitmqctl

__all__ = ["local_broker_admin", "rabbitmq_binaries", "unavailable"]


def unavailable(reason: str, *, tests: str) -> None:
    """Skip with ``reason``; fail instead when ``CI`` is set (``tests``: which tests must run there)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so {tests} must run)")
    pytest.skip(reason)


def rabbitmq_binaries() -> Path | None:
    """The directory of ``rabbitmq-server`` and ``rabbitmqctl`` (run without the Debian ``su`` wrapper)."""
    sbin = Path(os.environ.get("RABBITMQ_SBIN", "/usr/lib/rabbitmq/bin"))
    return sbin if (sbin / "rabbitmq-server").exists() and (sbin / "rabbitmqctl").exists() else None


def local_broker_admin(amqp_url: str) -> Rabbitmqctl | None:
    """``rabbitmqctl`` for the broker at ``amqp_url`` when it runs on this machine and the CLI reaches it
    (it needs the node's Erlang cookie: root or the rabbitmq user); ``None`` otherwise."""
    if urlsplit(amqp_url).hostname not in {"127.0.0.1", "localhost"} or shutil.which("rabbitmqctl") is None:
        return None
    try:
        ping = subprocess.run(
            ["rabbitmqctl", "-q", "--timeout", "10", "ping"], capture_output=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return None
    return Rabbitmqctl() if ping.returncode == 0 else None

"""What the service-backed tests share: RabbitMQ's binaries, and what to do when a service is missing.

On a developer machine a missing service skips its tests with the reason; under ``CI`` it fails them, so
that a CI run can never pass by skipping what it was meant to test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["rabbitmq_binaries", "unavailable"]


def unavailable(reason: str, *, tests: str) -> None:
    """Skip with ``reason``; fail instead when ``CI`` is set (``tests``: which tests must run there)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so {tests} must run)")
    pytest.skip(reason)


def rabbitmq_binaries() -> Path | None:
    """The directory of ``rabbitmq-server`` and ``rabbitmqctl`` (run without the Debian ``su`` wrapper)."""
    sbin = Path(os.environ.get("RABBITMQ_SBIN", "/usr/lib/rabbitmq/bin"))
    return sbin if (sbin / "rabbitmq-server").exists() and (sbin / "rabbitmqctl").exists() else None

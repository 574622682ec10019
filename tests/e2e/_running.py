"""Helpers for end-to-end tests that run the whole hub on the real broker, with chosen people."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from adapters.jlis import SyntheticPopulation
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.settings import Settings


@contextmanager
def running_hub(settings: Settings, population: SyntheticPopulation) -> Iterator[LocalDeployment]:
    """The hub, every adapter and the simulators as threads on the broker, until the block ends."""
    hub = local_deployment(settings, configure_logs=False)
    hub.prepare()
    services = hub.services(simulators=True, population=population)
    services.start()
    try:
        yield hub
        assert not services.failures, f"services failed: {sorted(services.failures)}"
    finally:
        services.shutdown()
        hub.close()


def wait_until(done: Callable[[], bool], *, timeout_s: float, what: str) -> None:
    """Poll ``done`` every 0.2 s until it holds; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")

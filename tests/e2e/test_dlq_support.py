"""Helpers for the dead-letter and retry tests on the real broker (no test lives here)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_fixed
from typer.testing import CliRunner

from hub.cli.main import app
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.runner import ServiceGroup
from hub.settings import Settings

T = TypeVar("T")

runner = CliRunner()


def cli_env(settings: Settings) -> dict[str, str]:
    """The RENKEI_* environment that points the ``renkei`` command at a test's settings."""
    return {
        "RENKEI_AMQP_URL": settings.amqp_url,
        "RENKEI_BROKER_IDENTITY": settings.broker_identity.value,  # the hub's, as an operator's would be
        "RENKEI_DATA_DIR": str(settings.data_dir),
        "RENKEI_DB_URL": settings.database_url,
        "RENKEI_EXCHANGE_PREFIX": settings.exchange_prefix,
        "RENKEI_RETRY_MAX_ATTEMPTS": str(settings.retry.max_attempts),
        "RENKEI_RETRY_DELAYS_MS": json.dumps(list(settings.retry.delays_ms)),
        "RENKEI_RETRY_DELIVERY_LIMIT": str(settings.retry.delivery_limit),
        "RENKEI_LOG_JSON": "true",
    }


def renkei(settings: Settings, *args: str) -> list[dict[str, Any]]:
    """Run ``renkei ARGS --json`` and return its JSON lines; fails the test on a non-zero exit."""
    result = runner.invoke(app, [*args, "--json"], env=cli_env(settings))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def eventually(check: Callable[[], T], timeout_s: float = 30) -> T:
    """Retry ``check`` until it returns without an AssertionError, for at most ``timeout_s``."""
    for attempt in Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(0.2),
        retry=retry_if_exception_type(AssertionError),
        reraise=True,
    ):
        with attempt:
            return check()
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def running_hub(
    settings: Settings, services: Callable[[LocalDeployment], ServiceGroup] | None = None
) -> Iterator[LocalDeployment]:
    """The hub (migrated, topology declared) with its services running until the block ends."""
    hub = local_deployment(settings, configure_logs=False)
    hub.prepare()
    group = services(hub) if services else hub.hub_services()
    group.start()
    try:
        yield hub
        assert not group.failures, group.failures
    finally:
        group.shutdown()
        hub.close()


def consumer_options(settings: Settings) -> Mapping[str, Any]:
    return {"prefetch": settings.prefetch, "batch_size": settings.batch_size, "batch_wait_s": 0.005}

"""Runs the demo flows against the broker and counts what was sent, completed, lost and dead-lettered.

Every service runs under its own broker user (created or updated first, in development; see
:mod:`hub.bootstrap.broker_identity`), and the report says which identity was in force and who logged in
as whom.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from hub.bootstrap.broker_identity import establish_identity
from hub.bootstrap.common import configure_process_logs
from hub.bootstrap.operator import checkpoint_now, checkpoint_signer
from hub.bootstrap.transports import PikaTransports, TransportFactory, pika_transports
from hub.demo.deployment import local_deployment
from hub.demo.flow import DemoFlow
from hub.demo.registry import FLOWS
from hub.infra.broker.users import BrokerAdmin
from hub.infra.runner import ServiceGroup
from hub.progress import counting_bars
from hub.settings import Settings

__all__ = ["DemoReport", "run_demo"]


@dataclass
class DemoReport:
    """What a demo run did; ``lost`` must be 0."""

    records: int
    flows: dict[str, dict[str, int]] = field(default_factory=dict)
    dead_lettered: int = 0
    duplicates: int = 0
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)
    """The broker identity in force (mode, whether users were created, the fallback's reason) and the broker
    user of every service that connected (see :meth:`IdentityInForce.as_json
    <hub.bootstrap.broker_identity.IdentityInForce.as_json>`)."""

    @property
    def lost(self) -> int:
        """Records sent and never completed, over every flow."""
        return sum(f["sent"] - f["completed"] for f in self.flows.values())

    def as_json(self) -> dict[str, Any]:
        """The JSON summary printed by ``--json``."""
        return {
            "records": self.records,
            "lost": self.lost,
            "dead_lettered": self.dead_lettered,
            "duplicates": self.duplicates,
            "flows": self.flows,
            "outcomes": self.outcomes,
            "seconds": round(self.seconds, 2),
            "broker_identity": self.identity,
            **self.details,
        }


def run_demo(
    settings: Settings,
    records: int,
    *,
    timeout_s: float,
    console: Console | None,
    flows: Sequence[str] | None = None,
    admin: BrokerAdmin | None = None,
    transports: TransportFactory | None = None,
    while_running: Callable[[], None] | None = None,
) -> DemoReport:
    """Run the flows (all by default) once and return the report.

    Args:
        settings: the settings in force.
        records: pensioners in each flow.
        timeout_s: how long to wait for every record before counting what is lost.
        console: where the progress bars go (``None``: nowhere).
        flows: the flows to run (all by default).
        admin: where the broker users are created (default: the management API if configured, else
            ``rabbitmqctl``); tests pass a private broker's.
        transports: every role's connections (default: RabbitMQ, each service as its own broker user);
            tests pass an in-memory broker.
        while_running: called once after every service started and every flow began, before the demo
            waits for them (tests look at the broker's connections then).

    Raises:
        ConfigurationError: per-service identity was asked for and the users could not be created.
    """
    started = time.monotonic()
    configure_process_logs(settings, stderr=False)  # the log file, not the screen the progress bars use
    # Users are created on the broker the demo connects to; a broker handed in is the caller's to prepare.
    settings, identity = establish_identity(settings, create_users=transports is None, admin=admin)
    transports = transports or pika_transports(settings)
    hub = local_deployment(settings, transports=transports, configure_logs=False)
    chosen: list[DemoFlow] = [FLOWS[name]() for name in (flows or list(FLOWS))]
    try:
        hub.prepare()
        for flow in chosen:
            flow.prepare(hub, records)
        dead_before = hub.dead_letter_depth()
        services = hub.services(simulators=True, population=hub.population(records))
        services.start()
        try:
            for flow in chosen:
                flow.start(hub, records)
            if while_running is not None:
                while_running()
            _wait(chosen, timeout_s, services, console)
        finally:
            services.shutdown()
        # Seal the run as the checkpoint job does: a signed checkpoint covers every record the demo wrote.
        checkpoint_now(hub.engine, checkpoint_signer(settings))
        report = DemoReport(records=records)
        for flow in chosen:
            counts = flow.finish()
            report.flows[flow.name] = {"sent": counts.sent, "completed": counts.completed}
            report.outcomes[flow.name] = counts.outcomes
            report.duplicates += counts.duplicates
            report.details[flow.name] = {k: v for k, v in vars(flow).items() if k in ("batch_id", "cycle")}
        report.dead_lettered = max(0, hub.dead_letter_depth() - dead_before)
        if services.failures:
            report.details["service_failures"] = sorted(services.failures)
        logins = transports.logins if isinstance(transports, PikaTransports) else None
        report.identity = identity.as_json(logins)
    finally:
        hub.close()
    report.seconds = time.monotonic() - started
    return report


def _wait(flows: list[DemoFlow], timeout_s: float, services: ServiceGroup, console: Console | None) -> None:
    deadline = time.monotonic() + timeout_s
    with counting_bars(console, disable=console is None) as progress:
        tasks = {flow.name: progress.add_task(flow.name, total=flow.sent()) for flow in flows}
        while time.monotonic() < deadline and not services.failures:
            done = True
            for flow in flows:
                completed = flow.completed()
                progress.update(tasks[flow.name], completed=completed)
                done = done and completed >= flow.sent()
            if done:
                return
            time.sleep(0.2)

"""``renkei run``: one service in the foreground, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from hub.bootstrap import Hub, bootstrap, demo_population
from hub.infra.health_server import serve_health, watch_database
from hub.infra.runner import ServiceGroup
from hub.settings import Settings

app = typer.Typer(
    help=(
        "Run one service of renkei in the foreground (stops cleanly on SIGTERM or Ctrl-C). With "
        "RENKEI_HEALTH_PORT set, it serves /healthz, /readyz and /metrics on RENKEI_HEALTH_HOST (127.0.0.1)."
    )
)


def _serve(build: str, role: str, *, database: bool = False, **kwargs: object) -> None:
    settings = Settings()
    hub = bootstrap(settings)
    # Only the hub owns the database; adapters and simulators need the broker alone. In production a
    # deploy job migrates and declares as the operator: least-privilege broker users may not declare.
    if database and settings.migrate_on_start:
        hub.prepare_database()
    if settings.declare_topology:
        hub.prepare_broker()
    group: ServiceGroup = getattr(hub, build)(**kwargs)
    if database:
        watch_database(group, hub.engine)
    health = serve_health(group, role, settings.health_host, settings.health_port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    group.start()
    Console(stderr=True).print(f"renkei: {build} running ({len(group.threads)} threads); Ctrl-C stops it")
    try:
        while not stop.wait(1.0):
            if group.failures:
                break
    finally:
        if health is not None:
            health.close()
        group.shutdown()
        hub.close()
    if group.failures:
        raise typer.Exit(1)


@app.command("hub")
def run_hub() -> None:
    """The hub: consumes its ingress, routes, enriches, records; relays its outbox."""
    _serve("hub_services", "hub", database=True)


@app.command("adapter")
def run_adapter(
    name: Annotated[str, typer.Argument(help=f"which adapter: {', '.join(Hub.ADAPTERS)}")],
) -> None:
    """One adapter: consumes its queue (and its counterpart link), publishes to the hub."""
    if name not in Hub.ADAPTERS:
        raise typer.BadParameter(f"unknown adapter {name!r}; choose one of {', '.join(Hub.ADAPTERS)}")
    _serve("adapter_services", f"adapter {name}", name=name)


@app.command("simulator")
def run_simulator(
    name: Annotated[str, typer.Argument(help=f"which simulator: {', '.join(Hub.SIMULATORS)}")],
    records: Annotated[int, typer.Option(help="size of the synthetic register")] = 1_000_000,
) -> None:
    """A simulated counterpart on the broker (synthetic data only)."""
    if name not in Hub.SIMULATORS:
        raise typer.BadParameter(f"unknown simulator {name!r}; choose one of {', '.join(Hub.SIMULATORS)}")
    _serve("simulator_services", f"simulator {name}", name=name, population=demo_population(records))

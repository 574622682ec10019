"""``renkei run``: one service in the foreground, until SIGTERM or Ctrl-C.

Each subcommand builds its own role only (:mod:`hub.bootstrap`), with its own keys: the hub worker the hub's,
an adapter that adapter's, a simulator its line's.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from contracts.errors import ConfigurationError
from hub.bootstrap.adapters import ADAPTER_SPECS, AdapterSpec, adapter_spec, build_adapter_host
from hub.bootstrap.broker_identity import establish_identity, topology_declarer
from hub.bootstrap.common import configure_process_logs, open_database
from hub.bootstrap.hub_worker import HubWorkerRoot, worker_checkpoint_signer
from hub.bootstrap.prepare import prepare_broker, prepare_database
from hub.bootstrap.simulators import SIMULATOR_SPECS, SimulatorSpec, build_simulator_host, simulator_spec
from hub.bootstrap.transports import TransportFactory, pika_transports
from hub.demo.data import demo_population, demo_world
from hub.infra.db.engine import Engine
from hub.infra.keys.service_keys import adapter_keys, hub_keys, simulator_keys
from hub.infra.observability.health_server import serve_health, watch_database
from hub.infra.runner import ServiceGroup
from hub.infra.service_names import ServiceName, adapter_service, simulator_service
from hub.settings import Settings

app = typer.Typer(
    help=(
        "Run one service of renkei in the foreground (stops cleanly on SIGTERM or Ctrl-C). With "
        "RENKEI_HEALTH_PORT set, it serves /healthz, /readyz and /metrics on RENKEI_HEALTH_HOST (127.0.0.1)."
    )
)

Build = Callable[[Settings, TransportFactory], ServiceGroup]
_Spec = TypeVar("_Spec")


def _name_argument(specs: Mapping[str, AdapterSpec | SimulatorSpec]) -> Any:  # typer.Argument is typed Any
    """The NAME of the service to run, one of ``specs``: its ``--help`` lists them with their summaries."""
    choices = ", ".join(f"{spec.name} ({spec.summary})" for spec in specs.values())
    return typer.Argument(help=f"one of {choices}", metavar="NAME")


def _spec(spec_of: Callable[[str], _Spec], name: str) -> _Spec:
    """The spec of ``name``; a name that is none is bad usage."""
    try:
        return spec_of(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _settings() -> Settings:
    settings = Settings()
    configure_process_logs(settings)
    return settings


def _serve(
    settings: Settings, service: ServiceName, role: str, build: Build, *, engine: Engine | None = None
) -> None:
    # In development the broker users are created (or updated) and the topology declared as the operator
    # on start; in production a deploy job does both: least-privilege broker users may not declare.
    try:
        settings, identity = establish_identity(settings, create_users=settings.declare_topology)
    except ConfigurationError as exc:
        Console(stderr=True).print(f"[red]renkei: {service} not started:[/red] {exc}")
        raise typer.Exit(1) from None
    transports = pika_transports(settings)
    try:
        # Only the hub owns the database; adapters and simulators need the broker alone. In production a
        # deploy job migrates and declares as the operator: least-privilege broker users may not declare.
        if settings.declare_topology:
            prepare_broker(settings, transports, topology_declarer(settings, service))
        group = build(settings, transports)
    except ConfigurationError as exc:  # its keyring, its settings: what to fix, not a traceback
        Console(stderr=True).print(f"[red]renkei: {service} cannot start:[/red] {exc}")
        raise typer.Exit(code=2) from None
    if engine is not None:
        watch_database(group, engine)
    health = serve_health(group, role, settings.health_host, settings.health_port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    group.start()
    user = transports.logins.get(service, "?")
    Console(stderr=True).print(
        f"renkei: {service} running ({len(group.threads)} threads) as broker user {user}, identity "
        f"{identity.describe()}; Ctrl-C stops it"
    )
    try:
        while not stop.wait(1.0):
            if group.failures:
                break
    finally:
        if health is not None:
            health.close()
        group.shutdown()  # closes the group's transports
        if engine is not None:
            engine.dispose()
    if group.failures:
        raise typer.Exit(1)


@app.command("hub")
def run_hub() -> None:
    """The hub: consumes its ingress, routes, enriches, records; relays its outbox; keeps dead letters."""
    settings = _settings()
    engine = open_database(settings)
    if settings.migrate_on_start:
        prepare_database(engine)

    def build(settings: Settings, transports: TransportFactory) -> ServiceGroup:
        root = HubWorkerRoot(
            settings,
            hub_keys(settings),
            transports,
            engine=engine,
            signer=worker_checkpoint_signer(settings),
        )
        return root.services()

    _serve(settings, "hub", "hub", build, engine=engine)


@app.command("adapter")
def run_adapter(
    name: Annotated[str, _name_argument(ADAPTER_SPECS)],
) -> None:
    """One adapter: consumes its queue (and its counterpart link or directory), publishes to the hub."""
    spec = _spec(adapter_spec, name)

    def build(settings: Settings, transports: TransportFactory) -> ServiceGroup:
        return build_adapter_host(spec, settings, adapter_keys(settings, spec.name), transports)

    _serve(_settings(), adapter_service(spec.name), f"adapter {spec.name}", build)


@app.command("simulator")
def run_simulator(
    name: Annotated[str, _name_argument(SIMULATOR_SPECS)],
    records: Annotated[int, typer.Option(help="size of the synthetic register")] = 1_000_000,
) -> None:
    """A simulated counterpart on the broker (synthetic data only)."""
    spec = _spec(simulator_spec, name)

    def build(settings: Settings, transports: TransportFactory) -> ServiceGroup:
        world = demo_world(demo_population(records))
        return build_simulator_host(spec, settings, simulator_keys(settings, spec.name), transports, world)

    _serve(_settings(), simulator_service(spec.name), f"simulator {spec.name}", build)

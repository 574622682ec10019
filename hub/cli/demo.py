"""``renkei demo``: every flow end to end on the embedded defaults.

The demo loads a synthetic 個人番号管理ファイル into the vault (people of the simulators' registers,
valid check digits, nobody real), starts the hub, the adapters and the simulators as threads on the real
broker, each under its own broker user (created first, with least-privilege permissions), starts each flow,
waits until every record completed, and reports what was sent, completed, lost and dead-lettered, and
which broker user each service logged in as.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigurationError
from hub.demo.registry import FLOWS
from hub.demo.runner import DemoReport, run_demo
from hub.settings import Settings

__all__ = ["demo"]


def demo(
    records: Annotated[
        int, typer.Option("--records", "-n", min=1, max=2_000_000, help="pensioners in each flow")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")] = False,
    flow: Annotated[
        list[str] | None, typer.Option("--flow", help=f"run only these flows (of: {', '.join(FLOWS)})")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait before counting what is lost")] = 600,
) -> None:
    """Run every flow once end to end against the broker; exit non-zero if a record was lost.

    Uses the embedded defaults: SQLite under ./var and the broker at RENKEI_AMQP_URL (default: the local
    RabbitMQ). Logs go to ./var/logs/renkei.log as JSON lines.

    Every service logs in as its own broker user ({prefix}-hub, -adapter-jlis, ...): the users and their
    least-privilege permissions are created or updated first (rabbitmqctl on the broker's machine, or
    RENKEI_BROKER_MANAGEMENT_URL), with passwords generated owner-only under ./var/broker. Where that is not
    possible the demo runs with the shared log-in and says why; RENKEI_BROKER_IDENTITY=shared asks for it.
    """
    unknown = sorted(set(flow or []) - set(FLOWS))
    if unknown:
        raise typer.BadParameter(f"unknown flow(s) {', '.join(unknown)}; choose from {', '.join(FLOWS)}")
    settings = Settings()
    console = None if as_json else Console(stderr=True)
    try:
        report = run_demo(settings, records, timeout_s=timeout, console=console, flows=flow)
    except ConfigurationError as exc:
        Console(stderr=True).print(f"[red]demo not run:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print(report)
    if report.lost:
        raise typer.Exit(1)


def _print(report: DemoReport) -> None:
    console = Console()
    table = Table(title="renkei demo")
    for column in ("flow", "sent", "completed", "lost", "outcomes"):
        table.add_column(column, justify="left" if column in ("flow", "outcomes") else "right")
    for name, flow in report.flows.items():
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.get(name, {}).items()))
        table.add_row(
            name, str(flow["sent"]), str(flow["completed"]), str(flow["sent"] - flow["completed"]), outcomes
        )
    console.print(table)
    console.print(
        f"lost {report.lost} · dead-lettered {report.dead_lettered} · duplicates {report.duplicates} · "
        f"{report.seconds:.1f} s"
    )
    identity = report.identity
    if not identity:
        return
    if identity.get("fallback"):
        how = f"fallback: {identity['fallback']}"
    elif identity["mode"] == "per_service":
        created = ", created or updated" if identity["users_created"] else ""
        how = f"every service its own broker user{created}"
    else:
        how = "every service logs in as RENKEI_AMQP_URL's user; no sender is proven"
    users = Table(title=f"broker identity: {identity['mode']} ({how})")
    users.add_column("service")
    users.add_column("broker user")
    for service, user in identity.get("users", {}).items():
        users.add_row(service, user)
    console.print(users)

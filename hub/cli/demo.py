"""``renkei demo``: every flow end to end on the embedded defaults.

The demo loads a synthetic 個人番号管理ファイル into the vault (people of the simulators' registers,
valid check digits, nobody real), starts the hub, the adapters and the simulators as threads on the real
broker, starts each flow, waits until every record completed, and reports what was sent, completed, lost
and dead-lettered.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

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
    """
    unknown = sorted(set(flow or []) - set(FLOWS))
    if unknown:
        raise typer.BadParameter(f"unknown flow(s) {', '.join(unknown)}; choose from {', '.join(FLOWS)}")
    settings = Settings()
    console = None if as_json else Console(stderr=True)
    report = run_demo(settings, records, timeout_s=timeout, console=console, flows=flow)
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

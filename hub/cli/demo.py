"""``renkei demo``: one survival/change inquiry cycle end to end, on the embedded defaults.

The demo loads a synthetic 個人番号管理ファイル into the vault (people of the J-LIS simulator's register,
valid check digits, nobody real), starts the hub, the J-LIS and pension adapters and the J-LIS simulator
as threads on the real broker, drops a request file into the pension system's outbound directory, waits
until every record has an outcome file row, and reports what was sent, completed, lost and dead-lettered.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.bootstrap import bootstrap, demo_population
from hub.settings import Settings

__all__ = ["DemoReport", "run_demo"]


@dataclass
class DemoReport:
    """What a demo run did; ``lost`` must be 0."""

    records: int
    flows: dict[str, dict[str, int]] = field(default_factory=dict)
    dead_lettered: int = 0
    duplicates: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    batch_id: str = ""

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
            "batch_id": self.batch_id,
        }


def _cycle(today: date) -> str:
    """The next even payment month (pensions are paid in even months)."""
    month = today.month + 1 + (today.month + 1) % 2
    year = today.year + (month > 12)
    return f"{year}-{(month - 1) % 12 + 1:02d}"


def run_demo(settings: Settings, records: int, *, timeout_s: float, console: Console | None) -> DemoReport:
    """Run one cycle and return its report (no printing but the progress bar)."""
    started = time.monotonic()
    hub = bootstrap(settings)
    hub.prepare()
    population = demo_population(records)
    hub.enrol_population(population, records)
    dead_before = hub.dead_letter_depth()

    services = hub.services(simulators=True, population=population)
    services.start()
    batch_id = f"demo-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
    pension = hub.pension_system()
    try:
        usage = [population.usage_number(i) for i in range(records)]
        pension.drop_survival_request(
            usage, cycle=_cycle(date.today()), as_of=date.today(), batch_id=batch_id
        )
        _wait(lambda: pension.completed(batch_id), records, timeout_s, services, console)
    finally:
        services.shutdown()
        hub.close()

    rows = pension.read_outcomes(batch_id)
    distinct = {row.record_seq for row in rows}
    report = DemoReport(records=records, batch_id=batch_id)
    report.flows["survival_inquiry"] = {"sent": records, "completed": len(distinct)}
    report.duplicates = len(rows) - len(distinct)
    report.outcomes = dict(Counter(str(row.outcome) for row in rows))
    report.dead_lettered = max(0, hub.dead_letter_depth() - dead_before)
    report.seconds = time.monotonic() - started
    return report


def _wait(done: Any, total: int, timeout_s: float, services: Any, console: Console | None) -> None:
    deadline = time.monotonic() + timeout_s
    with Progress(
        TextColumn("survival/change inquiry"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=console is None,
        disable=console is None,
    ) as progress:
        task = progress.add_task("records", total=total)
        while time.monotonic() < deadline:
            completed = done()
            progress.update(task, completed=completed)
            if completed >= total or services.failures:
                return
            time.sleep(0.2)


def demo(
    records: Annotated[
        int, typer.Option("--records", "-n", min=1, max=2_000_000, help="pensioners in the cycle")
    ] = 1000,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")] = False,
    timeout: Annotated[
        float, typer.Option(help="seconds to wait for the cycle before counting what is lost")
    ] = 600,
) -> None:
    """Run one survival/change inquiry (生存異動照会) end to end against the broker.

    Exits non-zero when any record was lost. Uses the embedded defaults: SQLite under ./var and the
    broker at RENKEI_AMQP_URL (default: the local RabbitMQ).
    """
    settings = Settings()
    console = None if as_json else Console(stderr=True)
    report = run_demo(settings, records, timeout_s=timeout, console=console)
    if as_json:
        typer.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        _print(report)
    if report.lost:
        raise typer.Exit(1)


def _print(report: DemoReport) -> None:
    console = Console()
    table = Table(title=f"renkei demo — batch {report.batch_id}")
    for column in ("flow", "sent", "completed", "lost"):
        table.add_column(column, justify="right" if column != "flow" else "left")
    for name, flow in report.flows.items():
        table.add_row(name, str(flow["sent"]), str(flow["completed"]), str(flow["sent"] - flow["completed"]))
    console.print(table)
    outcomes = Table(title="outcomes")
    outcomes.add_column("outcome")
    outcomes.add_column("records", justify="right")
    for name, count in sorted(report.outcomes.items()):
        outcomes.add_row(name, str(count))
    console.print(outcomes)
    console.print(
        f"lost {report.lost} · dead-lettered {report.dead_lettered} · duplicates {report.duplicates} · "
        f"{report.seconds:.1f} s"
    )

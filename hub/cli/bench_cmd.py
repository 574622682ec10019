"""``renkei bench``: how fast the broker alone, the hub's path and a bulk inquiry run on this machine."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigurationError, StoreUnavailable
from hub.bench import PHASES, BenchError, run_bench
from hub.bench.bulk import Tick
from hub.progress import stage_bars
from hub.settings import Settings

__all__ = ["bench"]


def bench(  # noqa: PLR0917 - typer maps options to parameters
    messages: Annotated[
        int,
        typer.Option(
            "--messages", "-m", min=1, max=1_000_000, help="messages of the baseline and hub phases"
        ),
    ] = 20_000,
    records: Annotated[
        int, typer.Option("--records", "-n", min=1, max=2_000_000, help="people in the bulk inquiry")
    ] = 1_000_000,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object instead of tables")] = False,
    phase: Annotated[
        list[str] | None, typer.Option("--phase", help=f"run only these phases (of: {', '.join(PHASES)})")
    ] = None,
    window: Annotated[int, typer.Option(min=1, max=100_000, help="messages in flight at most")] = 1_000,
    timeout: Annotated[float, typer.Option(min=1, help="seconds any one phase may take")] = 1_800,
    keep: Annotated[bool, typer.Option(help="keep each phase's data directory (logs, database)")] = False,
    postgres: Annotated[
        str | None,
        typer.Option(
            "--postgres",
            metavar="URL",
            help="measure on PostgreSQL: a server URL whose role may create databases; each phase gets a "
            "scratch database there, dropped afterwards (default: the embedded SQLite)",
        ),
    ] = None,
) -> None:
    """Measure the broker alone, the hub's full path and a bulk inquiry, end to end, on this machine.

    Runs against the broker at RENKEI_AMQP_URL (default: the local RabbitMQ) with the embedded SQLite
    database (or, with --postgres, a scratch PostgreSQL database); every phase has its own exchange prefix
    and data directory under ./var/bench, removed afterwards. The bulk phase starts the hub, the adapters
    and the J-LIS simulator as separate processes.
    """
    chosen = phase or list(PHASES)
    unknown = sorted(set(chosen) - set(PHASES))
    if unknown:
        raise typer.BadParameter(f"unknown phase(s) {', '.join(unknown)}; choose from {', '.join(PHASES)}")
    err = Console(stderr=True)
    try:
        with _bulk_bar(err) as tick:
            report = run_bench(
                Settings(),
                messages=messages,
                records=records,
                phases=chosen,
                window=window,
                timeout_s=timeout,
                keep=keep,
                progress=None if as_json else lambda line: err.print(f"[dim]{line}[/dim]"),
                tick=tick,
                postgres=postgres,
            )
    except (BenchError, ConfigurationError, StoreUnavailable) as exc:
        err.print(f"renkei bench: {exc}")
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
    else:
        _print(report)


def _bulk_bar(err: Console) -> AbstractContextManager[Tick]:
    """A progress bar on standard error for the bulk phase: people enrolled, then people answered.

    Standard error only, so that ``--json`` keeps standard output one JSON object; Rich draws nothing
    but the last state where standard error is not a terminal.
    """
    return stage_bars(err, {"enrol": "bulk: people enrolled in the vault", "answer": "bulk: people answered"})


def _memory(peaks: dict[str, Any]) -> str:
    return ", ".join(f"{name} {mib:g} MiB" for name, mib in peaks.items() if mib is not None)


def _print(report: dict[str, Any]) -> None:
    console = Console()
    table = Table(title="renkei bench")
    for column in ("phase", "count", "seconds", "rate /s", "p50 ms", "p99 ms", "peak memory"):
        table.add_column(column, justify="left" if column in ("phase", "peak memory") else "right")
    for name in ("baseline", "hub"):
        if name in report:
            r = report[name]
            table.add_row(
                name,
                f"{r['messages']:,} msg",
                f"{r['seconds']:.1f}",
                f"{r['messages_per_s']:,.0f}",
                f"{r['latency_ms']['p50']:.1f}",
                f"{r['latency_ms']['p99']:.1f}",
                _memory(r["peak_memory_mib"]),
            )
    if "bulk" in report:
        r = report["bulk"]
        table.add_row(
            "bulk",
            f"{r['records']:,} rec",
            f"{r['seconds']:.1f}",
            f"{r['records_per_s']:,.0f}",
            "",
            "",
            _memory(r["peak_memory_mib"]),
        )
    console.print(table)
    if "sealing" in report:
        s = report["sealing"]
        ops = ", ".join(f"{name} {us:g} µs" for name, us in s["per_operation_us"].items())
        chars = s["value_chars"]
        console.print(f"sealing (one core): {ops}")
        bulk = s["bulk_message"]
        console.print(
            f"sealed value: v1 {chars['v1']} chars, v2 {chars['v2']} chars; a message of "
            f"{bulk['numbers']:,} numbers sealed and opened in {bulk['seal_and_unseal_ms']} ms "
            f"with {bulk['public_key_operations_per_side']} HPKE operation per side"
        )
    if report.get("hub_to_baseline") is not None:
        console.print(f"hub / baseline: {report['hub_to_baseline']:.3f}")
    if "bulk" in report:
        r = report["bulk"]
        console.print(
            f"bulk: enrolment {r['enrol_seconds']:.1f} s (set-up), lost {r['lost']}, "
            f"duplicates {r['duplicates']}"
        )
    m = report["machine"]
    console.print(f"{m['cpus']} CPUs ({m['cpu_model']}), {m['memory_gib']} GiB, Python {m['python']}")

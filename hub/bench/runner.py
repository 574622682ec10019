"""``run_bench``: the phases in order (sealing in-process, the others each in a world of its own)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from hub.bench.bulk import Tick, run_bulk
from hub.bench.measure import machine
from hub.bench.messages import run_baseline, run_hub_path
from hub.bench.phase import phase
from hub.bench.sealing import run_sealing
from hub.settings import Settings

__all__ = ["PHASES", "run_bench"]

PHASES: Final = ("sealing", "baseline", "hub", "bulk")


def run_bench(
    settings: Settings,
    *,
    messages: int,
    records: int,
    phases: Sequence[str] = PHASES,
    window: int = 1_000,
    timeout_s: float = 1_800,
    keep: bool = False,
    progress: Callable[[str], None] | None = None,
    tick: Tick | None = None,
    postgres: str | None = None,
) -> dict[str, Any]:
    """Run the chosen phases and return the report (see ``docs/performance.md`` for its fields).

    Args:
        settings: the broker and the consumer settings to measure with; each phase has its own prefix,
            data directory and embedded database.
        messages: messages of the baseline and the hub phase.
        records: people in the bulk phase's inquiry.
        phases: which of :data:`PHASES` to run.
        window: messages in flight at most in the message phases.
        timeout_s: the longest any one phase may take.
        keep: keep each phase's data directory (logs, database) afterwards.
        progress: called with a line of text as the phases go.
        tick: told the bulk phase's progress (see :data:`hub.bench.bulk.Tick`), for a progress bar.
        postgres: a PostgreSQL server URL: each phase gets a scratch database on it instead of SQLite.

    Raises:
        BenchError: a phase could not complete.
        ValueError: an unknown phase, or counts below 1.
    """
    unknown = sorted(set(phases) - set(PHASES))
    if unknown or messages < 1 or records < 1 or window < 1:
        raise ValueError(f"phases are {', '.join(PHASES)}; counts and window are at least 1")
    say = progress or (lambda _line: None)
    started, began = time.perf_counter(), datetime.now(UTC)
    report: dict[str, Any] = {
        "started_at": began.isoformat(timespec="seconds"),
        "machine": machine(),
        "settings": {
            "prefetch": settings.prefetch,
            "batch_size": settings.batch_size,
            "batch_wait_ms": settings.batch_wait_ms,
            "chunk_records": settings.chunk_records,
            "window": window,
            "database": "sqlite (embedded, one per phase)"
            if postgres is None
            else "postgresql (a scratch database per phase)",
        },
    }
    if "sealing" in phases:
        say("sealing: the cost of sealing numbers to public keys, per operation (in this process)")
        report["sealing"] = run_sealing(chunk=settings.chunk_records)
    if "baseline" in phases:
        say(f"baseline: {messages} messages through RabbitMQ alone")
        with phase(settings, "baseline", keep=keep, postgres=postgres) as p:
            report["baseline"] = run_baseline(p, messages, window=window, timeout_s=timeout_s)
            report["broker_identity"] = p.identity.as_json()
    if "hub" in phases:
        say(f"hub: {messages} messages through the hub's full path")
        with phase(settings, "hub", keep=keep, postgres=postgres) as p:
            report["hub"] = run_hub_path(p, messages, window=window, timeout_s=timeout_s)
            report["broker_identity"] = p.identity.as_json()
    if "baseline" in report and "hub" in report:
        base = report["baseline"]["messages_per_s"]
        report["hub_to_baseline"] = round(report["hub"]["messages_per_s"] / base, 3) if base else None
    if "bulk" in phases:
        say(f"bulk: a survival/change inquiry of {records} people, every stage in its own process")
        with phase(settings, "bulk", keep=keep, postgres=postgres) as p:
            report["bulk"] = run_bulk(p, records, timeout_s=timeout_s, tick=tick)
            report["broker_identity"] = p.identity.as_json()
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report

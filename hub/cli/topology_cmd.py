"""``renkei topology``: the broker's exchanges and queues."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from hub.bootstrap import bootstrap
from hub.settings import Settings

app = typer.Typer(help="Broker topology: exchanges, quorum queues, retry tiers and the dead-letter queue.")


@app.command("apply")
def apply() -> None:
    """Declare every exchange, queue and binding (idempotent; safe on a running system)."""
    hub = bootstrap(Settings(), configure_logs=False)
    try:
        hub.prepare_broker()
        table = Table(title=f"topology applied on {hub.names.prefix}.*")
        table.add_column("queue")
        table.add_column("ready", justify="right")
        table.add_column("consumers", justify="right")
        transport = hub.transport("topology-report")
        for queue in hub.declared_queues():
            ready, consumers = transport.queue_depth(queue)
            table.add_row(queue, str(ready), str(consumers))
        Console().print(table)
    finally:
        hub.close()

"""``renkei topology``: the broker's exchanges and queues (an operator tool, connected as ``operator``)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigurationError
from hub.bootstrap.broker_identity import establish_identity
from hub.bootstrap.prepare import declared_queues, prepare_broker
from hub.bootstrap.transports import pika_transports, transient
from hub.settings import Settings

app = typer.Typer(help="Broker topology: exchanges, quorum queues, retry tiers and the dead-letter queue.")


@app.command("apply")
def apply() -> None:
    """Declare every exchange, queue and binding as the operator (idempotent; safe on a running system).

    In development with per-service identity (the default) the broker users are created or updated first,
    as `renkei topology users apply` does.
    """
    try:
        settings, identity = establish_identity(Settings(), create_users=True)
    except ConfigurationError as exc:
        Console(stderr=True).print(f"[red]topology not applied:[/red] {exc}")
        raise typer.Exit(1) from None
    transports = pika_transports(settings)
    prepare_broker(settings, transports, "operator")
    Console(stderr=True).print(f"broker identity: {identity.describe()}")
    table = Table(title=f"topology applied on {settings.exchange_prefix}.*")
    table.add_column("queue")
    table.add_column("ready", justify="right")
    table.add_column("consumers", justify="right")
    with transient(transports, "operator", "topology-report") as transport:
        for queue in declared_queues(settings):
            ready, consumers = transport.queue_depth(queue)
            table.add_row(queue, str(ready), str(consumers))
    Console().print(table)

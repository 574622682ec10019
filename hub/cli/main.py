"""The ``renkei`` command (``main`` is the process entry point: ``renkei = hub.cli.main:main``)."""

from __future__ import annotations

import typer

from hub.cli import (
    approvals_cmd,
    audit,
    broker_cmd,
    contracts_cmd,
    db_cmd,
    dlq,
    keys,
    retention,
    run_cmd,
    topology_cmd,
)
from hub.cli.bench_cmd import bench
from hub.cli.console_cmd import app as console_app
from hub.cli.demo import demo
from hub.cli.vault_cmd import app as vault_app
from hub.infra.private_files import owner_only_umask

app = typer.Typer(
    name="renkei",
    help=(
        "renkei (連携): the My Number linkage hub of the pension federation. "
        "Routes messages between the pension system, J-LIS, the intermediate server and eLTAX, "
        "keeps Individual Numbers in an encrypted vault and an access record for every message."
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold numbers: never print them
)
app.command("demo")(demo)
app.command("bench")(bench)
app.add_typer(contracts_cmd.app, name="contracts")
app.add_typer(topology_cmd.app, name="topology")
app.add_typer(db_cmd.app, name="db")
app.add_typer(run_cmd.app, name="run")
app.add_typer(keys.app, name="keys")
app.add_typer(retention.app, name="retention")
app.add_typer(audit.app, name="audit")
app.add_typer(console_app, name="console")
app.add_typer(dlq.app, name="dlq")
app.add_typer(vault_app, name="vault")
app.add_typer(approvals_cmd.app, name="approvals")
topology_cmd.app.command("definitions")(broker_cmd.definitions)
topology_cmd.app.add_typer(broker_cmd.users_app, name="users")


def main() -> None:
    """The ``renkei`` process: owner-only files from its first write (umask 077), then the command.

    The umask is the process's, so it is set here, where the process starts, and not by a command (a test
    that invokes a command in its own process keeps its umask).
    """
    owner_only_umask()
    app()


if __name__ == "__main__":  # pragma: no cover
    main()

"""``renkei console``: the operator console on 127.0.0.1 (by default), and the tools to configure its users.

``renkei console [--host H] [--port P]`` serves the console until Ctrl-C. It refuses to start without a users
file (``RENKEI_CONSOLE_USERS_FILE``): there are no default users. ``hash-password`` and ``new-token`` make
the hashes that file holds; ``members load`` tells the console which 構成組合 each person belongs to.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contracts.errors import ConfigurationError
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.cli.invocation import settings_of
from hub.console.roles import FEDERATION, valid_org
from hub.console.users import hash_password, hash_token, load_users, new_token

__all__ = ["app"]

app = typer.Typer(
    help="The operator console: flows, dead letters, traces, the access record, health (web and JSON API).",
    invoke_without_command=True,
    pretty_exceptions_show_locals=False,
)
members = typer.Typer(
    help="Which constituent association (構成組合) each person belongs to.", no_args_is_help=True
)
app.add_typer(members, name="members")

_err = Console(stderr=True, highlight=False)


def _fail(message: str) -> typer.Exit:
    _err.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


@app.callback()
def console(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="address to listen on (default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65_535, help="port (default 8480)")] = None,
) -> None:
    """Serve the console (loopback only unless --host says otherwise) until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from hub.bootstrap.broker_identity import establish_identity, topology_declarer
    from hub.bootstrap.common import configure_process_logs, open_database
    from hub.bootstrap.console import ConsoleRoot
    from hub.bootstrap.prepare import prepare_broker, prepare_database
    from hub.bootstrap.transports import pika_transports
    from hub.console.app import create_app
    from hub.infra.keys.service_keys import console_keys

    settings = settings_of(ctx)
    try:
        users = load_users(settings.console.users_file)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    configure_process_logs(settings)
    try:
        # In development: the broker users created or updated, the topology declared as the operator.
        settings, identity = establish_identity(settings, create_users=settings.declare_topology)
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    transports = pika_transports(settings)
    try:
        root = ConsoleRoot(settings, console_keys(settings), transports, engine=open_database(settings))
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc
    try:
        prepare_database(root.engine)
        if settings.declare_topology:
            prepare_broker(settings, transports, topology_declarer(settings, "console"))
        application = create_app(root, users)
    except ConfigurationError as exc:
        root.close()
        raise _fail(str(exc)) from exc
    bind_host, bind_port = host or settings.console.host, port or settings.console.port
    _err.print(
        f"renkei console on http://{bind_host}:{bind_port}/ ({len(users)} users; broker identity "
        f"{identity.describe()}); Ctrl-C stops it"
    )
    try:
        uvicorn.run(application, host=bind_host, port=bind_port, log_level="warning", access_log=False)
    finally:
        root.close()


@app.command("hash-password")
def hash_password_cmd() -> None:
    """Ask for a password (twice, hidden) and print its Argon2id hash for the users file."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        typer.echo(hash_password(password))
    except ConfigurationError as exc:
        raise _fail(str(exc)) from exc


@app.command("new-token")
def new_token_cmd() -> None:
    """Make an API token: prints the token (give it to the client) and its hash (for the users file)."""
    token = new_token()
    typer.echo(f"token:      {token}")
    typer.echo(f"token_hash: {hash_token(token)}")


@members.command("load")
def members_load(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="CSV with columns usage_number,association (kind:value usage)")
    ],
) -> None:
    """Load the member list: each usage number's association; unknown usage numbers are reported."""
    from hub.bootstrap.common import configure_process_logs, open_database
    from hub.bootstrap.operator import OperatorTools
    from hub.bootstrap.prepare import prepare_database
    from hub.infra.keys.service_keys import operator_keys
    from hub.infra.stores.associations import load_members

    rows: list[tuple[UsageNumber, str]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            kind, _, value = (row.get("usage_number") or "").partition(":")
            code = (row.get("association") or "").strip()
            try:
                usage = UsageNumber(kind=UsageNumberKind(kind), value=value)
            except ValueError:
                raise _fail(f"line {line}: usage_number must be kind:value") from None
            if not valid_org(code) or code == FEDERATION:
                raise _fail(f"line {line}: association must be an association code")
            rows.append((usage, code))
    settings = settings_of(ctx)
    configure_process_logs(settings, stderr=False)
    tools = OperatorTools(settings, engine=open_database(settings), keys=operator_keys(settings))
    try:
        prepare_database(tools.engine)
        with tools.uow_factory() as uow:
            stored, unknown = load_members(uow.connection, uow.vault, rows)
            uow.commit()
    finally:
        tools.close()
    _err.print(f"{stored} member(s) stored; {len(unknown)} usage number(s) unknown to the vault")

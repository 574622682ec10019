"""``renkei topology definitions``: the broker's definitions document, with least-privilege users.

Mounted under ``renkei topology`` next to ``apply``. The document (see :mod:`hub.infra.broker.definitions`)
is imported with ``rabbitmqctl import_definitions FILE`` (or ``-`` for standard input) or loaded at boot.
Passwords are read from files, one per user, the way container secrets arrive, and only their RabbitMQ
hashes are written; nothing secret is ever printed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import ConfigurationError, RenkeiError
from hub.infra.broker import definitions as defs
from hub.infra.broker.users import apply_users, delete_users
from hub.settings import Settings

__all__ = ["app", "definitions", "users_app"]

app = typer.Typer(help="Broker security: the RabbitMQ definitions document (vhost, topology, users).")


def definitions(
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="file to write (created owner-only); default: standard output"),
    ] = None,
    password_file: Annotated[
        list[str] | None,
        typer.Option(
            "--password-file",
            metavar="ROLE=FILE",
            help="password of one broker user, read from FILE (repeatable). ROLE is hub, operator, console, "
            "adapter-<name> or simulator-<counterpart>; users without one get no usable password",
        ),
    ] = None,
    vhost: Annotated[str, typer.Option(help="virtual host to create and put everything in")] = (
        defs.DEFAULT_VHOST
    ),
) -> None:
    """Write the broker's definitions: vhost, exchanges, quorum queues, bindings, users, permissions.

    The queues follow RENKEI_EXCHANGE_PREFIX and RENKEI_RETRY_*, as `renkei topology apply` does.

    Each user may use only its own queues and exchanges; only the operator may declare or delete.
    """
    settings = Settings()
    prefix = settings.exchange_prefix
    roles = {user.role: user.name for user in defs.broker_users(prefix)}
    hashes: dict[str, str | None] = {}
    for spec in password_file or []:
        role, path = _split(spec, roles)
        hashes[roles[role]] = defs.hash_password(_read_password(path))
    try:
        document = defs.definitions(prefix, settings.retry, hashes, vhost=vhost)
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from exc
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        _write_private(output, text)
    Console(stderr=True).print(
        f"definitions for vhost {vhost!r}: {len(document['queues'])} queues, {len(document['users'])} users "
        f"({len(hashes)} with a password)" + (f", written to {output}" if output else "")
    )


app.command("definitions")(definitions)


def _split(spec: str, roles: dict[str, str]) -> tuple[str, Path]:
    role, sep, path = spec.partition("=")
    if not sep or not path:
        raise typer.BadParameter(f"expected ROLE=FILE, got {spec!r}", param_hint="--password-file")
    if role not in roles:
        raise typer.BadParameter(
            f"unknown role {role!r}; known: {', '.join(roles)}", param_hint="--password-file"
        )
    return role, Path(path)


def _read_password(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--password-file") from exc
    password = text.removesuffix("\n").removesuffix("\r")  # files usually end with one newline
    if not password:
        raise typer.BadParameter(f"{path} is empty", param_hint="--password-file")
    return password


def _write_private(path: Path, text: str) -> None:
    # Owner-only from the first byte: the document holds password hashes.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    path.chmod(0o600)


users_app = typer.Typer(
    help=(
        "Broker users: one per renkei service ({prefix}-hub, -adapter-<name>, -simulator-<counterpart>, "
        "-console, -operator), each allowed only its own queues and exchanges. `renkei demo` and "
        "`renkei run` create them by themselves in development."
    ),
    no_args_is_help=True,
)


@users_app.command("apply")
def users_apply(
    vhost: Annotated[
        str | None, typer.Option(help="virtual host to grant in; default: the one of RENKEI_AMQP_URL")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the users as JSON (no passwords)")] = False,
) -> None:
    """Create or update every service's broker user and least-privilege permissions (idempotent).

    Users and permissions come from `renkei topology definitions`. Passwords: in development generated
    owner-only under RENKEI_DATA_DIR/broker/<service>.password (kept on later runs); in production read from
    RENKEI_BROKER_PASSWORD_FILE, which must hold {service}. The broker is reached with rabbitmqctl on its own
    machine, or the management API when RENKEI_BROKER_MANAGEMENT_URL is set. Declare the topology afterwards
    as the operator (`renkei topology apply`): only the operator may.
    """
    settings = Settings()
    _change_users("applied", lambda: apply_users(settings, vhost=vhost), as_json)


@users_app.command("delete")
def users_delete(
    yes: Annotated[bool, typer.Option("--yes", help="do it without asking")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the users deleted as JSON")] = False,
) -> None:
    """Delete every service's broker user of RENKEI_EXCHANGE_PREFIX (their password files stay)."""
    settings = Settings()
    if not yes:
        typer.confirm(f"delete the broker users {settings.exchange_prefix}-*?", abort=True)
    _change_users("deleted", lambda: delete_users(settings), as_json)


@users_app.command("show")
def users_show(
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """List every service's broker user and its permissions (regexes); the broker is not touched."""
    _print_users(defs.broker_users(Settings().exchange_prefix), as_json, verb=None)


def _change_users(verb: str, change: Callable[[], tuple[defs.BrokerUser, ...]], as_json: bool) -> None:
    """Make the ``change`` to the broker's users and print them, or say why they were not ``verb``."""
    try:
        users = change()
    except RenkeiError as exc:
        Console(stderr=True).print(f"[red]broker users not {verb}:[/red] {exc}")
        raise typer.Exit(1) from None
    _print_users(users, as_json, verb=verb)


def _print_users(users: tuple[defs.BrokerUser, ...], as_json: bool, *, verb: str | None) -> None:
    if as_json:
        rows = [
            {"role": u.role, "user": u.name, "configure": u.configure, "write": u.write, "read": u.read}
            for u in users
        ]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"broker users ({verb})" if verb else "broker users")
    for column in ("user", "configure", "write", "read"):
        table.add_column(column, overflow="fold")
    for u in users:
        table.add_row(u.name, u.configure, u.write, u.read)
    Console().print(table)

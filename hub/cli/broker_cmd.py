"""``renkei topology definitions``: the broker's definitions document, with least-privilege users.

Mounted under ``renkei topology`` next to ``apply``. The document (see :mod:`hub.infra.broker_definitions`)
is imported with ``rabbitmqctl import_definitions FILE`` (or ``-`` for standard input) or loaded at boot.
Passwords are read from files, one per user, the way container secrets arrive, and only their RabbitMQ
hashes are written; nothing secret is ever printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from contracts.errors import ConfigurationError
from hub.infra import broker_definitions as defs
from hub.settings import Settings

__all__ = ["app", "definitions"]

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
            help="password of one broker user, read from FILE (repeatable). ROLE is hub, operator, "
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

"""``renkei keys``: rotate the vault's keys and re-wrap the data keys, never exposing a number.

``renkei keys rotate`` adds a new version of the key-encryption key (and, if asked, of the blind-index key,
the token root or recipients' sealing keys), saves the keyring, then re-wraps every subject's data key under
the new KEK. Old versions stay in the keyring, so everything written under them stays readable.

When the keyring comes from an environment variable (``RENKEI_KEY_ENV``) the command cannot update it: it
writes the rotated keyring to ``--output`` and stops. Put that file's contents into the variable, restart,
then run ``renkei keys rewrap``. Re-wrapping before the new keyring is in force would leave data keys
wrapped by a KEK the running hub does not have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import ConfigurationError, StoreUnavailable
from hub.bootstrap.common import open_database
from hub.infra.crypto.keyring import Keyring, load_keyring, rotate, save_keyring
from hub.infra.crypto.service_keys import operator_keys
from hub.infra.vault_lifecycle import rewrap_all
from hub.settings import Settings

__all__ = ["RotationReport", "app", "rewrap_keys", "rotate_keys"]

app = typer.Typer(help="The vault's keys: rotation and re-wrapping.", no_args_is_help=True)


@dataclass
class RotationReport:
    """What a rotation did (key ids only; key ids are not secret)."""

    saved_to: str
    current: dict[str, str] = field(default_factory=dict)
    rotated: list[str] = field(default_factory=list)
    rewrapped: int | None = None

    def as_json(self) -> dict[str, object]:
        """The summary printed by ``--json``."""
        return {
            "saved_to": self.saved_to,
            "rotated": self.rotated,
            "current_key_ids": self.current,
            "rewrapped": self.rewrapped,
        }


def _current_ids(keyring: Keyring) -> dict[str, str]:
    ids = {
        "kek": keyring.kek.current.key_id,
        "blind_index": keyring.blind_index.current.key_id,
        "token_root": keyring.token_root.current.key_id,
    }
    ids.update({f"sealing.{r}": s.current.key_id for r, s in sorted(keyring.sealing.items())})
    return ids


def rewrap_keys(settings: Settings, keyring: Keyring | None = None) -> int:
    """Re-wrap every data key under the newest KEK of the keyring in force; returns how many."""
    vault = keyring.vault if keyring is not None else operator_keys(settings).vault
    engine = open_database(settings)
    try:
        with engine.begin() as conn:
            return rewrap_all(conn, vault)
    finally:
        engine.dispose()


def rotate_keys(
    settings: Settings,
    *,
    blind_index: bool = False,
    token_root: bool = False,
    sealing: tuple[str, ...] = (),
    output: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> RotationReport:
    """Add key versions, save the keyring, and (when it is the keyring in force) re-wrap the data keys.

    Raises:
        ConfigurationError: the keyring cannot be loaded, a recipient is unknown, or the keyring comes
            from an environment variable and no ``output`` was given.
    """
    keyring = load_keyring(settings, environ)
    unknown = [r for r in sealing if r not in keyring.sealing]
    if unknown:
        raise ConfigurationError(f"no sealing key to rotate for {', '.join(unknown)}")
    if settings.key_env and output is None:
        raise ConfigurationError(
            "the keyring comes from RENKEI_KEY_ENV, which this command cannot change: give --output FILE, "
            "put the file's contents into the variable, restart, then run `renkei keys rewrap`"
        )
    rotated = rotate(keyring, blind_index=blind_index, token_root=token_root, sealing=sealing)
    names = ["kek"] + (["blind_index"] if blind_index else []) + (["token_root"] if token_root else [])
    report = RotationReport(
        saved_to=str(output or settings.keyring_path),
        current=_current_ids(rotated),
        rotated=names + [f"sealing.{r}" for r in sealing],
    )
    # The new keyring is saved before any data key is wrapped by it: never the other way round.
    save_keyring(rotated, output or settings.keyring_path)
    if output is None or output.resolve() == settings.keyring_path.resolve():
        report.rewrapped = rewrap_keys(settings, rotated)
    return report


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def _fail(console: Console, message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command("rotate")
def rotate_cmd(
    ctx: typer.Context,
    *,
    blind_index: Annotated[bool, typer.Option("--blind-index", help="Also add a blind-index key.")] = False,
    token_root: Annotated[bool, typer.Option("--token-root", help="Also add a token root key.")] = False,
    seal: Annotated[
        list[str] | None,
        typer.Option("--seal", help="Also rotate this recipient's sealing key (repeatable)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write the rotated keyring here instead (no re-wrap).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Add a new KEK version (and others if asked), save the keyring, and re-wrap the data keys."""
    console = Console()
    settings = _settings(ctx)
    try:
        report = rotate_keys(
            settings, blind_index=blind_index, token_root=token_root, sealing=tuple(seal or ()), output=output
        )
    except ConfigurationError as exc:
        raise _fail(console, str(exc)) from exc
    except (SQLAlchemyError, StoreUnavailable) as exc:
        raise _fail(
            console,
            "the keyring was rotated and saved, but the data keys could not be re-wrapped "
            f"({type(exc).__name__}); is the schema current (`renkei db upgrade`)? "
            "Then run `renkei keys rewrap`",
        ) from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    table = Table(title=f"keyring saved to {report.saved_to}")
    table.add_column("key")
    table.add_column("current key id")
    table.add_column("rotated")
    for name, key_id in report.current.items():
        table.add_row(name, key_id, "yes" if name in report.rotated else "")
    console.print(table)
    if report.rewrapped is None:
        console.print("data keys were not re-wrapped: install the new keyring, then run `renkei keys rewrap`")
    else:
        console.print(f"re-wrapped {report.rewrapped} data key(s) under the new KEK; no number was decrypted")


@app.command("rewrap")
def rewrap_cmd(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Re-wrap every data key under the newest KEK of the keyring in force (after a rotation)."""
    console = Console()
    try:
        count = rewrap_keys(_settings(ctx))
    except ConfigurationError as exc:
        raise _fail(console, str(exc)) from exc
    except (SQLAlchemyError, StoreUnavailable) as exc:
        raise _fail(console, f"the database failed ({type(exc).__name__}); is the schema current?") from exc
    if as_json:
        typer.echo(json.dumps({"rewrapped": count}))
    else:
        console.print(f"re-wrapped {count} data key(s); no number was decrypted")

"""What an operator command takes from how it was invoked: its settings, who runs it, and how it stops.

Shared by the commands that act for a person (``approvals``, ``dlq``, ``vault``) and those that read the
settings from the click context (tests and a parent command may pass :class:`Settings` as its object).
"""

from __future__ import annotations

import getpass

import typer
from rich.console import Console
from rich.text import Text

from hub.settings import Settings

__all__ = ["fail", "operator_name", "settings_of"]

_err = Console(stderr=True, highlight=False)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings a test or a parent command passed as the context object, or those of the environment."""
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on standard error and return the exit to raise (2: bad usage)."""
    _err.print(Text(f"error: {message}", style="red"))
    return typer.Exit(code)


def operator_name(given: str | None) -> str:
    """Who acts: ``--operator`` (trimmed) or else the OS user; written to every record of the action."""
    if given and given.strip():
        return given.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        raise fail("cannot tell who you are: pass --operator NAME") from None

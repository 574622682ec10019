"""The ``renkei`` command (``main`` is the process entry point: ``renkei = hub.cli.main:main``).

Each command group lives in a module of its own, imported when the group is used: ``renkei run hub`` loads
what the hub worker needs, not the console, the bench and every other command. A service process starts in
about two thirds of the CPU time, and ``renkei audit verify`` in half (every restart, every operator's
command and every test that starts a process notices). ``app``, every command at once (``renkei --help``,
the top-level commands, the tests), is built on first use.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable, Sequence

import typer

from hub.infra.private_files import owner_only_umask

__all__ = ["GROUPS", "build", "main"]  # and ``app``, every command (built on first use)

_HELP = (
    "renkei (連携): the My Number linkage hub of the pension federation. "
    "Routes messages between the pension system, J-LIS, the intermediate server and eLTAX, "
    "keeps Individual Numbers in an encrypted vault and an access record for every message."
)

GROUPS: dict[str, str] = {
    "contracts": "hub.cli.contracts_cmd",
    "topology": "hub.cli.topology_cmd",
    "db": "hub.cli.db_cmd",
    "run": "hub.cli.run_cmd",
    "keys": "hub.cli.keys",
    "retention": "hub.cli.retention",
    "audit": "hub.cli.audit",
    "console": "hub.cli.console_cmd",
    "dlq": "hub.cli.dlq",
    "vault": "hub.cli.vault_cmd",
    "approvals": "hub.cli.approvals_cmd",
}
"""The command groups, in the order ``renkei --help`` lists them, and the module whose ``app`` each is."""

_COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("hub.cli.demo", "demo"),
    "bench": ("hub.cli.bench_cmd", "bench"),
}
"""The top-level commands (listed before the groups): the module and the function of each."""


def _root() -> typer.Typer:
    return typer.Typer(
        name="renkei",
        help=_HELP,
        no_args_is_help=True,
        pretty_exceptions_show_locals=False,  # locals may hold numbers: never print them
    )


@functools.cache
def _group(name: str) -> typer.Typer:
    """The ``app`` of group ``name`` (imported once; ``topology`` with the broker's security commands)."""
    group: typer.Typer = importlib.import_module(GROUPS[name]).app
    if name == "topology":
        from hub.cli import broker_cmd

        group.command("definitions")(broker_cmd.definitions)
        group.add_typer(broker_cmd.users_app, name="users")
    return group


def _command(name: str) -> Callable[..., object]:
    module, function = _COMMANDS[name]
    command: Callable[..., object] = getattr(importlib.import_module(module), function)
    return command


def build(groups: Sequence[str] | None = None) -> typer.Typer:
    """The ``renkei`` app with the given ``groups`` only (``None``: every command and group)."""
    root = _root()
    if groups is None:
        for name in _COMMANDS:
            root.command(name)(_command(name))
    for name in GROUPS if groups is None else groups:
        root.add_typer(_group(name), name=name)
    return root


@functools.cache
def _app() -> typer.Typer:
    return build()


def __getattr__(name: str) -> typer.Typer:
    """``hub.cli.main.app``: every command, built on first use."""
    if name == "app":
        return _app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The ``renkei`` process: owner-only files from its first write (umask 077), then the command.

    The umask is the process's, so it is set here, where the process starts, and not by a command (a test
    that invokes a command in its own process keeps its umask). A command of a group loads that group
    alone; anything else (``--help``, ``demo``, ``bench``, a mistyped name) gets the whole app.
    """
    owner_only_umask()
    first = sys.argv[1] if len(sys.argv) > 1 else ""
    (build([first]) if first in GROUPS else _app())()


if __name__ == "__main__":  # pragma: no cover
    main()

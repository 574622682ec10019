"""``renkei GROUP ...`` loads that group alone, and the group it loads is the one ``renkei --help`` shows.

Every service is a ``renkei run`` process and every operator's job a ``renkei audit``, ``renkei retention``
... process: importing the console, the bench and every other command for each of them cost about a
second of CPU per process.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import typer
import typer.main

from hub.cli.main import GROUPS, app, build


def _tree(command: Any) -> dict[str, Any]:
    """Every sub-command's name, recursively, with its parameters' names."""
    return {
        name: {
            "params": sorted(p.name or "" for p in sub.params),
            "help": sub.help,
            "commands": _tree(sub),
        }
        for name, sub in (getattr(command, "commands", None) or {}).items()
    }


@pytest.mark.parametrize("group", list(GROUPS))
def test_a_group_built_alone_is_the_group_of_the_whole_app(group: str) -> None:
    whole = _tree(typer.main.get_command(app))
    alone = _tree(typer.main.get_command(build([group])))
    assert list(alone) == [group]
    assert alone[group] == whole[group]


def test_the_whole_app_has_every_group_and_the_top_level_commands() -> None:
    assert list(_tree(typer.main.get_command(app))) == ["demo", "bench", *GROUPS]


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["run", "--help"], ["hub.console.app", "hub.cli.bench_cmd", "hub.cli.audit"]),
        (["audit", "--help"], ["hub.console.app", "hub.cli.run_cmd", "hub.bootstrap.adapters"]),
    ],
)
def test_a_process_running_a_group_imports_neither_the_console_nor_the_other_groups(
    argv: list[str], absent: list[str]
) -> None:
    code = (
        "import sys\n"
        "from hub.cli import main\n"
        f"sys.argv = ['renkei', *{argv!r}]\n"
        "try:\n"
        "    main.main()\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        f"print(sorted(m for m in {absent!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout[-2000:]
    assert "Usage:" in result.stdout


def test_the_topology_group_keeps_the_brokers_security_commands_once() -> None:
    topology = typer.main.get_command(build(["topology"])).commands["topology"]  # type: ignore[attr-defined]
    typer.main.get_command(app)  # building the whole app again adds nothing twice
    again = typer.main.get_command(build(["topology"])).commands["topology"]  # type: ignore[attr-defined]
    assert {"definitions", "users"} <= set(topology.commands)
    assert list(again.commands) == list(topology.commands)

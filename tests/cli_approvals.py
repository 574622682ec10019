"""Four eyes from the command line, for tests: one person requests, another approves (``renkei approvals``).

Import what you use: ``from tests.cli_approvals import approved_hold, approved_dead_letters``.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hub.cli import approvals_cmd
from hub.settings import Settings

__all__ = ["approved", "approved_dead_letters", "approved_hold"]


def approved(settings: Settings, args: list[str], *, by: str, approver: str) -> str:
    """``by`` requests ``args`` (``request``'s arguments after the action), ``approver`` approves; the id."""
    runner = CliRunner()
    asked = runner.invoke(approvals_cmd.app, ["request", *args, "--operator", by, "--json"], obj=settings)
    assert asked.exit_code == 0, asked.output
    approval_id = str(json.loads(asked.output)["approval_id"])
    done = runner.invoke(
        approvals_cmd.app, ["approve", approval_id, "--operator", approver, "--json"], obj=settings
    )
    assert done.exit_code == 0, done.output
    return approval_id


def approved_hold(
    settings: Settings, hold_id: str, link_candidate: int | None, *, by: str, approver: str = "suzuki"
) -> str:
    """An approved request to resolve a hold: link ``link_candidate``, or reject (``None``)."""
    choice = ["--link-candidate", str(link_candidate)] if link_candidate is not None else ["--reject"]
    args = ["resolve_hold", "--hold", hold_id, *choice, "--reason", "本人確認の結果"]
    return approved(settings, args, by=by, approver=approver)


def approved_dead_letters(
    settings: Settings, ids: list[int], *, discard: bool = False, by: str, approver: str = "suzuki"
) -> str:
    """An approved request to replay (or discard) dead letters carrying numbers."""
    action = "discard_dead_letters" if discard else "replay_dead_letters"
    args = [action, "--ids", ",".join(str(i) for i in ids), "--reason", "相手方の障害が復旧した"]
    return approved(settings, args, by=by, approver=approver)

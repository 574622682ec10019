"""The walking skeleton: the survival/change inquiry end to end on the real broker."""

from __future__ import annotations

import pytest

from hub.cli.demo import run_demo

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(180)
def test_demo_completes_every_record_once(e2e_settings):
    report = run_demo(e2e_settings, 1000, timeout_s=150, console=None)
    summary = report.as_json()
    assert summary["lost"] == 0
    assert summary["flows"]["survival_inquiry"] == {"sent": 1000, "completed": 1000}
    assert summary["duplicates"] == 0
    assert summary["dead_lettered"] == 0
    # The synthetic register produces every kind of outcome in a thousand people.
    assert {"alive", "dead", "moved"} <= set(summary["outcomes"])
    assert sum(summary["outcomes"].values()) == 1000


@pytest.mark.timeout(180)
def test_a_second_cycle_reuses_the_vault_and_completes_again(e2e_settings):
    first = run_demo(e2e_settings, 200, timeout_s=120, console=None)
    second = run_demo(e2e_settings, 200, timeout_s=120, console=None)
    assert first.lost == second.lost == 0
    assert second.batch_id != first.batch_id

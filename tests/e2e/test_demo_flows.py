"""`renkei demo`: the survival inquiry, number acquisition and dependants' declarations lose nothing."""

from __future__ import annotations

import pytest

from hub.demo.runner import run_demo

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

FLOWS = ["survival_inquiry", "number_acquisition", "dependants_declaration"]


@pytest.mark.timeout(150)
def test_the_three_flows_complete_every_record_once(e2e_settings) -> None:
    report = run_demo(e2e_settings, 300, timeout_s=100, console=None, flows=FLOWS)
    summary = report.as_json()
    assert summary["lost"] == 0, summary
    assert summary["duplicates"] == 0
    assert summary["dead_lettered"] == 0
    assert summary["flows"] == {
        "survival_inquiry": {"sent": 300, "completed": 300},
        "number_acquisition": {"sent": 300, "completed": 300},
        "dependants_declaration": {"sent": 270, "completed": 270},
    }
    acquisition = summary["outcomes"]["number_acquisition"]
    assert acquisition["linked"] > 200
    assert acquisition["held:multiple_candidates"] > 0
    assert acquisition["held:no_match"] > 0
    declarations = summary["outcomes"]["dependants_declaration"]
    assert declarations["stored"] == 270
    assert declarations["dependants_stored"] >= 270 + 30  # a spouse for every tenth, and 1-3 relatives each
    survival = summary["outcomes"]["survival_inquiry"]
    assert sum(survival.values()) == 300

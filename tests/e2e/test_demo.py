"""The walking skeleton: the survival/change inquiry end to end on the real broker."""

from __future__ import annotations

from collections import Counter

import pytest

from hub.demo.data import demo_population
from hub.demo.deployment import local_deployment
from hub.demo.runner import run_demo
from hub.infra.crypto.key_needs import check_keyring
from hub.infra.crypto.keyring import read_keyring_file
from hub.infra.service_names import SERVICE_NAMES

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(180)
def test_demo_completes_every_record_once_with_the_right_outcome(e2e_settings):
    report = run_demo(e2e_settings, 1000, timeout_s=150, console=None)
    summary = report.as_json()
    assert summary["lost"] == 0
    assert summary["flows"]["survival_inquiry"] == {"sent": 1000, "completed": 1000}
    assert summary["duplicates"] == 0
    assert summary["dead_lettered"] == 0
    # Every service ran with its own keyring, holding its keys and no other (a format-1 keyring never made).
    for service in SERVICE_NAMES:
        check_keyring(read_keyring_file(e2e_settings.keyring_path_of(service)), service)
    assert not e2e_settings.legacy_keyring_path.exists()

    # Every person's outcome is what the synthetic register says J-LIS answers for them this cycle.
    population = demo_population(1000)
    batch_id, cycle = summary["survival_inquiry"]["batch_id"], summary["survival_inquiry"]["cycle"]
    rows = local_deployment(e2e_settings, configure_logs=False).pension_system().read_outcomes(batch_id)
    expected = Counter()
    for row in rows:
        index = population.index_of_usage_number(population.usage_number(int(row.usage_number[1:])))
        want = population.expected_outcome(index, cycle)
        expected[want.outcome.value] += 1
        assert row.outcome == want.outcome, f"record {row.record_seq}"
        assert row.death_date == want.death_date
        assert row.move_kind == want.move_kind
    assert dict(expected) == summary["outcomes"]["survival_inquiry"]
    assert len(expected) >= 2


@pytest.mark.timeout(180)
def test_a_second_cycle_reuses_the_vault_and_completes_again(e2e_settings):
    first = run_demo(e2e_settings, 200, timeout_s=120, console=None)
    second = run_demo(e2e_settings, 200, timeout_s=120, console=None)
    assert first.lost == second.lost == 0
    assert second.details["survival_inquiry"]["batch_id"] != first.details["survival_inquiry"]["batch_id"]

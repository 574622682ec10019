"""The walking skeleton: the survival/change inquiry end to end on the real broker.

One demo of 1,000 people serves the checks of its outcomes and of what J-LIS received (the simulator's
handler is watched for that run); the second cycle runs on its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from adapters.jlis import JlisSimulator
from adapters.jlis.names import flow_of
from adapters.jlis.wire import parse_request
from contracts.individual_number import IndividualNumber
from contracts.link import CounterpartFile
from hub.demo.data import demo_population
from hub.demo.deployment import local_deployment
from hub.demo.runner import DemoReport, run_demo
from hub.demo.survival import dependant_only
from hub.infra.keys.keyring import read_keyring_file
from hub.infra.keys.needs import check_keyring
from hub.infra.service_names import SERVICE_NAMES
from hub.settings import Settings
from tests.e2e.conftest import delete_e2e_topology, make_e2e_settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@dataclass(frozen=True)
class DemoRun:
    settings: Settings
    report: DemoReport
    received: list[IndividualNumber]
    """What the J-LIS simulator received in the survival inquiry, read from the request files themselves."""


PEOPLE = 1000


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """``run_demo`` of :data:`PEOPLE` people, watching what the J-LIS simulator receives (the counterpart's
    side) without changing what it answers."""
    settings = make_e2e_settings(tmp_path_factory.mktemp("demo") / "var")
    received: list[IndividualNumber] = []
    handle = JlisSimulator.handle

    def spy(self: JlisSimulator, file: CounterpartFile) -> list[CounterpartFile]:
        if flow_of(file.name) == "survival":
            received.extend(r.individual_number for r in parse_request(file.content).records)
        return handle(self, file)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(JlisSimulator, "handle", spy)
            report = run_demo(settings, PEOPLE, timeout_s=150, console=None)
        yield DemoRun(settings, report, received)
    finally:
        delete_e2e_topology(settings)


@pytest.mark.timeout(180)
def test_demo_completes_every_record_once_with_the_right_outcome(demo_run):
    e2e_settings, report = demo_run.settings, demo_run.report
    summary = report.as_json()
    population = demo_population(1000)
    mistaken = dependant_only(population, 1000)  # declared grandchildren the request names by mistake
    assert len(mistaken) == 20
    assert summary["lost"] == 0
    assert summary["flows"]["survival_inquiry"] == {"sent": 1020, "completed": 1020}
    assert summary["duplicates"] == 0
    assert summary["dead_lettered"] == 0
    # Every service ran with its own keyring, holding its keys and no other (a format-1 keyring never made).
    for service in SERVICE_NAMES:
        check_keyring(read_keyring_file(e2e_settings.keyring_path_of(service)), service)
    assert not e2e_settings.legacy_keyring_path.exists()

    # Every person's outcome is what the synthetic register says J-LIS answers for them this cycle.
    batch_id, cycle = summary["survival_inquiry"]["batch_id"], summary["survival_inquiry"]["cycle"]
    rows = local_deployment(e2e_settings, configure_logs=False).pension_system().read_outcomes(batch_id)
    expected = Counter({"not_permitted": len(mistaken)})
    refused = {r.usage.value for r in mistaken}
    for row in rows:
        if row.usage_number in refused:
            assert row.outcome.value == "not_permitted"
            assert row.not_permitted_reason is not None
            assert row.not_permitted_reason.value == "role_not_permitted"
            continue
        index = population.index_of_usage_number(population.usage_number(int(row.usage_number[1:])))
        assert index is not None, f"record {row.record_seq} names a person of the population"
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


@pytest.mark.timeout(180)
def test_the_survival_inquiry_never_sends_a_dependant_only_number_to_jlis(demo_run):
    summary = demo_run.report.as_json()
    received = demo_run.received
    population = demo_population(PEOPLE)
    mistaken = dependant_only(population, PEOPLE)
    assert mistaken
    assert summary["lost"] == 0
    assert summary["outcomes"]["survival_inquiry"]["not_permitted"] == len(mistaken)
    assert received, "the simulator saw the inquiry"
    assert len(received) == PEOPLE  # every pensioner and spouse, and nobody else
    assert not {r.number for r in mistaken} & set(received)
    assert {population.individual_number(i) for i in range(PEOPLE)} == set(received)

"""Dependants' declarations end to end on the real broker: sealed at once, stored with their retention,
the file deleted, nothing number-like left at rest outside the vault."""

from __future__ import annotations

import os
from datetime import date

import pytest

from adapters.jlis import SyntheticPopulation
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.messages.dependants import DeclarationStatus
from contracts.redaction import find_numbers
from hub.core.rules.retention import DEPENDANTS_DECLARATION, dependants_declaration_purge_after
from hub.demo.data import DEMO_SEED
from hub.demo.dependants import MAX_RELATIVES, declaration_rows, declarations_in, filing_deadline
from hub.ports.vault import Retention
from tests.e2e._running import running_hub, wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 40


@pytest.mark.timeout(120)
def test_declarations_are_stored_with_their_retention_and_acknowledged(e2e_settings) -> None:
    population = SyntheticPopulation(size=RECORDS, seed=DEMO_SEED)
    relatives = SyntheticPopulation(size=RECORDS * MAX_RELATIVES, seed=DEMO_SEED + 2)
    rows = list(declaration_rows(population, relatives, RECORDS))
    assert len(rows) == declarations_in(RECORDS)
    deadline = filing_deadline(2027)
    purge = dependants_declaration_purge_after(deadline)
    with running_hub(e2e_settings, population) as hub:
        pension = PensionRequestsSimulator(e2e_settings.wire_dir / "pension")
        path = pension.drop_dependants_declarations(
            rows, tax_year=2027, filing_deadline=deadline, batch_id="dec-e2e", actor="m130001"
        )
        acked = lambda: pension.acknowledged_declarations("dec-e2e") == len(rows)  # noqa: E731
        wait_until(acked, timeout_s=60, what="every acknowledgement")
        acks = list(pension.dependants_acks("dec-e2e"))
        dependants = [d for r in rows for d in r.dependants]
        with hub.uow_factory()() as uow:
            found = uow.vault.subjects_by_usage([d.usage_number for d in dependants])
            history = uow.vault.number_history(list(found.values()))
    assert {a.status for a in acks} == {DeclarationStatus.STORED}
    assert sum(a.dependants_stored for a in acks) == len(dependants)
    assert {a.purge_after for a in acks} == {purge}
    for d in dependants:
        (record,) = history[found[d.usage_number]]
        assert record.number == d.individual_number
        assert record.retention == Retention(DEPENDANTS_DECLARATION, purge)
    # The declaration file is gone (deleted, not moved) and nothing at rest holds a plain number.
    assert not path.exists()
    for root, _, files in os.walk(e2e_settings.data_dir):
        for name in files:
            content = open(os.path.join(root, name), "rb").read().decode("utf-8", errors="ignore")  # noqa: SIM115
            assert not find_numbers(content), name
    assert date(2035, 1, 10) == purge

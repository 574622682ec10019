"""Every outcome kind of the survival/change inquiry, end to end on the real broker, for chosen people.

People are picked from the synthetic register by what J-LIS answers for them in the test's cycle
(``SyntheticPopulation.expected_outcome``): alive, dead with its date, each kind of move (moved out and not
yet in, abroad), a name change, a number change, each reason of not found, and a spouse asked by the
spouse's dependant key. One more number change collides in the vault and must be held, not fail the chunk.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from adapters.jlis import SyntheticPopulation
from adapters.pension import PensionSystemSimulator
from contracts.messages.survival import MoveKind, PensionAction, SurvivalOutcome, UnmatchedReason
from contracts.redaction import find_numbers
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.cli import vault_cmd
from hub.core.operator.holds import jlis_grounds
from hub.demo.data import DEMO_SEED
from hub.ports.vault import Retention
from tests.e2e._running import running_hub, wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

SIZE = 300_000
CYCLE = "2026-12"
ENTITLEMENT = Retention("pension.entitlement")


def _kind(population: SyntheticPopulation, index: int) -> str:
    o = population.expected_outcome(index, CYCLE)
    detail = o.move_kind or o.unmatched_reason
    return f"{o.outcome.value}:{detail.value if detail else ''}"


WANTED = (
    "alive:",
    "dead:",
    "moved:relocation",
    "moved:moved_in",
    "moved:moved_out_pending",
    "moved:moved_abroad",
    "name_changed:",
    "number_changed:",
    "not_found:abroad",
    "not_found:no_resident_code",
    "not_found:not_connected_municipality",
)


def pick(population: SyntheticPopulation) -> tuple[dict[str, int], int, int]:
    """One person per wanted kind, a spouse who is alive, and a second number change (to collide)."""
    chosen: dict[str, int] = {}
    spouse = second_change = -1
    for index in range(population.size):
        kind = _kind(population, index)
        if kind in WANTED and kind not in chosen and not population.is_spouse(index):
            chosen[kind] = index
        elif kind == "alive:" and spouse < 0 and population.is_spouse(index):
            spouse = index
        elif kind == "number_changed:" and kind in chosen and second_change < 0:
            second_change = index
        if len(chosen) == len(WANTED) and spouse >= 0 and second_change >= 0:
            return chosen, spouse, second_change
    raise AssertionError(f"the register lacks {set(WANTED) - set(chosen)}")


@pytest.mark.timeout(120)
def test_every_survival_outcome_kind_reaches_the_pension_system(e2e_settings) -> None:
    population = SyntheticPopulation(size=SIZE, seed=DEMO_SEED)
    chosen, spouse, collider = pick(population)
    people = [*chosen.values(), collider]
    asked = [population.usage_number(i) for i in people] + [population.spouse_usage_number(spouse)]
    intruder = UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="X-intruder")

    with running_hub(e2e_settings, population) as hub:
        with hub.uow_factory()() as uow:
            enrolled = uow.vault.enrol(
                [(population.usage_number(i), population.individual_number(i)) for i in people]
                + [(population.spouse_usage_number(spouse), population.individual_number(spouse))]
                # Someone else already holds the collider's new number: its change must be held.
                + [(intruder, population.individual_number(collider, 1))],
                retention=ENTITLEMENT,
                source="test",
            )
            # Obtained from J-LIS as 受給権者 and 加給年金額対象配偶者: J-LIS may be asked about them.
            jlis_grounds(uow.vault, [(s, u) for u, s in enrolled.items()], source="test")
            uow.commit()
        pension = PensionSystemSimulator(e2e_settings.wire_dir / "pension")
        pension.drop_survival_request(asked, cycle=CYCLE, as_of=date(2026, 11, 20), batch_id="kinds-1")
        wait_until(lambda: pension.completed("kinds-1") == len(asked), timeout_s=60, what="every outcome")
        rows = {r.usage_number: r for r in pension.read_outcomes("kinds-1")}

        with hub.uow_factory()() as uow:
            subjects = uow.vault.subjects_by_usage([population.usage_number(chosen["number_changed:"])])
            history = uow.vault.number_history(list(subjects.values()))
            (hold,) = uow.holds.pending()
    assert len(rows) == len(asked)

    def row(kind: str):
        return rows[population.usage_number(chosen[kind]).value]

    alive = row("alive:")
    assert (alive.outcome, alive.actions) == (SurvivalOutcome.ALIVE, (PensionAction.CONTINUE_PAYMENT,))
    dead = row("dead:")
    assert dead.outcome is SurvivalOutcome.DEAD
    assert dead.death_date == population.expected_outcome(chosen["dead:"], CYCLE).death_date
    assert dead.actions == (PensionAction.TERMINATE_AFTER_MONTH_OF_DEATH,)
    for kind, move in (("moved:relocation", MoveKind.RELOCATION), ("moved:moved_in", MoveKind.MOVED_IN)):
        r = row(kind)
        expected = population.expected_outcome(chosen[kind], CYCLE)
        assert (r.move_kind, r.address_text, r.address_abroad) == (move, expected.new_address, False)
        assert r.actions == (PensionAction.UPDATE_ADDRESS,)
    pending_move = row("moved:moved_out_pending")
    assert (pending_move.move_kind, pending_move.address_text) == (MoveKind.MOVED_OUT_PENDING, None)
    assert pending_move.actions == (PensionAction.HOLD_UNTIL_MOVE_IN,)
    abroad = row("moved:moved_abroad")
    assert (abroad.move_kind, abroad.address_abroad) == (MoveKind.MOVED_ABROAD, True)
    assert abroad.actions == (PensionAction.UPDATE_ADDRESS, PensionAction.SEND_GENKYO_TODOKE)
    renamed = row("name_changed:")
    assert renamed.outcome is SurvivalOutcome.NAME_CHANGED
    assert renamed.new_name == population.expected_outcome(chosen["name_changed:"], CYCLE).new_name
    assert renamed.needs_document is True
    assert renamed.actions == (PensionAction.REQUEST_NAME_DOCUMENTS,)
    for reason in UnmatchedReason:
        if reason is UnmatchedReason.NUMBER_UNKNOWN:
            continue
        r = row(f"not_found:{reason.value}")
        assert (r.outcome, r.unmatched_reason) == (SurvivalOutcome.NOT_FOUND, reason)
        assert r.actions == (PensionAction.SEND_GENKYO_TODOKE,)

    # A number change is relinked in the vault: the old number kept in the history, the new one current.
    changed = row("number_changed:")
    assert (changed.outcome, changed.actions) == (
        SurvivalOutcome.NUMBER_CHANGED,
        (PensionAction.CONTINUE_PAYMENT,),
    )
    (records,) = history.values()
    index = chosen["number_changed:"]
    assert [(r.number, r.is_current) for r in records] == [
        (population.individual_number(index), False),
        (population.individual_number(index, 1), True),
    ]
    # The colliding change is answered like any other, and held for an operator instead of failing.
    assert rows[population.usage_number(collider).value].outcome is SurvivalOutcome.NUMBER_CHANGED
    assert hold.reason.value == "number_conflict"
    assert hold.usage_number == population.usage_number(collider)
    listed = CliRunner().invoke(vault_cmd.app, ["pending", "--json"], obj=e2e_settings)
    assert listed.exit_code == 0, listed.output
    assert [h["hold_id"] for h in json.loads(listed.output)["holds"]] == [hold.hold_id]
    assert not find_numbers(listed.output)

    # The spouse is answered under the spouse's own key.
    spouse_row = rows[population.spouse_usage_number(spouse).value]
    assert spouse_row.usage_number_kind is UsageNumberKind.DEPENDANT
    assert spouse_row.outcome is SurvivalOutcome.ALIVE
    for path in (e2e_settings.wire_dir / "pension" / "outbound").iterdir():
        assert not find_numbers(path.read_text(errors="ignore")), path.name

"""Number acquisition by 基本4情報 end to end on the real broker.

Unique matches (four items, three items, an address in another notation) are linked; several candidates
and none are held; the holds are listed and resolved by an operator, whose decision reaches the pension
system through the running hub.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from typer.testing import CliRunner

from adapters.jlis import NewEntitlementRegister, SyntheticPopulation
from adapters.jlis.register import Answer
from adapters.pension.acquisition import AcquisitionOutcomeRow, AcquisitionRow
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.messages.jlis_acquisition import AcquisitionStatus, HoldReason, MatchStatus, NoMatchReason, Sex
from contracts.redaction import find_numbers
from hub.cli import vault_cmd
from hub.demo.data import DEMO_SEED, demo_register
from tests.cli_approvals import approved_hold
from tests.e2e._running import running_hub, wait_until

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

SIZE = 2_000


def _key(register: NewEntitlementRegister, index: int) -> str:
    a = register.entitlement(index).expected
    reason = a.no_match_reason.value if a.no_match_reason else ""
    return f"{a.status.value}:{reason}:{a.address_normalised}"


def pick(register: NewEntitlementRegister) -> dict[str, list[int]]:
    wanted = {
        "unique::False": 2,
        "unique::True": 1,
        "multiple_candidates::False": 2,
        "none:no_record:False": 1,
        "none:no_resident_code:False": 1,
    }
    chosen: dict[str, list[int]] = {k: [] for k in wanted}
    for index in range(register.size):
        key = _key(register, index)
        if key in wanted and len(chosen[key]) < wanted[key]:
            chosen[key].append(index)
        if all(len(chosen[k]) == n for k, n in wanted.items()):
            return chosen
    raise AssertionError("the register lacks some answers")


@pytest.mark.timeout(120)
def test_acquisition_links_holds_and_resolves_through_the_broker(e2e_settings) -> None:
    register = demo_register(SIZE)
    chosen = pick(register)
    rows: list[AcquisitionRow] = []
    expected: dict[int, Answer] = {}
    for index in (i for group in chosen.values() for i in group):
        e = register.entitlement(index)
        seq = len(rows) + 1
        rows.append(AcquisitionRow(seq, e.usage_number, e.name, e.birth_date, e.address, e.sex))
        expected[seq] = e.expected
    # One namesake asked with all four items (under another entitlement's usage number): found alone.
    twin = register.person(chosen["multiple_candidates::False"][1], twin=True)
    twin_seq, spare = len(rows) + 1, SIZE - 1
    assert all(spare not in group for group in chosen.values())
    rows.append(
        AcquisitionRow(
            twin_seq, register.usage_number(spare), twin.name, twin.birth_date, twin.address, twin.sex
        )
    )

    with running_hub(e2e_settings, SyntheticPopulation(size=SIZE, seed=DEMO_SEED)) as hub:
        pension = PensionRequestsSimulator(e2e_settings.wire_dir / "pension")
        pension.drop_acquisition_request(rows, as_of=date(2026, 11, 20), batch_id="acq-e2e")
        complete = lambda: pension.completed_acquisitions("acq-e2e") == len(rows)  # noqa: E731
        wait_until(complete, timeout_s=60, what="outcomes")
        outcomes = {r.record_seq: r for r in pension.acquisition_outcomes("acq-e2e")}
        assert Counter(r.status for r in outcomes.values()) == {
            AcquisitionStatus.LINKED: 4,
            AcquisitionStatus.HELD: 4,
        }
        for seq, answer in expected.items():
            row = outcomes[seq]
            if answer.status is MatchStatus.UNIQUE:
                assert row.status is AcquisitionStatus.LINKED
            elif answer.status is MatchStatus.MULTIPLE_CANDIDATES:
                assert (row.status, row.hold_reason, row.candidate_count) == (
                    AcquisitionStatus.HELD,
                    HoldReason.MULTIPLE_CANDIDATES,
                    2,
                )
            else:
                assert (row.status, row.hold_reason) == (AcquisitionStatus.HELD, HoldReason.NO_MATCH)
                assert row.no_match_reason is answer.no_match_reason
        assert outcomes[twin_seq].status is AcquisitionStatus.LINKED

        with hub.uow_factory()() as uow:
            linked = uow.vault.subjects_by_usage([r.usage_number for r in rows])
            numbers = uow.vault.numbers_of(list(linked.values()))
        for seq, answer in expected.items():
            subject = linked[rows[seq - 1].usage_number]
            if answer.status is MatchStatus.UNIQUE:
                assert numbers[subject] == answer.candidates[0].individual_number
            else:
                assert subject not in numbers
        assert numbers[linked[rows[twin_seq - 1].usage_number]] == twin.individual_number

        runner = CliRunner()
        listed = runner.invoke(vault_cmd.app, ["pending", "--json"], obj=e2e_settings)
        assert listed.exit_code == 0, listed.output
        assert not find_numbers(listed.output)
        holds = json.loads(listed.output)["holds"]
        assert Counter(h["reason"] for h in holds) == {"multiple_candidates": 2, "no_match": 2}
        multiple = next(h for h in holds if h["reason"] == "multiple_candidates")
        none = next(h for h in holds if h["no_match_reason"] == NoMatchReason.NO_RESIDENT_CODE.value)
        female = next(c for c in multiple["candidates"] if c["matched"]["sex"] == Sex.FEMALE.value)
        for hold, args, candidate in (
            (multiple, ["--link-candidate", str(female["candidate_no"])], female["candidate_no"]),
            (none, ["--reject"], None),
        ):
            done = runner.invoke(
                vault_cmd.app,
                [
                    *["resolve", hold["hold_id"], *args, "--reason", "確認済み", "--operator", "e2e"],
                    *["--approval", approved_hold(e2e_settings, hold["hold_id"], candidate, by="e2e")],
                ],
                obj=e2e_settings,
            )
            assert done.exit_code == 0, done.output

        # The running hub relays the operator's answers; the pension system reads them.
        def operator_rows() -> dict[str | None, AcquisitionOutcomeRow]:
            return {
                r.hold_id: r
                for r in pension.acquisition_outcomes("acq-e2e")
                if r.note and "確認済み" in r.note
            }

        wait_until(lambda: len(operator_rows()) == 2, timeout_s=30, what="the operator's answers")
        resolved = operator_rows()
        assert resolved[multiple["hold_id"]].status is AcquisitionStatus.LINKED
        assert resolved[none["hold_id"]].status is AcquisitionStatus.REFUSED
        with hub.uow_factory()() as uow:
            assert uow.holds.count_pending() == 2
    for path in (e2e_settings.wire_dir / "pension" / "outbound").iterdir():
        assert not find_numbers(path.read_text(errors="ignore")), path.name

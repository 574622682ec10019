"""Number acquisition, holds, dependants' declarations and number conflicts, through the real pieces.

The pension adapter, the hub's handlers (on an SQLite unit of work), the J-LIS adapter and its simulator
are chained by hand, without a broker: what each produces is fed to the next, as the hosts would. The
operator's side goes through the ``renkei vault`` command.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.jlis import JlisSimulator, SyntheticPopulation
from adapters.pension import ExchangeDirectory, PensionAdapter
from adapters.pension.acquisition import AcquisitionRow
from adapters.pension.dependants import DeclarationRow, DependantEntry
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.envelope import Envelope, new_envelope
from contracts.ids import new_id
from contracts.individual_number import synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.dependants import DependantRelation
from contracts.messages.jlis_acquisition import AcquisitionStatus, HoldReason, NoMatchReason
from contracts.messages.survival import (
    JlisResultRecord,
    JlisSurvivalChangeResult,
    SurvivalOutcome,
)
from contracts.redaction import find_numbers
from contracts.registry import decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.cli import vault_cmd
from hub.core.flows.survival import JLIS_PURPOSE, JLIS_REF_SCOPE
from hub.core.rules.retention import DEPENDANTS_DECLARATION, dependants_declaration_purge_after
from hub.core.runtime.routing import HANDLERS
from hub.demo.data import demo_register
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.crypto.sealing import HpkeSealer
from hub.infra.db.migrate import upgrade
from hub.infra.db.tables.audit import access_records
from hub.ports.holds import HoldStatus
from hub.ports.vault import Retention
from hub.settings import Settings
from tests.cli_approvals import approved_hold
from tests.handler_context import handler_context
from tests.pension_files import drain

REGISTER_SIZE = 3_000
AS_OF = date(2026, 11, 20)


@pytest.fixture
def hub(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "var", chunk_records=50)
    hub = local_deployment(settings, configure_logs=False)
    upgrade(hub.engine)
    yield hub
    hub.close()


def handle(hub: LocalDeployment, env: Envelope) -> list[Envelope]:
    """What the hub's worker does for one message, minus the broker: decode, handle, commit."""
    message = decode(encode(env))
    key = (message.envelope.message_type, message.envelope.schema_version)
    with hub.uow_factory()() as uow:
        ctx = handler_context(hub, uow, actor="hub:t")
        out = HANDLERS[key](message, ctx)
        uow.commit()
    return [decode(encode(e)).envelope for e in out]


def through_jlis(hub: LocalDeployment, query: Envelope, simulator: JlisSimulator) -> Envelope:
    adapter = hub.adapter("jlis")
    (file,) = adapter.from_hub(decode(encode(query))).to_counterpart
    (answer,) = simulator.handle(file)
    (result,) = adapter.from_counterpart(answer).to_hub
    return result


def records(hub: LocalDeployment, action: str) -> list[dict[str, Any]]:
    with hub.engine.connect() as conn:
        rows = conn.execute(select(access_records).where(access_records.c.action == action)).mappings()
        return [{**row, "details": json.loads(row["details"])} for row in rows]


def pick(register, wanted: dict[str, int]) -> list[int]:
    """Indexes of the register with the expected answers named (``status:reason:normalised`` → count)."""
    chosen, left = [], dict(wanted)
    for index in range(register.size):
        a = register.entitlement(index).expected
        key = (
            f"{a.status.value}:{a.no_match_reason.value if a.no_match_reason else ''}:{a.address_normalised}"
        )
        if left.get(key, 0) > 0:
            chosen.append(index)
            left[key] -= 1
        if not any(left.values()):
            return chosen
    raise AssertionError(f"the register has too few of {left}")


def acquisition_rows(register, indexes: list[int]) -> list[AcquisitionRow]:
    rows = []
    for seq, index in enumerate(indexes, start=1):
        e = register.entitlement(index)
        rows.append(AcquisitionRow(seq, e.usage_number, e.name, e.birth_date, e.address, e.sex))
    return rows


def run_acquisition(
    hub: LocalDeployment, indexes: list[int], batch: str = "acq-1"
) -> tuple[list[Envelope], Envelope]:
    register = demo_register(REGISTER_SIZE)
    root = hub.settings.wire_dir / "pension"
    ExchangeDirectory(root)
    PensionRequestsSimulator(root).drop_acquisition_request(
        acquisition_rows(register, indexes), as_of=AS_OF, batch_id=batch
    )
    pension = hub.adapter("pension")
    assert isinstance(pension, PensionAdapter)
    (request,) = drain(pension)
    out = handle(hub, request)
    query = next(e for e in out if e.destination == "jlis")
    simulator = JlisSimulator(SyntheticPopulation(10, seed=1), register=register)
    result = through_jlis(hub, query, simulator)
    (reply,) = handle(hub, result)
    for env in (*[e for e in out if e.destination == "pension"], reply):
        pension.from_hub(decode(encode(env)))
    return out, reply


def test_acquisition_links_unique_matches_and_holds_the_rest(hub: LocalDeployment) -> None:
    register = demo_register(REGISTER_SIZE)
    indexes = pick(
        register,
        {
            "unique::False": 3,
            "unique::True": 1,
            "multiple_candidates::False": 2,
            "none:no_record:False": 1,
            "none:no_resident_code:False": 1,
        },
    )
    # A conflict: someone else in the vault already has the number the first unique match will bring.
    conflicting = register.entitlement(indexes[0]).expected.candidates[0].individual_number
    other = UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P9999999999")
    with hub.uow_factory()() as uow:
        uow.vault.enrol([(other, conflicting)], retention=Retention("pension.entitlement"), source="test")
        uow.commit()

    out, reply = run_acquisition(hub, indexes)
    query = next(e for e in out if e.destination == "jlis")
    assert not find_numbers(encode(query).decode())  # the query carries 4情報, never a number
    outcome_rows = {r["record_seq"]: r for r in reply.payload["records"]}
    statuses = Counter(r["status"] for r in outcome_rows.values())
    assert statuses == {"linked": 3, "held": 5}
    assert outcome_rows[1]["hold_reason"] == HoldReason.NUMBER_CONFLICT.value
    assert not find_numbers(encode(reply).decode())

    with hub.uow_factory()() as uow:
        pending = uow.holds.pending()
        linked = uow.vault.subjects_by_usage([register.usage_number(i) for i in indexes])
        numbers = uow.vault.numbers_of(list(linked.values()))
    reasons = Counter(h.reason for h in pending)
    assert reasons == {
        HoldReason.MULTIPLE_CANDIDATES: 2,
        HoldReason.NO_MATCH: 2,
        HoldReason.NUMBER_CONFLICT: 1,
    }
    for seq, index in enumerate(indexes, start=1):
        expected = register.entitlement(index).expected
        subject = linked[register.usage_number(index)]
        if outcome_rows[seq]["status"] == "linked":
            assert numbers[subject] == expected.candidates[0].individual_number
        else:
            assert subject not in numbers  # never linked by guesswork
    none_reasons = {h.no_match_reason for h in pending if h.reason is HoldReason.NO_MATCH}
    assert none_reasons == {NoMatchReason.NO_RECORD.value, NoMatchReason.NO_RESIDENT_CODE.value}
    assert len(records(hub, "held")) == 5
    assert len(records(hub, "linked")) == 1

    # The pension system reads linked/held by usage number (no number in its files).
    rows = list(PensionRequestsSimulator(hub.settings.wire_dir / "pension").acquisition_outcomes("acq-1"))
    assert Counter(r.status for r in rows) == {AcquisitionStatus.LINKED: 3, AcquisitionStatus.HELD: 5}
    # At rest the candidates' numbers are sealed: no plain number in the database file.
    db = (hub.settings.data_dir / "renkei.db").read_bytes().decode("utf-8", errors="ignore")
    assert not find_numbers(db)


def test_operator_lists_and_resolves_holds_and_every_decision_is_recorded(hub: LocalDeployment) -> None:
    register = demo_register(REGISTER_SIZE)
    indexes = pick(register, {"multiple_candidates::False": 1, "none:no_record:False": 1})
    run_acquisition(hub, indexes)
    runner = CliRunner()
    listed = runner.invoke(vault_cmd.app, ["pending", "--json"], obj=hub.settings)
    assert listed.exit_code == 0, listed.output
    assert not find_numbers(listed.output)
    report = json.loads(listed.output)
    assert report["pending"] == 2
    multiple = next(h for h in report["holds"] if h["reason"] == "multiple_candidates")
    none = next(h for h in report["holds"] if h["reason"] == "no_match")
    assert [c["individual_number"] for c in multiple["candidates"]] == ["個人番号(************)"] * 2
    sexes = {c["matched"]["sex"] for c in multiple["candidates"]}
    assert sexes == {"male", "female"}
    table = runner.invoke(vault_cmd.app, ["pending"], obj=hub.settings)
    assert table.exit_code == 0
    assert multiple["hold_id"] in table.output

    # Link the second candidate: the number of the namesake J-LIS listed second.
    args = [
        "resolve",
        multiple["hold_id"],
        "--link-candidate",
        "2",
        "--reason",
        "戸籍で確認",
        "--operator",
        "sato",
    ]
    # Without a second person's approval nothing is linked.
    unapproved = runner.invoke(vault_cmd.app, args, obj=hub.settings)
    assert unapproved.exit_code == 2
    assert "needs a second person" in unapproved.output
    args += ["--approval", approved_hold(hub.settings, multiple["hold_id"], 2, by="sato")]
    done = runner.invoke(vault_cmd.app, args, obj=hub.settings)
    assert done.exit_code == 0, done.output
    index = register.index_of_usage_number(UsageNumber.model_validate(multiple["usage_number"]))
    assert index is not None
    with hub.uow_factory()() as uow:
        subject = uow.vault.subjects_by_usage([register.usage_number(index)])[register.usage_number(index)]
        assert uow.vault.numbers_of([subject])[subject] == register.person(index, twin=True).individual_number
        hold = uow.holds.get(multiple["hold_id"])
        assert hold is not None
        assert hold.status is HoldStatus.RESOLVED
        assert hold.resolved_by == "sato"
        assert all(c.sealed_number is None for c in hold.candidates)  # other people's numbers discarded
        pending_outbox = uow.outbox.pending(10)
    (outcome,) = [m for _, m in pending_outbox if m.message_type == "pension.number_acquisition.outcome"]
    body = json.loads(outcome.body)
    assert body["payload"]["answered_by"] == "operator"
    assert body["payload"]["records"][0]["status"] == "linked"

    # Resolving twice is refused; rejecting the none-hold is recorded too.
    again = runner.invoke(vault_cmd.app, args, obj=hub.settings)
    assert again.exit_code == 1  # an approval is used once
    args[-1] = approved_hold(hub.settings, multiple["hold_id"], 2, by="sato")
    again = runner.invoke(vault_cmd.app, args, obj=hub.settings)
    assert again.exit_code == 2  # and the hold is resolved already
    rejected = runner.invoke(
        vault_cmd.app,
        [
            *["resolve", none["hold_id"], "--reject", "--reason", "本人に確認中", "--operator", "sato"],
            *["--approval", approved_hold(hub.settings, none["hold_id"], None, by="sato")],
        ],
        obj=hub.settings,
    )
    assert rejected.exit_code == 0, rejected.output
    resolved = records(hub, "resolved")
    assert [(r["details"]["hold_id"], r["details"]["resolution"]) for r in resolved] == [
        (multiple["hold_id"], "linked"),
        (none["hold_id"], "rejected"),
    ]
    assert all(r["actor"] == "operator:sato" for r in resolved)
    assert all(r["details"]["approved_by"] == "suzuki" for r in resolved)  # both people on record
    # The resolved record precedes the link it authorised in the chain.
    linked = [r for r in records(hub, "linked") if r["actor"] == "operator:sato"]
    assert linked[0]["seq"] > resolved[0]["seq"]
    bad = runner.invoke(vault_cmd.app, ["resolve", none["hold_id"], "--reason", "x", "--operator", "y"])
    assert bad.exit_code == 2  # neither --link-candidate nor --reject


def test_a_number_change_colliding_in_the_vault_is_held_and_the_chunk_goes_on(hub: LocalDeployment) -> None:
    population = SyntheticPopulation(10, seed=5)
    usage = [population.usage_number(i) for i in range(3)]
    with hub.uow_factory()() as uow:
        uow.vault.enrol(
            [(u, population.individual_number(i)) for i, u in enumerate(usage)],
            retention=Retention("pension.entitlement"),
            source="test",
        )
        subjects = uow.vault.subjects_by_usage(usage)
        refs = uow.vault.tokens(JLIS_REF_SCOPE, list(subjects.values()))
        # Person 2's new number is person 1's number: a conflict; person 0's is fresh.
        uow.commit()
    fresh, taken = population.individual_number(0, 1), population.individual_number(1)
    env_id = new_id()
    sealer = HpkeSealer(hub.keyring.sealing_for())
    result = JlisSurvivalChangeResult(
        chunk=ChunkInfo(batch_id="b", chunk_index=0, chunk_count=1, total_records=3),
        cycle="2026-12",
        fee_units=3,
        records=(
            JlisResultRecord(
                record_seq=0,
                ref=refs[subjects[usage[0]]],
                outcome=SurvivalOutcome.NUMBER_CHANGED,
                new_individual_number=sealer.seal(
                    fresh, recipient="hub", message_id=env_id, field="records.0.new_individual_number"
                ),
            ),
            JlisResultRecord(record_seq=1, ref=refs[subjects[usage[1]]], outcome=SurvivalOutcome.ALIVE),
            JlisResultRecord(
                record_seq=2,
                ref=refs[subjects[usage[2]]],
                outcome=SurvivalOutcome.NUMBER_CHANGED,
                new_individual_number=sealer.seal(
                    taken, recipient="hub", message_id=env_id, field="records.2.new_individual_number"
                ),
            ),
        ),
    )
    env = new_envelope(
        message_type="jlis.survival_change.result",
        schema_version=1,
        source="jlis",
        destination="hub",
        purpose=JLIS_PURPOSE,
        payload=payload_dict(result),
        message_id=env_id,
    )
    (reply,) = handle(hub, env)
    assert [r["outcome"] for r in reply.payload["records"]] == ["number_changed", "alive", "number_changed"]
    with hub.uow_factory()() as uow:
        history = uow.vault.number_history([subjects[usage[0]], subjects[usage[2]]])
        (hold,) = uow.holds.pending()
    assert [r.number for r in history[subjects[usage[0]]]] == [population.individual_number(0), fresh]
    assert [r.is_current for r in history[subjects[usage[0]]]] == [False, True]
    assert [r.number for r in history[subjects[usage[2]]]] == [population.individual_number(2)]  # untouched
    assert (hold.reason, hold.subject, hold.record_seq) == (HoldReason.NUMBER_CONFLICT, subjects[usage[2]], 2)
    assert len(records(hub, "relinked")) == 1
    assert len(records(hub, "held")) == 1
    # Linking the conflicting number by hand is refused, and the refusal recorded; rejecting works.
    runner = CliRunner()
    args = ["resolve", hold.hold_id, "--link-candidate", "1", "--reason", "r", "--operator", "o"]
    args += ["--approval", approved_hold(hub.settings, hold.hold_id, 1, by="o")]
    refused = runner.invoke(vault_cmd.app, args, obj=hub.settings)
    assert refused.exit_code == 1, refused.output
    assert [r["outcome"] for r in records(hub, "resolved")] == ["refused"]
    ok = runner.invoke(
        vault_cmd.app,
        [
            *["resolve", hold.hold_id, "--reject", "--reason", "r", "--operator", "o"],
            *["--approval", approved_hold(hub.settings, hold.hold_id, None, by="o")],
        ],
        obj=hub.settings,
    )
    assert ok.exit_code == 0, ok.output


def test_dependants_are_stored_with_their_retention_and_a_conflict_refuses_its_declaration(
    hub: LocalDeployment,
) -> None:
    population = SyntheticPopulation(10, seed=9)
    spouse = UsageNumber(kind=UsageNumberKind.DEPENDANT, value="S0000000004")
    with hub.uow_factory()() as uow:
        # The spouse is in the vault already (a pensioner's spouse, kept for the pension business).
        uow.vault.enrol(
            [(spouse, population.individual_number(4))],
            retention=Retention("pension.entitlement"),
            source="test",
        )
        uow.commit()
    declarant = UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P0000000003")
    child = UsageNumber(kind=UsageNumberKind.DEPENDANT, value="D0000000003-2")
    rows = [
        DeclarationRow(1, declarant, date(2026, 10, 1), (
            DependantEntry(1, spouse, DependantRelation.SPOUSE, population.individual_number(4)),
            DependantEntry(2, child, DependantRelation.CHILD, population.individual_number(5)),
        )),
        # A declaration naming the spouse's key with another number: refused whole, nothing overwritten.
        DeclarationRow(2, UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P0000000007"),
                       date(2026, 10, 2),
                       (DependantEntry(1, spouse, DependantRelation.SPOUSE, synthetic_individual_number()),)),
    ]  # fmt: skip
    root = hub.settings.wire_dir / "pension"
    ExchangeDirectory(root)
    sim = PensionRequestsSimulator(root)
    path = sim.drop_dependants_declarations(
        rows, tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="d1", actor="m130001"
    )
    pension = hub.adapter("pension")
    assert isinstance(pension, PensionAdapter)
    (submitted,) = drain(pension)
    assert not path.exists()  # deleted once published
    (ack,) = handle(hub, submitted)
    pension.from_hub(decode(encode(ack)))
    acks = {a.record_seq: a for a in sim.dependants_acks("d1")}
    purge = dependants_declaration_purge_after(date(2027, 2, 14))
    assert purge == date(2035, 1, 10)
    assert (acks[1].status.value, acks[1].dependants_stored, acks[1].purge_after) == ("stored", 2, purge)
    assert (acks[2].status.value, acks[2].dependants_stored) == ("refused", 0)
    with hub.uow_factory()() as uow:
        found = uow.vault.subjects_by_usage([spouse, child])
        history = uow.vault.number_history(list(found.values()))
    (child_number,) = history[found[child]]
    assert child_number.retention == Retention(DEPENDANTS_DECLARATION, purge)
    assert child_number.number == population.individual_number(5)
    (spouse_number,) = history[found[spouse]]
    assert spouse_number.number == population.individual_number(4)  # not overwritten by declaration 2
    assert spouse_number.retention.purge_after is None  # the longer retention (the pension's) is kept
    assert [r["outcome"] for r in records(hub, "refused")] == ["refused"]
    for directory in ("inbound", "processed", "rejected", "outbound"):
        for file in (root / directory).iterdir():
            assert not find_numbers(file.read_text(errors="ignore")), file
    assert not os.listdir(root / "inbound")

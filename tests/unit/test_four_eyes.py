"""Four eyes (二者承認): the core rules, the body check, and the ``renkei approvals``/``dlq`` commands.

One person requests with a reason; another approves within the time limit; the requester acts once within
the limit again; every step is in the access record, the action's record names both people. A person
reveals at most the configured number of numbers a day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from contracts.individual_number import synthetic_individual_number
from hub.cli import approvals_cmd, dlq
from hub.core.operator.approvals import (
    ApprovalPolicy,
    ApprovalRefused,
    ApprovalRequired,
    approval_details,
    consume,
    decide,
    request,
)
from hub.core.rules.sealed_bodies import carries_numbers
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.db.tables.audit import access_records
from hub.infra.memory.transport import InMemoryTransport
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus
from hub.settings import Settings
from tests._shared_transport import shared
from tests.unit.test_dlq_fixtures import make_env

T0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 10:00 in Japan
POLICY = ApprovalPolicy(ttl=timedelta(minutes=30), reveals_per_day=2)
REPLAY = ApprovalAction.REPLAY_DEAD_LETTERS
REVEAL = ApprovalAction.REVEAL_NUMBER
SEALED = "sealed:v1:jlis:k1:" + "A" * 48


@pytest.fixture
def hub(tmp_path):
    settings = Settings(data_dir=tmp_path / "var", log_json=False)
    hub = local_deployment(settings, transports=shared(InMemoryTransport()), configure_logs=False)
    hub.prepare()  # migrations, and the topology on the in-memory broker
    yield hub
    hub.close()


def ask(
    hub: LocalDeployment,
    action: ApprovalAction = REPLAY,
    target: Mapping[str, Any] | None = None,
    *,
    by: str = "al",
    org: str = "federation",
    at: datetime = T0,
) -> Approval:
    with hub.uow_factory()() as uow:
        try:
            return request(
                uow,
                action=action,
                target=target or {"ids": [3, 1]},
                reason="相手方の障害が復旧した",
                by=by,
                org=org,
                actor=f"operator:{by}",
                policy=POLICY,
                now=at,
            )
        finally:
            uow.commit()  # the request, or the refusal's record


def answer(
    hub: LocalDeployment,
    approval_id: str,
    *,
    by: str = "bo",
    org: str = "federation",
    approve: bool = True,
    at: datetime = T0 + timedelta(minutes=1),
) -> Approval:
    with hub.uow_factory()() as uow:
        try:
            return decide(
                uow,
                approval_id,
                approve=approve,
                by=by,
                org=org,
                actor=f"operator:{by}",
                note="ok",
                policy=POLICY,
                now=at,
            )
        finally:
            uow.commit()


def use(
    hub: LocalDeployment,
    approval_id: str | None,
    action: ApprovalAction = REPLAY,
    target: Mapping[str, Any] | None = None,
    *,
    by: str = "al",
    at: datetime = T0 + timedelta(minutes=2),
) -> Approval:
    with hub.uow_factory()() as uow:
        try:
            return consume(
                uow,
                approval_id,
                action=action,
                target=target or {"ids": [1, 3]},
                by=by,
                actor=f"operator:{by}",
                policy=POLICY,
                now=at,
            )
        finally:
            uow.commit()


def records(hub: LocalDeployment, action: str) -> list[dict[str, Any]]:
    with hub.engine.connect() as conn:
        rows = conn.execute(
            select(access_records).where(access_records.c.action == action).order_by(access_records.c.seq)
        ).mappings()
        return [dict(r) for r in rows]


def test_request_approve_use_once_with_both_people_recorded(hub):
    made = ask(hub)
    assert made.status is ApprovalStatus.PENDING
    assert dict(made.target) == {"ids": [1, 3]}  # stored canonically
    approved = answer(hub, made.approval_id)
    assert (approved.status, approved.decided_by) == (ApprovalStatus.APPROVED, "bo")
    used = use(hub, made.approval_id)
    assert used.status is ApprovalStatus.USED
    assert approval_details(used) == {
        "approval_id": made.approval_id,
        "requested_by": "al",
        "approved_by": "bo",
    }
    with pytest.raises(ApprovalRefused, match="used"):
        use(hub, made.approval_id)
    assert [r["outcome"] for r in records(hub, "requested")] == ["ok"]
    assert [r["outcome"] for r in records(hub, "approved")] == ["ok"]
    assert [r["outcome"] for r in records(hub, "refused")] == ["refused"]  # the second use


def test_nobody_approves_their_own_request_under_any_spelling(hub):
    made = ask(hub, by="ada")
    with pytest.raises(ApprovalRefused, match="another person"):
        answer(hub, made.approval_id, by="ada@console")
    assert records(hub, "approved")[0]["outcome"] == "refused"


def test_an_unapproved_or_rejected_request_cannot_be_used(hub):
    with pytest.raises(ApprovalRequired):
        use(hub, None)
    made = ask(hub)
    with pytest.raises(ApprovalRefused, match="pending"):
        use(hub, made.approval_id)
    answer(hub, made.approval_id, approve=False)
    with pytest.raises(ApprovalRefused, match="rejected"):
        use(hub, made.approval_id)


def test_time_limits_apply_to_the_approval_and_to_the_use(hub):
    late = ask(hub)
    with pytest.raises(ApprovalRefused, match="expired"):
        answer(hub, late.approval_id, at=T0 + timedelta(minutes=31))
    made = ask(hub)
    answer(hub, made.approval_id, at=T0 + timedelta(minutes=20))
    # The approval gives the requester the time limit again, from the approval.
    with pytest.raises(ApprovalRefused, match="expired"):
        use(hub, made.approval_id, at=T0 + timedelta(minutes=51))
    assert use(hub, made.approval_id, at=T0 + timedelta(minutes=49)).status is ApprovalStatus.USED


def test_an_approval_is_for_its_requester_its_action_and_its_exact_target(hub):
    made = ask(hub)
    answer(hub, made.approval_id)
    with pytest.raises(ApprovalRefused, match="only they"):
        use(hub, made.approval_id, by="bo")
    with pytest.raises(ApprovalRefused, match="another target"):
        use(hub, made.approval_id, target={"ids": [1, 3, 4]})
    with pytest.raises(ApprovalRefused, match="not discard"):
        use(hub, made.approval_id, ApprovalAction.DISCARD_DEAD_LETTERS)
    assert use(hub, made.approval_id).status is ApprovalStatus.USED


def test_an_association_decides_only_its_own_and_a_reveal_only_the_federation(hub):
    theirs = ask(hub, by="sa", org="m110001")
    with pytest.raises(ApprovalRefused, match="may not decide"):
        answer(hub, theirs.approval_id, by="ch", org="m120006")
    assert answer(hub, theirs.approval_id, by="sb", org="m110001").status is ApprovalStatus.APPROVED
    reveal = ask(hub, REVEAL, {"dead_letter_id": 4, "sealed_index": 1}, by="sa", org="m110001")
    with pytest.raises(ApprovalRefused, match="federation"):
        answer(hub, reveal.approval_id, by="sb", org="m110001")
    assert answer(hub, reveal.approval_id, by="ben").status is ApprovalStatus.APPROVED


def test_a_person_reveals_at_most_the_daily_limit_in_japans_day(hub):
    for index in (1, 2):
        made = ask(hub, REVEAL, {"dead_letter_id": 4, "sealed_index": index}, by="ada")
        answer(hub, made.approval_id, by="ben")
        use(hub, made.approval_id, REVEAL, {"dead_letter_id": 4, "sealed_index": index}, by="ada")
    with pytest.raises(ApprovalRefused, match="daily limit of 2"):
        ask(hub, REVEAL, {"dead_letter_id": 4, "sealed_index": 3}, by="ada")
    assert records(hub, "requested")[-1]["reason"] == "daily_reveal_limit"
    # Another person may; and the next day in Japan (midnight JST is 15:00 UTC) the limit starts again.
    ask(hub, REVEAL, {"dead_letter_id": 4, "sealed_index": 3}, by="ben")
    ask(
        hub,
        REVEAL,
        {"dead_letter_id": 4, "sealed_index": 3},
        by="ada",
        at=datetime(2026, 11, 20, 15, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("body", "carries"),
    [
        (json.dumps({"records": [{"n": SEALED}]}).encode(), True),
        (('{"n": "' + SEALED.replace(":", "\\u003a") + '"}').encode(), True),  # JSON escapes
        (json.dumps({"note": f"in clear {synthetic_individual_number().reveal()}"}).encode(), True),
        (
            json.dumps({"counterpart": "eltax", "name": "f", "correlation_id": "c", "content": "x"}).encode(),
            True,
        ),
        (json.dumps({"records": [{"usage_number": "AB-1"}]}).encode(), False),
        (b"not json", False),
        (b"\xff\xfe garbage " + SEALED.encode(), True),
        (b"\xff\xfe garbage", False),
    ],
    # Named, not shown: ids must be the same in every collecting process (pytest-xdist), and hold no number.
    ids=[
        "sealed",
        "sealed-json-escaped",
        "number-in-clear",
        "link-file",
        "usage-number-only",
        "not-json",
        "garbage-with-sealed",
        "garbage",
    ],
)
def test_which_bodies_carry_numbers(body, carries):
    assert carries_numbers(body) is carries


def _cli(env, app, *args: str):
    return CliRunner().invoke(app, list(args), obj=env.settings)


def test_the_commands_take_a_dead_letter_with_numbers_through_four_eyes(tmp_path):
    env = make_env(tmp_path)
    try:
        env.send_raw(json.dumps({"records": [{"n": SEALED}]}).encode())
        env.run(env.worker({}))
        [row] = [json.loads(x) for x in _cli(env, dlq.app, "list", "--json").output.splitlines() if x]
        ident = str(row["id"])
        alone = _cli(env, dlq.app, "discard", ident, "--reason", "sender bug", "--operator", "al", "--json")
        assert json.loads(alone.output)["counts"] == {"skipped": 1}

        asked = _cli(
            env,
            approvals_cmd.app,
            *["request", "discard_dead_letters", "--ids", ident, "--reason", "sender bug, discard it"],
            *["--operator", "al", "--json"],
        )
        assert asked.exit_code == 0, asked.output
        approval = json.loads(asked.output)["approval_id"]
        own = _cli(env, approvals_cmd.app, "approve", approval, "--operator", "al")
        assert own.exit_code == 1
        assert "another person" in own.output
        ok = _cli(env, approvals_cmd.app, "approve", approval, "--operator", "bo", "--json")
        assert json.loads(ok.output)["status"] == "approved"
        listed = _cli(env, approvals_cmd.app, "list", "--status", "approved", "--json")
        assert [a["approval_id"] for a in json.loads(listed.output)["approvals"]] == [approval]

        args = ["discard", ident, "--reason", "sender bug", "--approval", approval, "--json"]
        assert _cli(env, dlq.app, *args, "--operator", "bo").exit_code == 1  # not bo's request
        done = _cli(env, dlq.app, *args, "--operator", "al")
        assert json.loads(done.output)["counts"] == {"discarded": 1}
        with env.hub.engine.connect() as conn:
            query = select(access_records).where(access_records.c.action == "discarded")
            [record] = conn.execute(query).mappings()
        details = json.loads(record["details"])
        assert (details["requested_by"], details["approved_by"]) == ("al", "bo")
    finally:
        env.hub.close()

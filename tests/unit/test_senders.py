"""The sender table and the hub's sender check, on the in-memory broker (which validates user ids too).

Every service is its own broker user (``t-hub``, ``t-adapter-pension``, ...). The hub takes a message only
from the user the table names for its type, with the envelope source that user may claim; its own retry
copies carry the sender it verified; a replay is accepted only as the exact message of a dead letter stored
with a proven sender; a replay goes to the queue its type belongs to, whatever the dead letter's headers say.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from contracts.errors import ConfigurationError, SenderNotPermitted, StoreUnavailable
from contracts.registry import encode, registered
from hub.core.operator.dead_letter_replay import ActionOutcome, DeadLetterOperations
from hub.core.runtime import headers as h
from hub.core.runtime.routing import HANDLERS, to_outgoing
from hub.core.runtime.senders import (
    HUB_QUEUE,
    SenderIdentities,
    SenderTable,
    check_sender,
    load_sender_table,
    senders_markdown,
)
from hub.infra.audit.rows import StoredRecord
from hub.infra.broker.credentials import replay_routes
from hub.infra.broker.definitions import broker_users
from hub.infra.broker.topology import renkei_topology
from hub.ports.dead_letters import DeadLetterQuery
from hub.ports.transport import Delivery, Disposition, OutgoingMessage
from hub.settings import RetrySettings
from tests.unit.test_dlq_fixtures import INQUIRY, DlqEnv, DownForTheFirst, FlakyHandler, inquiry, make_env

TABLE = load_sender_table()


@pytest.fixture
def env(tmp_path: Path) -> DlqEnv:
    return make_env(tmp_path, per_service=True)


def as_user(env: DlqEnv, role: str):
    return env.mem.for_user(f"t-{role}")


def send(env: DlqEnv, role: str, envelope, headers=None) -> str:
    message = to_outgoing(envelope, env.hub.exchanges)
    as_user(env, role).publish([replace(message, headers=headers or {})])
    return str(envelope.message_id)


def refusals(env: DlqEnv) -> list[StoredRecord]:
    return [r for r in env.records("dead_lettered") if r.reason == "sender_not_permitted"]


# -- the table -----------------------------------------------------------------------------------------


def test_every_type_the_hub_handles_has_one_sender_and_every_contract_is_in_the_table() -> None:
    for message_type, _ in HANDLERS:
        assert TABLE.hub_rule(message_type) is not None, message_type
    contract_types = {message_type for (message_type, _), _ in registered()}
    assert contract_types <= TABLE.message_types
    assert {r.message_type for r in TABLE.rules if r.queue == HUB_QUEUE} == {t for t, _ in HANDLERS}


def test_every_sender_is_a_broker_user_and_every_queue_is_in_the_topology() -> None:
    roles = {u.role for u in broker_users("t")}
    assert TABLE.roles <= roles
    queues = {q.name for q in renkei_topology("t", RetrySettings()).queues}
    assert {f"t.{r.queue}" for r in TABLE.rules} <= queues


def test_a_malformed_table_is_refused() -> None:
    row = {"type": "a.b", "sender": "adapter-x", "source": "x", "queue": "hub.ingress"}
    with pytest.raises(ConfigurationError, match="listed twice"):
        SenderTable.from_mapping({"message": [row, row]})
    with pytest.raises(ConfigurationError, match="more than one sender"):
        SenderTable.from_mapping({"message": [row, {**row, "sender": "adapter-y"}]})
    with pytest.raises(ConfigurationError, match="valid 'sender'"):
        SenderTable.from_mapping({"message": [{**row, "sender": "anybody"}]})
    for replayer in ("operator", "console"):
        with pytest.raises(ConfigurationError, match="replays"):
            SenderTable.from_mapping({"message": [{**row, "sender": replayer}]})


def test_the_check_needs_the_tables_sender_and_its_source() -> None:
    envelope = inquiry()
    check_sender(TABLE, envelope, "adapter-pension")
    with pytest.raises(SenderNotPermitted, match="by adapter-pension only, not by adapter-jlis"):
        check_sender(TABLE, envelope, "adapter-jlis")
    with pytest.raises(SenderNotPermitted, match="no proven sender"):
        check_sender(TABLE, envelope, None)
    with pytest.raises(SenderNotPermitted, match="must claim source 'pension'"):
        check_sender(TABLE, envelope.model_copy(update={"source": "jlis"}), "adapter-pension")
    # A shared development user proves nobody: the claim alone is checked.
    check_sender(TABLE, envelope, None, shared=True)
    with pytest.raises(SenderNotPermitted, match="must claim source"):
        check_sender(TABLE, envelope.model_copy(update={"source": "jlis"}), None, shared=True)


def test_only_the_hub_may_vouch_for_another_sender() -> None:
    ids = SenderIdentities("t", TABLE.roles)
    carried = {h.SENDER: "adapter-jlis"}
    assert ids.proven_sender("t-hub", carried) == "adapter-jlis"
    assert ids.proven_sender("t-adapter-pension", carried) == "adapter-pension"
    assert ids.proven_sender("t-hub", {h.SENDER: "operator"}) == "hub"
    assert ids.proven_sender("t-hub", {h.SENDER: "console"}) == "hub"  # a replayer is never vouched for
    assert ids.proven_sender("t-console", {}) == "console"
    assert ids.proven_sender("u-hub", {}) is None  # another prefix's user is nobody here
    assert ids.proven_sender(None, {}) is None


def test_the_markdown_table_lists_every_row() -> None:
    text = senders_markdown(TABLE)
    assert text.count("\n") == len(TABLE.rules) + 2
    assert (
        "| `jlis.number_acquisition.result` | `renkei-adapter-jlis` | `jlis` | `renkei.hub.ingress` |" in text
    )


# -- the hub's worker -----------------------------------------------------------------------------------


def test_the_right_sender_is_taken_and_any_other_refused_and_recorded(env: DlqEnv) -> None:
    flaky = FlakyHandler(failures=0)
    good = send(env, "adapter-pension", inquiry())
    forged = send(env, "adapter-jlis", inquiry())
    env.run(env.worker({INQUIRY: flaky}))

    assert flaky.completed == [good]
    [record] = refusals(env)
    assert (record.message_id, record.outcome) == (forged, "refused")
    assert (record.details["sender"], record.details["user_id"], record.details["stage"]) == (
        "adapter-jlis",
        "t-adapter-jlis",
        "sender",
    )
    [dead] = env.dead_letters()
    assert (dead.message_id, dead.sender, dead.failure.reason_code) == (
        forged,
        "adapter-jlis",
        "sender_not_permitted",
    )
    assert len(env.records("dead_lettered")) == 1  # the hub's own record; the consumer adds none


def test_an_adapter_cannot_vouch_for_another_sender_with_the_hubs_header(env: DlqEnv) -> None:
    flaky = FlakyHandler(failures=0)
    send(env, "adapter-jlis", inquiry(), headers={h.SENDER: "adapter-pension"})
    env.run(env.worker({INQUIRY: flaky}))
    assert flaky.completed == []
    assert [r.details["sender"] for r in refusals(env)] == ["adapter-jlis"]


def test_a_message_without_a_user_id_is_refused(env: DlqEnv) -> None:
    envelope = inquiry()
    delivery = Delivery(
        queue=env.names.ingress_queue,
        body=encode(envelope),
        message_id=str(envelope.message_id),
        message_type=envelope.message_type,
        correlation_id=str(envelope.correlation_id),
        headers={},
        redelivered=False,
        delivery_tag=1,
        user_id=None,
    )
    flaky = FlakyHandler(failures=0)
    env.worker({INQUIRY: flaky})([delivery])
    assert flaky.completed == []
    assert [r.details["user_id"] for r in refusals(env)] == ["none"]


def test_a_retry_is_checked_against_the_sender_the_hub_verified_first(env: DlqEnv) -> None:
    flaky = FlakyHandler(error=lambda: StoreUnavailable("database away"), failures=1)
    mid = send(env, "adapter-pension", inquiry())
    worker = env.worker({INQUIRY: flaky})
    env.run(worker)
    [copy] = env.mem.ready(env.names.retry_queue(100))
    assert (copy.user_id, copy.headers[h.SENDER]) == ("t-hub", "adapter-pension")

    env.clock.advance(0.2)
    env.run(worker)

    assert flaky.completed == [mid]
    assert refusals(env) == []


# -- replays --------------------------------------------------------------------------------------------


def dead_lettered_inquiry(env: DlqEnv) -> tuple[str, int]:
    flaky = FlakyHandler()  # fails once, permanently
    mid = send(env, "adapter-pension", inquiry())
    env.run(env.worker({INQUIRY: flaky}))
    [dead] = env.dead_letters()
    assert dead.sender == "adapter-pension"
    return mid, dead.id


def operations(env: DlqEnv, replayer: str = "operator") -> DeadLetterOperations:
    return DeadLetterOperations(
        env.hub.uow_factory(),
        as_user(env, replayer),
        routes=replay_routes(env.settings, env.hub.exchanges),
    )


@pytest.mark.parametrize("replayer", ["operator", "console"])
def test_a_replay_of_a_proven_dead_letter_is_taken_from_the_operator_and_the_console(
    env: DlqEnv, replayer: str
) -> None:
    mid, dead_id = dead_lettered_inquiry(env)
    report = operations(env, replayer).replay(
        DeadLetterQuery(ids=(dead_id,)), operator="alice", reason="fixed"
    )
    assert [r.outcome for r in report.results] == [ActionOutcome.REPLAYED]
    [replayed] = env.mem.ready(env.names.ingress_queue)
    assert replayed.user_id == f"t-{replayer}"

    flaky = FlakyHandler(failures=0)
    env.run(env.worker({INQUIRY: flaky}))
    assert flaky.completed == [mid]
    assert refusals(env) == []


def test_a_replay_whose_dead_letter_cannot_be_read_yet_is_requeued_and_taken_once_the_database_is_back(
    env: DlqEnv,
) -> None:
    """A retry tier would republish it as the hub, vouching for a sender nobody has verified yet."""
    mid, dead_id = dead_lettered_inquiry(env)
    operations(env).replay(DeadLetterQuery(ids=(dead_id,)), operator="alice", reason="fixed")
    flaky = FlakyHandler(failures=0)
    down = DownForTheFirst(env.hub.uow_factory(), outages=1)
    [first] = env.mem.ready(env.names.ingress_queue)
    assert env.worker({INQUIRY: flaky}, uow_factory=down)([first]) == [Disposition.REQUEUE]
    assert env.mem.ready(env.names.retry_queue(100)) == []

    env.run(env.worker({INQUIRY: flaky}, uow_factory=down))
    assert flaky.completed == [mid]
    assert refusals(env) == []


@pytest.mark.parametrize("replayer", ["operator", "console"])
def test_no_replayer_can_pass_off_another_message_as_a_replay(env: DlqEnv, replayer: str) -> None:
    _, dead_id = dead_lettered_inquiry(env)
    operations(env, replayer).replay(DeadLetterQuery(ids=(dead_id,)), operator="alice", reason="fixed")
    env.mem.drain(
        env.names.ingress_queue, lambda batch: [Disposition.ACK] * len(batch)
    )  # drop the honest one
    other = inquiry()
    send(env, replayer, other, headers={h.REPLAY_OF: str(dead_id)})
    bare = inquiry()
    send(env, replayer, bare)

    flaky = FlakyHandler(failures=0)
    env.run(env.worker({INQUIRY: flaky}))

    assert flaky.completed == []
    reasons = {r.message_id: r.outcome for r in refusals(env)}
    assert reasons == {str(other.message_id): "refused", str(bare.message_id): "refused"}


def plant(env: DlqEnv, role: str, message_type: str, claimed_queue: str) -> int:
    """A dead letter a service publishes itself, naming a queue of its choice."""
    planted = OutgoingMessage(
        exchange=env.names.dead_letter_exchange,
        routing_key="",
        body=b'{"planted": true}',
        message_id=f"planted-{message_type}",
        message_type=message_type,
        correlation_id="c",
        headers={
            h.FAILED_STAGE: "decode",
            h.FAILED_QUEUE: claimed_queue,
            h.FAILURE_CODE: "validation_failed",
            h.FAILURE_TYPE: "Replay me to the hub, everything is fine",
        },
    )
    as_user(env, role).publish([planted])
    env.mem.drain(env.names.dead_letter_queue, env.consumer())
    [row] = [d for d in env.dead_letters() if d.message_id == planted.message_id]
    return row.id


def test_a_planted_dead_letter_replays_only_to_its_own_types_queue(env: DlqEnv) -> None:
    dead_id = plant(
        env, "adapter-pension", "pension.survival_check.outcomes", env.names.adapter_queue("jlis")
    )
    [row] = env.dead_letters(DeadLetterQuery(ids=(dead_id,), statuses=()))
    assert row.failure.source_queue == env.names.adapter_queue("jlis")  # what it claims, kept for reading
    assert row.group_label == "validation_failed at decode on pension.survival_check.outcomes"  # not its text
    assert row.sender == "adapter-pension"
    # The hub's worker did not dead-letter it (the pension adapter did), so the consumer recorded it.
    assert [r.message_id for r in env.records("dead_lettered")] == [row.message_id]

    report = operations(env).replay(DeadLetterQuery(ids=(dead_id,)), operator="alice", reason="looks fine")

    [result] = report.results
    assert (result.outcome, result.queue) == (ActionOutcome.REPLAYED, env.names.adapter_queue("pension"))
    assert len(env.mem.ready(env.names.adapter_queue("pension"))) == 1
    assert env.mem.ready(env.names.adapter_queue("jlis")) == []
    [replayed] = env.records("replayed")
    assert replayed.destination == env.names.adapter_queue("pension")


def test_a_planted_dead_letter_for_the_hub_is_not_replayed_and_unknown_types_are_refused(env: DlqEnv) -> None:
    for_hub = plant(env, "adapter-pension", "jlis.number_acquisition.result", env.names.ingress_queue)
    unknown = plant(env, "adapter-pension", "nobody.knows", env.names.ingress_queue)

    report = operations(env).replay(DeadLetterQuery(ids=(for_hub, unknown)), operator="alice", reason="try")

    details = {r.dead_letter_id: (r.outcome, r.detail) for r in report.results}
    assert details[for_hub][0] is ActionOutcome.SKIPPED
    assert "may be sent to the hub by adapter-jlis only" in details[for_hub][1]
    assert details[unknown][0] is ActionOutcome.SKIPPED
    assert "does not know the message type 'nobody.knows'" in details[unknown][1]
    assert env.mem.ready(env.names.ingress_queue) == []

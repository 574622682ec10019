"""The worker's batch without savepoints, and its fall-back when one handler fails.

A batch first runs without a savepoint per message; if a handler fails, the transaction rolls back and
the batch runs again with one savepoint each. Either way every message ends as it would alone: the good
ones handled once and marked in the inbox, the bad one dead-lettered, retried or requeued, and no
handler's effect of the first run survives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from contracts.envelope import Envelope
from contracts.errors import PermanentError, StoreUnavailable
from contracts.registry import Decoded
from hub.core.flows.context import HandlerContext
from hub.core.runtime.worker import CONSUMER
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.transport import Disposition
from tests.unit.test_dlq_fixtures import INQUIRY, DlqEnv, inquiry, make_env


@dataclass
class Recording:
    """Writes an access record per message; fails the messages it is told to, every time."""

    failing: dict[str, Exception] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __call__(self, message: Decoded, ctx: HandlerContext) -> list[Envelope]:
        mid = str(message.envelope.message_id)
        self.calls.append(mid)
        ctx.uow.audit.append([AccessRecord(actor="test", action=AuditAction.RECEIVED, message_id=mid)])
        if mid in self.failing:
            raise self.failing[mid]
        return []


@pytest.fixture
def env(tmp_path):
    return make_env(tmp_path)


def run_batch(env: DlqEnv, handler: Recording, messages: Sequence[Envelope]) -> list[Disposition]:
    for message in messages:
        env.send(message)
    deliveries = env.mem.ready(env.names.ingress_queue)
    worker = env.worker({INQUIRY: handler})
    return worker(deliveries)


def received(env) -> list[str]:
    return sorted(r.message_id for r in env.records("received"))


def test_a_clean_batch_is_handled_once_each_and_marked(env):
    messages = [inquiry() for _ in range(5)]
    handler = Recording()
    dispositions = run_batch(env, handler, messages)
    ids = [str(m.message_id) for m in messages]
    assert dispositions == [Disposition.ACK] * 5
    assert handler.calls == ids
    assert received(env) == sorted(ids)
    with env.hub.uow_factory()() as uow:
        assert uow.inbox.handled(CONSUMER, ids) == set(ids)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (PermanentError("bad", code="injected"), Disposition.ACK),  # dead-lettered by the hub itself
        (StoreUnavailable("injected"), Disposition.ACK),  # republished to a retry tier
        (RuntimeError("a bug"), Disposition.REQUEUE),
    ],
)
def test_one_failure_spoils_nothing_and_its_handler_is_not_run_again(env, error, expected):
    messages = [inquiry() for _ in range(4)]
    ids = [str(m.message_id) for m in messages]
    bad = ids[2]
    handler = Recording(failing={bad: error})
    dispositions = run_batch(env, handler, messages)

    assert dispositions[2] is expected
    assert [d for i, d in enumerate(dispositions) if i != 2] == [Disposition.ACK] * 3
    # First run: ids[0..2] (stops at the failure); careful run: every one but the failed message.
    assert handler.calls == [*ids[:3], ids[0], ids[1], ids[3]]
    good = [i for i in ids if i != bad]
    assert received(env) == sorted(good)  # the first run's records rolled back, the bad one's too
    with env.hub.uow_factory()() as uow:
        assert uow.inbox.handled(CONSUMER, ids) == set(good)

"""Database failures that pass become ``StoreUnavailable`` at the edge, and the worker retries them.

Before the translation, a connection lost in the middle of a batch surfaced in the handler as SQLAlchemy's
own exception and was taken for a bug: the message was requeued as a crash, spending one of its
deliveries towards the dead-letter queue. Now it is a transient failure: republished to a retry tier,
while its neighbours commit.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from contracts.envelope import Envelope, new_envelope
from contracts.errors import StoreUnavailable, TransientError
from contracts.messages.eltax import (
    PAYMENT_REPORT_PURPOSE,
    EltaxReceipt,
    ReceiptError,
    ReceiptRecord,
    ReceiptStatus,
)
from contracts.registry import payload_dict
from hub.core.runtime import headers as h
from hub.infra.db.engine import make_engine
from hub.infra.db.unavailable import is_passing_failure
from hub.ports.transport import Disposition
from tests.unit.test_dlq_fixtures import INQUIRY, DownForTheFirst, inquiry, make_env
from tests.unit.test_worker_batches import Recording, received


@pytest.mark.parametrize(
    ("original", "disconnect", "passing"),
    [
        (SimpleNamespace(sqlstate="08006"), False, True),  # connection failure
        (SimpleNamespace(sqlstate="40001"), False, True),  # serialization failure
        (SimpleNamespace(sqlstate="40P01"), False, True),  # deadlock
        (SimpleNamespace(sqlstate="57P01"), False, True),  # admin shutdown
        (SimpleNamespace(sqlstate="53300"), False, True),  # too many connections
        (SimpleNamespace(sqlstate="23505"), False, False),  # unique violation: retrying will not help
        (SimpleNamespace(sqlstate="42P01"), False, False),  # undefined table: a deployment error
        (SimpleNamespace(sqlite_errorname="SQLITE_BUSY"), False, True),
        (SimpleNamespace(sqlite_errorname="SQLITE_IOERR_WRITE"), False, True),
        (SimpleNamespace(sqlite_errorname="SQLITE_CONSTRAINT_UNIQUE"), False, False),
        (SimpleNamespace(sqlite_errorname="SQLITE_ERROR"), False, False),
        (ValueError("no code at all"), False, False),
        (ValueError("no code at all"), True, True),  # SQLAlchemy saw a disconnect
        (None, False, False),
    ],
)
def test_which_failures_pass(original, disconnect, passing):
    assert is_passing_failure(original, is_disconnect=disconnect) is passing


def test_a_lock_held_too_long_raises_store_unavailable_with_the_cause_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    holder, waiter = make_engine(url), make_engine(url)
    with holder.connect() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with holder.connect() as held:
        held.begin()  # BEGIN IMMEDIATE: the write lock
        with waiter.connect() as conn:
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            dbapi.execute("PRAGMA busy_timeout=50")  # not 30 s; no transaction
            with pytest.raises(StoreUnavailable) as caught:
                conn.begin()
    assert isinstance(caught.value, TransientError)
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)  # the driver's, for the log


def test_a_refused_statement_is_not_translated(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn, pytest.raises(DBAPIError):
        conn.execute(text("SELECT * FROM no_such_table"))


class LosesItsConnection(Recording):
    """Loses the database connection in the middle of the one message it is told to."""

    def __init__(self, victim: str) -> None:
        super().__init__()
        self.victim = victim

    def __call__(self, message, ctx):
        produced = super().__call__(message, ctx)
        if str(message.envelope.message_id) == self.victim:
            ctx.uow.connection.connection.dbapi_connection.close()  # the server went away
            ctx.uow.connection.execute(text("SELECT 1"))
        return produced


def test_a_connection_lost_mid_batch_is_retried_not_taken_for_a_crash(tmp_path):
    env = make_env(tmp_path)
    messages = [inquiry() for _ in range(4)]
    ids = [str(m.message_id) for m in messages]
    for message in messages:
        env.send(message)
    handler = LosesItsConnection(victim=ids[1])
    worker = env.worker({INQUIRY: handler})
    dispositions: list[Disposition] = []

    def batch(deliveries):
        dispositions.extend(worker(deliveries))
        return dispositions[-len(deliveries) :]

    env.mem.drain(env.names.ingress_queue, batch)

    # Acked because a copy went to a retry tier; a crash would have been REQUEUE (a delivery spent).
    assert dispositions == [Disposition.ACK] * 4
    assert received(env) == sorted(i for i in ids if i != ids[1])  # the neighbours committed
    env.clock.advance(60)  # past the retry tier's delay
    again = env.mem.ready(env.names.ingress_queue)
    assert [d.message_id for d in again] == [ids[1]]
    assert again[0].headers[h.FAILURE_CODE] == StoreUnavailable.code
    assert again[0].headers[h.ATTEMPT] == 2  # its second attempt


RECEIPT = ("eltax.receipt", 1)


def receipt() -> Envelope:
    """An eLTAX receipt: a message whose actor the hub looks up in the database before any handler runs."""
    payload = EltaxReceipt(
        submission="ELTAX-PR331-13101-" + "a" * 32 + ".csv",
        document="payment_report",
        municipality_code="13101",
        received_on=date(2027, 1, 20),
        file_status=ReceiptStatus.ACCEPTED,
        records=(ReceiptRecord(line=1, status=ReceiptStatus.REJECTED, errors=(ReceiptError(code="E010"),)),),
    )
    return new_envelope(
        message_type=RECEIPT[0],
        schema_version=RECEIPT[1],
        source="eltax",
        destination="hub",
        purpose=PAYMENT_REPORT_PURPOSE,
        payload=payload_dict(payload),
    )


def test_a_database_down_while_the_actor_is_looked_up_retries_the_batch_without_spending_a_delivery(tmp_path):
    """Found by the PostgreSQL restart fault test: the actor check read the database outside the retry
    path, so an outage requeued the batch at once, again and again, until the delivery limit dead-lettered
    four 250-record answers from J-LIS."""
    env = make_env(tmp_path)
    messages = [receipt() for _ in range(3)]
    for message in messages:
        env.send(message)
    handler = Recording()
    worker = env.worker({RECEIPT: handler}, uow_factory=DownForTheFirst(env.hub.uow_factory(), outages=1))
    dispositions: list[Disposition] = []

    def batch(deliveries):
        dispositions.extend(worker(deliveries))
        return dispositions[-len(deliveries) :]

    env.mem.drain(env.names.ingress_queue, batch)
    assert dispositions == [Disposition.ACK] * 3  # each copy went to a retry tier: no delivery spent
    assert handler.calls == []
    env.clock.advance(60)  # past the retry tier's delay
    again = env.mem.ready(env.names.ingress_queue)
    assert sorted(d.message_id or "" for d in again) == sorted(str(m.message_id) for m in messages)
    assert {d.headers[h.FAILURE_CODE] for d in again} == {StoreUnavailable.code}
    assert {d.headers[h.ATTEMPT] for d in again} == {2}
    env.mem.drain(env.names.ingress_queue, batch)
    assert sorted(handler.calls) == sorted(str(m.message_id) for m in messages)  # checked by its sender
    assert received(env) == sorted(str(m.message_id) for m in messages)

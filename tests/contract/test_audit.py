"""One contract for every AuditLog: the SQL hash chains (SQLite, PostgreSQL) and the in-memory twin.

``AuditLogContract`` holds the tests; each subclass supplies ``audit`` (one writer's chain, its clock at
``T0``) and ``stored`` (the chain as stored, oldest first). Checkpoints, signatures, verification of a
tampered store and the row lock between writers stay with the SQL tests (``tests/integration/test_audit_*``).

The provision log (``ProvisionLog``, 情報提供等の記録) has its contract in ``test_provisions.py``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection

from contracts.errors import PolicyRefused, ValidationFailed
from contracts.individual_number import synthetic_individual_number
from hub.infra.audit.codec import details_text, record_hash
from hub.infra.audit.query import iter_records
from hub.infra.audit.rows import REDACTED_KEY, StoredRecord, hashed_fields
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.memory.audit import InMemoryAuditLog
from hub.ports.audit import AccessRecord, AuditAction, AuditLog, Outcome

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHAIN = "contract-chain"
Stored = Callable[[], list[StoredRecord]]


def record(n: int, **changes: Any) -> AccessRecord:
    base = AccessRecord(
        actor="hub",
        action=AuditAction.ROUTED,
        message_id=f"m{n}",
        correlation_id="c1",
        message_type="jlis.survival_change",
        source="pension",
        destination="jlis",
        purpose="survival",
        legal_basis="番号法 第19条第8号",
        subjects=(f"tk1abcd_{'b' * 27}{chr(ord('a') + n)}", f"tk1abcd_{'a' * 28}"),
        details={"records": str(n)},
    )
    return replace(base, **changes)


def chain_holds(records: list[StoredRecord]) -> bool:
    """Every record hashes to its stored hash and names the previous record's hash."""
    for before, after in itertools.pairwise(records):
        if after.prev_hash != before.hash or after.seq != before.seq + 1:
            return False
    for r in records:
        values = {**r.to_json(), "at": r.at, "details": details_text(r.details)}
        if record_hash(r.chain_id, r.seq, hashed_fields(values), r.subjects, r.prev_hash) != r.hash:
            return False
    return True


def as_access_record(r: StoredRecord) -> AccessRecord:
    """The port's value object a stored record was written from."""
    return AccessRecord(
        actor=r.actor,
        action=AuditAction(r.action),
        message_id=r.message_id,
        correlation_id=r.correlation_id,
        message_type=r.message_type,
        source=r.source,
        destination=r.destination,
        purpose=r.purpose,
        legal_basis=r.legal_basis,
        subjects=r.subjects,
        outcome=Outcome(r.outcome),
        reason=r.reason,
        at=r.at,
        details=dict(r.details),
    )


class AuditLogContract:
    """Behaviour every access-record writer shows. Subclasses provide ``audit`` and ``stored``."""

    @pytest.fixture
    def audit(self) -> AuditLog:
        raise NotImplementedError

    @pytest.fixture
    def stored(self) -> Stored:
        raise NotImplementedError

    def test_records_are_kept_in_order_on_one_hash_chain(self, audit: AuditLog, stored: Stored) -> None:
        later = T0 + timedelta(minutes=1)
        audit.append([record(1), record(2, at=later, outcome=Outcome.REFUSED, reason="not permitted")])
        audit.append([])
        audit.append([record(3)])
        kept = stored()
        assert [(r.seq, r.message_id) for r in kept] == [(1, "m1"), (2, "m2"), (3, "m3")]
        assert len({r.chain_id for r in kept}) == 1
        assert chain_holds(kept)
        assert as_access_record(kept[0]) == replace(
            record(1), at=T0, subjects=tuple(sorted(record(1).subjects))
        )
        assert (kept[1].at, kept[1].outcome, kept[1].reason) == (later, "refused", "not permitted")

    def test_a_number_in_free_text_is_masked_and_named(self, audit: AuditLog, stored: Stored) -> None:
        digits = synthetic_individual_number().reveal()
        audit.append([record(1, reason=f"asked about {digits}", details={"note": f"n {digits}"})])
        [kept] = stored()
        assert digits not in str(kept.to_json())
        assert kept.details[REDACTED_KEY] == "details.note,reason"
        assert chain_holds([kept])

    def test_a_batch_with_a_bad_record_is_refused_whole(self, audit: AuditLog, stored: Stored) -> None:
        audit.append([record(1)])
        digits = synthetic_individual_number().reveal()
        with pytest.raises(PolicyRefused):
            audit.append([record(2), record(3, subjects=(digits,))])
        with pytest.raises(ValidationFailed):
            audit.append([record(2), record(3, actor="x" * 201)])
        with pytest.raises(ValidationFailed):
            audit.append([record(2, subjects=("two words",))])
        audit.append([record(4)])
        kept = stored()
        assert [(r.seq, r.message_id) for r in kept] == [(1, "m1"), (2, "m4")]
        assert chain_holds(kept)


class _SqlAudit(AuditLogContract):
    @pytest.fixture
    def connection(self) -> Connection:
        raise NotImplementedError

    @pytest.fixture
    def audit(self, connection: Connection) -> AuditLog:
        return SqlAuditLog(connection, ChainWriter("contract tests", chain_id=CHAIN, clock=lambda: T0))

    @pytest.fixture
    def stored(self, connection: Connection) -> Stored:
        return lambda: sorted(
            (r for r in iter_records(connection) if r.chain_id == CHAIN), key=lambda r: r.seq
        )


class TestSqlAuditLogOnSqlite(_SqlAudit):
    @pytest.fixture
    def connection(self, sqlite_connection: Connection) -> Connection:
        return sqlite_connection


@pytest.mark.postgres
class TestSqlAuditLogOnPostgres(_SqlAudit):
    @pytest.fixture
    def connection(self, postgres_connection: Connection) -> Connection:
        return postgres_connection


class TestInMemoryAuditLog(AuditLogContract):
    @pytest.fixture
    def log(self) -> InMemoryAuditLog:
        return InMemoryAuditLog("contract tests", chain_id=CHAIN, clock=lambda: T0)

    @pytest.fixture
    def audit(self, log: InMemoryAuditLog) -> AuditLog:
        return log

    @pytest.fixture
    def stored(self, log: InMemoryAuditLog) -> Stored:
        return lambda: log.records

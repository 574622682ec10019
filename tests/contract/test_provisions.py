"""One contract for every ProvisionLog (情報提供等の記録): the SQL log (SQLite, PostgreSQL) and the twin.

Each subclass supplies ``provisions`` (its access records on one writer's chain, clock at ``T0``) and
``stored``: the rows as kept (with ``retention_until`` a date and times in UTC) and the access records of
the chain by sequence number. Export, verification of tampered rows and purging stay with the SQL tests
(``tests/integration/test_audit_store.py``, ``tests/integration/test_retention_jobs.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from contracts.errors import AlreadyExists, PolicyRefused, ValidationFailed
from contracts.individual_number import synthetic_individual_number
from hub.infra.audit.codec import to_utc
from hub.infra.audit.provision import SqlProvisionLog
from hub.infra.audit.provision_rows import (
    PROVISION_DIGEST_KEY,
    PROVISION_ID_KEY,
    default_retention,
    provision_digest,
    provision_values,
)
from hub.infra.audit.query import iter_records
from hub.infra.audit.rows import StoredRecord
from hub.infra.audit.sql import ChainWriter
from hub.infra.db.tables.audit import provision_records
from hub.infra.memory.audit import InMemoryAuditLog
from hub.infra.memory.provisions import InMemoryProvisionLog
from hub.ports.audit import AccessRecord, AuditAction, ProvisionLog, ProvisionRecord, ProvisionRole
from tests.contract.test_audit import chain_holds

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
CHAIN = "contract-provisions"
Stored = Callable[[], tuple[list[dict[str, Any]], dict[int, StoredRecord]]]


def provision(i: int, **changes: Any) -> ProvisionRecord:
    fields: dict[str, Any] = {
        "record_id": f"RID{i:010d}",
        "role": ProvisionRole.REQUESTER,
        "requester": "全国市町村職員共済組合連合会",
        "provider": "市町村長 (131016)",
        "requested_at": T0 + timedelta(hours=i),
        "provided_at": T0 + timedelta(hours=i, minutes=5),
        "items": ("TM00000000000002", "市町村民税に関する情報"),
        "jimu": "地共済法による年金である給付の支給に関する事務",
        "legal_basis_current": "命令第2条表84の項 第86条",
        "legal_basis_legacy": "別表第二 59",
        "non_disclosure": i % 2 == 1,
        "subject": f"tk1abcd_{'p' * 27}{chr(ord('a') + i)}",
    }
    fields.update(changes)
    return ProvisionRecord(**fields)


def access(i: int) -> AccessRecord:
    return AccessRecord(
        actor="hub",
        action=AuditAction.ROUTED,
        message_id=f"m{i}",
        correlation_id="c1",
        message_type="intermediate.query",
        source="hub",
        destination="intermediate_server",
        purpose="benefit",
        legal_basis="命令第2条表84の項",
        subjects=(f"tk1abcd_{'p' * 27}{chr(ord('a') + i)}",),
        details={"records": "1"},
    )


def _normal(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row in one form for every backend (SQLite gives naive UTC times)."""
    return {
        **row,
        "requested_at": to_utc(row["requested_at"]),
        "provided_at": None if row["provided_at"] is None else to_utc(row["provided_at"]),
        "non_disclosure": bool(row["non_disclosure"]),
        "access_seq": int(row["access_seq"]),
    }


class ProvisionLogContract:
    """Behaviour every provision log shows. Subclasses provide ``provisions`` and ``stored``."""

    @pytest.fixture
    def provisions(self) -> ProvisionLog:
        raise NotImplementedError

    @pytest.fixture
    def stored(self) -> Stored:
        raise NotImplementedError

    def test_each_record_is_kept_and_sealed_by_its_access_record(
        self, provisions: ProvisionLog, stored: Stored
    ) -> None:
        kept_for = date(2040, 3, 31)
        given = [
            provision(1),
            provision(2, provided_at=None),
            provision(3, role=ProvisionRole.PROVIDER, retention_until=kept_for),
        ]
        provisions.record([(given[0], access(1)), (given[1], access(2))])
        provisions.record([])
        provisions.record([(given[2], access(3))])
        rows, chain = stored()
        assert [(r["record_id"], r["access_chain_id"], r["access_seq"]) for r in rows] == [
            ("RID0000000001", CHAIN, 1),
            ("RID0000000002", CHAIN, 2),
            ("RID0000000003", CHAIN, 3),
        ]
        assert rows[0]["items"] == '["TM00000000000002","市町村民税に関する情報"]'
        assert (rows[0]["role"], rows[2]["role"]) == ("requester", "provider")
        assert (rows[1]["provided_at"], rows[1]["requested_at"]) == (None, T0 + timedelta(hours=2))
        assert [r["non_disclosure"] for r in rows] == [True, False, True]
        assert [r["retention_until"] for r in rows] == [
            default_retention(T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=5)),
            default_retention(T0 + timedelta(hours=2), None),
            kept_for,
        ]
        assert rows[0]["subject_token"] == given[0].subject
        for row, p in zip(rows, given, strict=True):
            sealing = chain[row["access_seq"]]
            assert sealing.details[PROVISION_ID_KEY] == p.record_id
            assert sealing.details[PROVISION_DIGEST_KEY] == provision_digest(provision_values(p))
            assert sealing.details["records"] == "1"
        assert chain_holds([chain[seq] for seq in sorted(chain)])

    def test_a_number_or_a_bad_id_refuses_the_whole_call(
        self, provisions: ProvisionLog, stored: Stored
    ) -> None:
        digits = synthetic_individual_number().reveal()
        for bad, error in (
            (provision(2, items=("TM00000000000002", f"番号 {digits}")), PolicyRefused),
            (provision(2, subject=digits), PolicyRefused),
            (provision(2, requester=f"照会者 {digits}"), PolicyRefused),
            (provision(2, record_id=""), ValidationFailed),
            (provision(2, record_id="R" * 201), ValidationFailed),
            (provision(1), ValidationFailed),  # the same id twice in one call
        ):
            with pytest.raises(error):
                provisions.record([(provision(1), access(1)), (bad, access(2))])
        assert stored() == ([], {})

    def test_a_record_id_stored_already_is_refused_for_good_and_nothing_is_written(
        self, provisions: ProvisionLog, stored: Stored
    ) -> None:
        """Permanent: a retry cannot succeed. The SQL log raised a transient error after writing the access
        records, so the message went round the retry tiers before its dead letter."""
        provisions.record([(provision(1), access(1))])
        before = stored()
        with pytest.raises(AlreadyExists, match="stored already"):
            provisions.record([(provision(2), access(2)), (provision(1, jimu="別の事務"), access(3))])
        assert stored() == before


class _SqlProvisions(ProvisionLogContract):
    @pytest.fixture
    def connection(self) -> Connection:
        raise NotImplementedError

    @pytest.fixture
    def provisions(self, connection: Connection) -> ProvisionLog:
        return SqlProvisionLog(connection, ChainWriter("contract tests", chain_id=CHAIN, clock=lambda: T0))

    @pytest.fixture
    def stored(self, connection: Connection) -> Stored:
        def read() -> tuple[list[dict[str, Any]], dict[int, StoredRecord]]:
            p = provision_records
            query = select(p).where(p.c.access_chain_id == CHAIN).order_by(p.c.access_seq)
            rows = [_normal(dict(r)) for r in connection.execute(query).mappings()]
            chain = {r.seq: r for r in iter_records(connection) if r.chain_id == CHAIN}
            return rows, chain

        return read


class TestSqlProvisionLogOnSqlite(_SqlProvisions):
    @pytest.fixture
    def connection(self, sqlite_connection: Connection) -> Connection:
        return sqlite_connection


@pytest.mark.postgres
class TestSqlProvisionLogOnPostgres(_SqlProvisions):
    @pytest.fixture
    def connection(self, postgres_connection: Connection) -> Connection:
        return postgres_connection


class TestInMemoryProvisionLog(ProvisionLogContract):
    @pytest.fixture
    def audit(self) -> InMemoryAuditLog:
        return InMemoryAuditLog("contract tests", chain_id=CHAIN, clock=lambda: T0)

    @pytest.fixture
    def provisions(self, audit: InMemoryAuditLog) -> ProvisionLog:
        return InMemoryProvisionLog(audit)

    @pytest.fixture
    def stored(self, audit: InMemoryAuditLog, provisions: InMemoryProvisionLog) -> Stored:
        return lambda: (
            sorted((_normal(r) for r in provisions.rows), key=lambda r: r["access_seq"]),
            {r.seq: r for r in audit.records},
        )

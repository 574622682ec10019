"""One contract for every ApprovalStore: the SQL store (SQLite, PostgreSQL) and its in-memory twin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection

from contracts.errors import AlreadyExists
from hub.infra.memory.approvals import InMemoryApprovalStore
from hub.infra.stores.approvals import SqlApprovalStore
from hub.ports.approvals import Approval, ApprovalAction, ApprovalStatus, ApprovalStore

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def request(
    approval_id: str,
    *,
    at: datetime = T0,
    by: str = "alice@console",
    action: ApprovalAction = ApprovalAction.REVEAL_NUMBER,
) -> Approval:
    return Approval(
        approval_id=approval_id,
        action=action,
        target={"dead_letter": 7, "sealed": ["payload.number"]},
        reason="照会への回答のため",
        requested_by=by,
        requested_org="federation",
        requested_at=at,
        expires_at=at + HOUR,
        status=ApprovalStatus.PENDING,
    )


class ApprovalStoreContract:
    """Behaviour every approval store shows. Subclasses provide ``approvals``."""

    @pytest.fixture
    def approvals(self) -> ApprovalStore:
        raise NotImplementedError

    def test_a_request_is_kept_and_read_back(self, approvals: ApprovalStore) -> None:
        approvals.add(request("apr-aaaaaaaaaaaa"))
        assert approvals.get("apr-aaaaaaaaaaaa") == request("apr-aaaaaaaaaaaa")
        assert approvals.get("apr-zzzzzzzzzzzz") is None

    def test_a_second_request_with_the_same_id_is_refused_and_the_first_kept(
        self, approvals: ApprovalStore
    ) -> None:
        approvals.add(request("apr-aaaaaaaaaaaa"))
        with pytest.raises(AlreadyExists):
            approvals.add(request("apr-aaaaaaaaaaaa", by="mallory@console", at=T0 + HOUR))
        assert approvals.get("apr-aaaaaaaaaaaa") == request("apr-aaaaaaaaaaaa")
        assert [a.approval_id for a in approvals.find()] == ["apr-aaaaaaaaaaaa"]

    def test_requests_are_listed_newest_first_by_status(self, approvals: ApprovalStore) -> None:
        approvals.add(request("apr-bbbbbbbbbbbb", at=T0))
        approvals.add(request("apr-aaaaaaaaaaaa", at=T0))
        approvals.add(request("apr-cccccccccccc", at=T0 + HOUR))
        approvals.decide(
            "apr-bbbbbbbbbbbb",
            status=ApprovalStatus.REJECTED,
            by="bob@console",
            org="federation",
            at=T0,
            note=None,
            expires_at=T0,
        )

        def ids(*statuses: ApprovalStatus, limit: int = 100) -> list[str]:
            return [a.approval_id for a in approvals.find(statuses=statuses, limit=limit)]

        assert ids() == ["apr-cccccccccccc", "apr-aaaaaaaaaaaa", "apr-bbbbbbbbbbbb"]
        assert ids(limit=2) == ["apr-cccccccccccc", "apr-aaaaaaaaaaaa"]
        assert ids(ApprovalStatus.PENDING) == ["apr-cccccccccccc", "apr-aaaaaaaaaaaa"]
        assert ids(ApprovalStatus.REJECTED, ApprovalStatus.USED) == ["apr-bbbbbbbbbbbb"]

    def test_a_request_is_decided_once_and_used_once_after_approval(self, approvals: ApprovalStore) -> None:
        approvals.add(request("apr-aaaaaaaaaaaa"))
        assert not approvals.use("apr-aaaaaaaaaaaa", at=T0)  # not approved yet
        decided = approvals.decide(
            "apr-aaaaaaaaaaaa",
            status=ApprovalStatus.APPROVED,
            by="bob@console",
            org="federation",
            at=T0 + timedelta(minutes=5),
            note="確認済み",
            expires_at=T0 + 2 * HOUR,
        )
        assert decided
        assert not approvals.decide(
            "apr-aaaaaaaaaaaa",
            status=ApprovalStatus.REJECTED,
            by="carol@console",
            org="federation",
            at=T0,
            note=None,
            expires_at=T0,
        )
        assert not approvals.decide(
            "apr-zzzzzzzzzzzz",
            status=ApprovalStatus.APPROVED,
            by="bob@console",
            org="federation",
            at=T0,
            note=None,
            expires_at=T0,
        )
        approved = approvals.get("apr-aaaaaaaaaaaa")
        assert approved is not None
        assert (approved.status, approved.decided_by, approved.decided_at, approved.decision_note) == (
            ApprovalStatus.APPROVED,
            "bob@console",
            T0 + timedelta(minutes=5),
            "確認済み",
        )
        assert approved.expires_at == T0 + 2 * HOUR
        assert approvals.use("apr-aaaaaaaaaaaa", at=T0 + HOUR)
        assert not approvals.use("apr-aaaaaaaaaaaa", at=T0 + HOUR)
        used = approvals.get("apr-aaaaaaaaaaaa")
        assert used is not None
        assert (used.status, used.used_at) == (ApprovalStatus.USED, T0 + HOUR)

    def test_used_and_open_requests_are_counted_per_requester_and_action(
        self, approvals: ApprovalStore
    ) -> None:
        for n, approval_id in enumerate(["apr-aaaaaaaaaaaa", "apr-bbbbbbbbbbbb", "apr-cccccccccccc"]):
            approvals.add(request(approval_id, at=T0 + n * HOUR))
        approvals.add(request("apr-dddddddddddd", by="bob@console"))
        approvals.add(request("apr-eeeeeeeeeeee", action=ApprovalAction.RESOLVE_HOLD))
        for approval_id in ("apr-aaaaaaaaaaaa", "apr-bbbbbbbbbbbb"):
            approvals.decide(
                approval_id,
                status=ApprovalStatus.APPROVED,
                by="bob@console",
                org="federation",
                at=T0,
                note=None,
                expires_at=T0 + 5 * HOUR,
            )
        approvals.use("apr-aaaaaaaaaaaa", at=T0 + HOUR)
        reveal, alice = ApprovalAction.REVEAL_NUMBER, "alice@console"
        assert approvals.count_used(reveal, alice, T0) == 1
        assert approvals.count_used(reveal, alice, T0 + 2 * HOUR) == 0
        assert approvals.count_used(reveal, "bob@console", T0) == 0
        # Open: b (approved until T0+5h) and c (pending until T0+3h); a was used.
        assert approvals.count_open(reveal, alice, T0 + HOUR) == 2
        assert approvals.count_open(reveal, alice, T0 + 3 * HOUR) == 2  # expiry is inclusive
        assert approvals.count_open(reveal, alice, T0 + 4 * HOUR) == 1
        assert approvals.count_open(ApprovalAction.RESOLVE_HOLD, alice, T0) == 1
        assert approvals.count_open(reveal, "bob@console", T0) == 1


class TestSqlApprovalStoreOnSqlite(ApprovalStoreContract):
    @pytest.fixture
    def approvals(self, sqlite_connection: Connection) -> ApprovalStore:
        return SqlApprovalStore(sqlite_connection)


@pytest.mark.postgres
class TestSqlApprovalStoreOnPostgres(ApprovalStoreContract):
    @pytest.fixture
    def approvals(self, postgres_connection: Connection) -> ApprovalStore:
        return SqlApprovalStore(postgres_connection)


class TestInMemoryApprovalStore(ApprovalStoreContract):
    @pytest.fixture
    def approvals(self) -> ApprovalStore:
        return InMemoryApprovalStore()

"""``renkei retention run``'s jobs, on SQLite and PostgreSQL: each kind ends when its row says, and no sooner.

The vault's erasure with its copies (dead letters, holds, codes, pending queries, membership), the outbox,
archived dead letters, expired holds, settled and unanswered queries, 情報提供等記録 (still verifiable after
the deletion), rotated logs and exchange files; every run writes its counts per kind, and a dry run none.
"""

from __future__ import annotations

import dataclasses
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, func, insert, select

from contracts.individual_number import IndividualNumber
from contracts.messages.jlis_acquisition import HoldReason
from contracts.usage_number import UsageNumber
from hub.bootstrap.common import uow_factory
from hub.core.operator.holds import hold_id_for, seal_for_hold
from hub.core.rules.retention_model import RETENTION_MODEL, Kind
from hub.core.runtime.retry import Exchanges
from hub.core.runtime.routing import to_outgoing
from hub.infra.audit.sql import ChainWriter
from hub.infra.audit.verify import verify_engine
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.db.tables.associations import association_members
from hub.infra.db.tables.audit import provision_records
from hub.infra.db.tables.codes import is_codes, is_pending_queries
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.db.tables.holds import number_holds
from hub.infra.db.tables.messaging import outbox
from hub.infra.db.tables.vault import deletion_log, subjects
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.keyring import Keyring
from hub.infra.retention.run import RetentionPlaces, RetentionReport, run_all
from hub.ports.audit import AccessRecord, AuditAction, ProvisionRecord, ProvisionRole
from hub.ports.codes import PendingQuery, PendingStatus
from hub.ports.holds import HeldCandidate, Hold, HoldFlow, HoldResolution, QueriedInfo
from hub.ports.vault import AUDIT_SCOPE, Retention, SubjectId
from tests import vault_fixtures as fx

keyring = fx.keyring
people = fx.people
pg_url = fx.pg_url
postgres_engine = fx.postgres_engine
sqlite_engine = fx.sqlite_engine

AS_OF = date(2031, 3, 1)
LONG_AGO = datetime(2030, 1, 1, tzinfo=UTC)
LATELY = datetime(2031, 2, 27, tzinfo=UTC)
EXCHANGES = Exchanges(ingress="x.ingress", route="x.route", counterpart="x.cp", dead="x.dead", retry=str)
SEALED = "sealed:v1:jlis:jlis-1:" + "Q" * 60


@dataclass
class World:
    engine: Engine
    factory: SqlUnitOfWorkFactory
    keyring: Keyring
    places: RetentionPlaces

    def run(self, *, dry_run: bool = False) -> RetentionReport:
        return run_all(
            self.factory,
            self.keyring.vault,
            HpkeUnsealer(self.keyring.unsealing("hub")),
            address=lambda env: to_outgoing(env, EXCHANGES),
            places=self.places,
            as_of=AS_OF,
            dry_run=dry_run,
            actor="test:retention",
        )

    def count(self, table, *where) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _dead_letter(
    conn: Connection,
    *,
    message_id: str,
    body: dict[str, object],
    status: str = "pending",
    at: datetime = LATELY,
) -> int:
    row = {
        "death_key": uuid.uuid4().hex,
        "message_key": message_id,
        "message_id": message_id,
        "correlation_id": str(uuid.uuid4()),
        "message_type": "t.v1",
        "source_queue": "q",
        "stage": "handle",
        "origin": "hub",
        "reason_code": "validation_failed",
        "reason_text": "no",
        "exception_type": "ValidationFailed",
        "attempts": 1,
        "occurrences": 1,
        "first_failed_at": at,
        "last_failed_at": at,
        "received_at": at,
        "fingerprint": "f" * 32,
        "group_label": "g",
        "headers": "{}",
        "body": json.dumps({"message_id": message_id, "payload": body}).encode(),
        "body_redacted": True,
        "status": status,
        "replay_count": 1 if status == "replayed" else 0,
        "last_replayed_at": at if status == "replayed" else None,
    }
    key = conn.execute(insert(dead_letters).values(**row)).inserted_primary_key
    assert key is not None, "an insert of one row gives its primary key"
    return int(key[0])


def _hold(subject: SubjectId, usage: UsageNumber, candidates: list[str | None], created: datetime) -> Hold:
    hold_id = hold_id_for(uuid.uuid4(), 1)
    return Hold(
        hold_id=hold_id,
        flow=HoldFlow.NUMBER_ACQUISITION,
        reason=HoldReason.MULTIPLE_CANDIDATES,
        subject=subject,
        usage_number=usage,
        batch_id="b",
        chunk_index=0,
        chunk_count=1,
        total_records=1,
        record_seq=0,
        correlation_id=str(uuid.uuid4()),
        source_message_id=str(uuid.uuid4()),
        created_at=created,
        queried=QueriedInfo(name="照会\u3000太郎"),
        candidates=tuple(HeldCandidate(i, c, QueriedInfo(name="候補")) for i, c in enumerate(candidates, 1)),
    )


class RetentionJobsContract:
    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def world(self, engine: Engine, keyring: Keyring, tmp_path: Path) -> World:
        factory = uow_factory(engine, ChainWriter("retention test"), keyring.vault)
        return World(
            engine, factory, keyring, RetentionPlaces((tmp_path / "logs" / "renkei.log",), tmp_path / "wire")
        )

    def test_an_erased_person_goes_with_every_copy_and_the_others_stay(
        self, world: World, people: Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]
    ) -> None:
        (gone_u, gone_n), (stay_u, stay_n) = people(2)
        sealer = HpkeSealer(world.keyring.sealing_for(("hub",)))
        with world.factory() as uow:
            gone = uow.vault.enrol(
                [(gone_u, gone_n)], retention=Retention("x", date(2031, 2, 1)), source="t"
            )[gone_u]
            stay = uow.vault.enrol(
                [(stay_u, stay_n)], retention=Retention("pension.entitlement"), source="t"
            )[stay_u]
            token = uow.vault.tokens(AUDIT_SCOPE, [gone])[gone]
            atena = uow.codes.atena_numbers([gone, stay], allocate=True)
            uow.codes.store_codes([(gone, "C" * 24), (stay, "D" * 24)])
            message_id = str(uuid.uuid4())
            uow.audit.append(
                [AccessRecord(actor="t", action=AuditAction.ROUTED, message_id=message_id, subjects=(token,))]
            )
            own_hold = _hold(gone, gone_u, [None], LATELY)
            other_hold = _hold(stay, stay_u, [], LATELY)
            other_hold = dataclasses.replace(
                other_hold,
                candidates=(
                    HeldCandidate(
                        1, seal_for_hold(sealer, gone_n, other_hold.hold_id, 1), QueriedInfo(name="甲")
                    ),
                    HeldCandidate(
                        2, seal_for_hold(sealer, stay_n, other_hold.hold_id, 2), QueriedInfo(name="乙")
                    ),
                ),
            )
            uow.holds.add([own_hold, other_hold])
            uow.pending_queries.add([_query(gone, gone_u, LATELY)])
            conn = uow.connection
            conn.execute(
                insert(association_members).values(subject_id=gone, association_code="A1", updated_at=LATELY)
            )
            by_usage = _dead_letter(
                conn,
                message_id=str(uuid.uuid4()),
                body={
                    "records": [
                        {
                            "record_seq": 0,
                            "usage_number": {"kind": gone_u.kind.value, "value": gone_u.value},
                            "name": "甲",
                            "n": SEALED,
                        },
                        {
                            "record_seq": 1,
                            "usage_number": {"kind": stay_u.kind.value, "value": stay_u.value},
                            "name": "乙",
                        },
                    ]
                },
            )
            by_message = _dead_letter(
                conn, message_id=message_id, body={"records": [{"ref": "r_abcdefgh", "n": SEALED}]}
            )
            by_atena = _dead_letter(
                conn, message_id=str(uuid.uuid4()), body={"records": [{"atena_no": atena[gone], "n": SEALED}]}
            )
            untouched = _dead_letter(
                conn, message_id=str(uuid.uuid4()), body={"records": [{"atena_no": atena[stay], "n": SEALED}]}
            )
            uow.commit()

        dry = world.run(dry_run=True)
        assert dry.kinds[Kind.VAULT_OTHER].due == 1
        assert dry.kinds[Kind.DEAD_LETTERS_ERASED].due == 3
        assert dry.kinds[Kind.HOLDS_ERASED].due == 2  # its own hold, and a candidate in another's
        assert world.count(subjects, subjects.c.id == gone) == 1  # a dry run changes nothing
        kinds = dry.as_json()["kinds"]
        assert isinstance(kinds, dict)
        assert set(kinds) == {row.kind.value for row in RETENTION_MODEL}

        report = world.run()
        assert (report.erasure.subjects_erased, report.kinds[Kind.VAULT_PERSON].done) == (1, 1)
        for table in (subjects, is_codes, is_pending_queries, association_members, number_holds):
            assert (
                world.count(table, table.c.id == gone if table is subjects else table.c.subject_id == gone)
                == 0
            )
        with world.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(dead_letters))}
            [candidates] = conn.execute(
                select(number_holds.c.candidates).where(number_holds.c.subject_id == stay)
            ).scalars()
            log = conn.execute(select(deletion_log).where(deletion_log.c.person_ref.is_not(None))).all()
        for erased in (by_usage, by_message, by_atena):
            assert rows[erased].erased_at is not None
            assert b"sealed:" not in bytes(rows[erased].body)
            assert rows[erased].erasure_code.startswith("erasure.person"), rows[erased].erasure_code
            assert json.loads(rows[erased].erasure_params)["sealed"] == 1
            assert rows[erased].erasure_note is None
        assert gone_u.value.encode() not in bytes(rows[by_usage].body)
        assert stay_u.value.encode() in bytes(rows[by_usage].body)  # someone else's record keeps its fields
        assert b"r_abcdefgh" not in bytes(rows[by_message].body)  # tied to the person by the access record
        assert rows[untouched].erased_at is None
        assert b"sealed:" in bytes(rows[untouched].body)
        held = json.loads(candidates)
        assert held[0]["sealed"] is None
        assert held[1]["sealed"] is not None  # the kept person's candidate stays for the operator
        refs = {r.person_ref for r in log}
        assert len(refs) == 1
        assert {r.kind for r in log} == {
            "vault.other_basis",
            "vault.person",
            "intermediate_server.codes",
            "intermediate_server.pending_queries",
            "holds.erased_person",
            "dead_letters.erased_person",
        }
        assert all(str(gone_n.reveal()) not in r.what and gone not in r.what for r in log)

    def test_the_outbox_keeps_no_confirmed_body_and_no_old_row(self, world: World) -> None:
        with world.engine.begin() as conn:
            base = {
                "exchange": "e",
                "routing_key": "k",
                "message_type": "t",
                "correlation_id": "c",
                "headers": "{}",
            }
            conn.execute(
                insert(outbox),
                [
                    {
                        **base,
                        "message_id": "unsent",
                        "body": b"sealed",
                        "created_at": LONG_AGO,
                        "sent_at": None,
                    },
                    {
                        **base,
                        "message_id": "left",
                        "body": b"sealed",
                        "created_at": LATELY,
                        "sent_at": LATELY,
                    },
                    {**base, "message_id": "old", "body": b"", "created_at": LONG_AGO, "sent_at": LONG_AGO},
                    {**base, "message_id": "new", "body": b"", "created_at": LATELY, "sent_at": LATELY},
                ],
            )
        report = world.run()
        assert report.kinds[Kind.OUTBOX].done == 2
        with world.engine.connect() as conn:
            rows = {r.message_id: bytes(r.body) for r in conn.execute(select(outbox))}
        assert rows == {"unsent": b"sealed", "left": b"", "new": b""}  # a body never confirmed stays

    def test_archived_dead_letters_lose_their_sealed_values_after_thirty_days(self, world: World) -> None:
        with world.engine.begin() as conn:
            old = _dead_letter(conn, message_id="a", body={"n": SEALED}, status="replayed", at=LONG_AGO)
            young = _dead_letter(conn, message_id="b", body={"n": SEALED}, status="replayed", at=LATELY)
            pending = _dead_letter(conn, message_id="c", body={"n": SEALED}, at=LONG_AGO)
        report = world.run()
        assert report.kinds[Kind.DEAD_LETTERS_ARCHIVED].done == 1
        with world.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(dead_letters))}
        assert b"sealed:" not in bytes(rows[old].body)
        # What was destroyed is stored as a notice's code and values (counts, a date), not as a sentence.
        assert rows[old].erasure_code == "erasure.archived"
        values = json.loads(rows[old].erasure_params)
        assert (values["sealed"], values["days"]) == (1, 30)
        assert date.fromisoformat(values["date"])  # the day it ran
        assert rows[old].erasure_note is None
        assert b"sealed:" in bytes(rows[young].body)
        assert b"sealed:" in bytes(rows[pending].body)

    def test_holds_expire_and_resolved_ones_forget_what_was_asked(
        self, world: World, people: Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]
    ) -> None:
        [(u, n), (v, m)] = people(2)
        with world.factory() as uow:
            subject = uow.vault.enrol([(u, n)], retention=Retention("pension.entitlement"), source="t")[u]
            other = uow.vault.enrol([(v, m)], retention=Retention("pension.entitlement"), source="t")[v]
            stale, fresh, done = (
                _hold(subject, u, [], LONG_AGO),
                _hold(subject, u, [], LATELY),
                _hold(other, v, [], LONG_AGO),
            )
            uow.holds.add([stale, fresh, done])
            uow.holds.resolve(
                done.hold_id,
                resolution=HoldResolution.REJECTED,
                linked_candidate=None,
                operator="o",
                reason="r",
                at=LONG_AGO,
            )
            uow.commit()
        report = world.run()
        assert (report.kinds[Kind.HOLDS_PENDING].done, report.kinds[Kind.HOLDS_RESOLVED].done) == (1, 1)
        with world.engine.connect() as conn:
            holds = {r.hold_id: r for r in conn.execute(select(number_holds))}
            told = conn.execute(select(outbox.c.message_type)).scalars().all()
        assert (holds[stale.hold_id].status, holds[stale.hold_id].resolved_by) == ("resolved", "retention")
        assert holds[fresh.hold_id].status == "pending"
        assert holds[done.hold_id].queried is None
        assert holds[stale.hold_id].queried is not None  # the record of its own decision, for 90 more days
        assert told == ["pension.number_acquisition.outcome"]  # the pension system is told

    def test_settled_and_unanswered_queries_go(
        self, world: World, people: Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]
    ) -> None:
        [(u, n)] = people(1)
        with world.factory() as uow:
            subject = uow.vault.enrol([(u, n)], retention=Retention("pension.entitlement"), source="t")[u]
            settled, unanswered, recent = (
                _query(subject, u, LONG_AGO),
                _query(subject, u, LONG_AGO),
                _query(subject, u, LATELY),
            )
            uow.pending_queries.add([settled, unanswered, recent])
            uow.pending_queries.settle([settled.record_id], status=PendingStatus.ANSWERED, at=LONG_AGO)
            uow.commit()
        assert world.run().kinds[Kind.IS_PENDING_QUERIES].done == 2
        with world.engine.connect() as conn:
            assert conn.execute(select(is_pending_queries.c.record_id)).scalars().all() == [recent.record_id]

    def test_provision_records_go_after_seven_years_and_the_record_still_verifies(self, world: World) -> None:
        with world.factory() as uow:
            uow.provisions.record(
                [
                    (
                        _provision("old", date(2031, 2, 28)),
                        AccessRecord(actor="t", action=AuditAction.ROUTED),
                    ),
                    (
                        _provision("kept", date(2031, 3, 1)),
                        AccessRecord(actor="t", action=AuditAction.ROUTED),
                    ),
                ]
            )
            uow.commit()
        key = Ed25519PrivateKey.generate().public_key()
        assert verify_engine(world.engine, key).ok
        assert world.run().kinds[Kind.PROVISION_RECORDS].done == 1
        report = verify_engine(world.engine, key)
        assert report.ok, report.problems
        assert (report.provision_records, report.provision_purged) == (1, 1)
        with world.engine.begin() as conn:  # a deletion nobody recorded is still caught
            conn.execute(provision_records.delete())
        assert not verify_engine(world.engine, key).ok

    def test_rotated_logs_and_old_exchange_files_go(self, world: World) -> None:
        logs = world.places.log_files[0].parent
        wire = world.places.wire_dir / "pension"
        old = (LONG_AGO.timestamp(), LONG_AGO.timestamp())
        recent = (LATELY.timestamp(), LATELY.timestamp())
        files = {
            "live": logs / "renkei.log",
            "rotated": logs / "renkei.log.1",
            "rotated_new": logs / "renkei.log.2",
            "outbound": wire / "outbound" / "messages" / "t" / "a.json",
            "processed": wire / "processed" / "req.csv",
            "rejected": wire / "rejected" / "bad.csv",
            "inbound": wire / "inbound" / "waiting.csv",
        }
        for name, path in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(name)
            os.utime(path, recent if name == "rotated_new" else old)
        report = world.run()
        assert (report.kinds[Kind.LOGS].done, report.kinds[Kind.WIRE_FILES].done) == (1, 3)
        assert {n for n, p in files.items() if p.exists()} == {"live", "rotated_new", "inbound"}

    def test_nothing_due_writes_nothing(self, world: World) -> None:
        report = world.run()
        assert report.deletion_log_entries == 0
        assert report.storage is None
        assert all(r.done in (0, None) for r in report.kinds.values())


def _query(subject: SubjectId, usage: UsageNumber, at: datetime) -> PendingQuery:
    return PendingQuery(
        record_id=f"R{uuid.uuid4().hex[:20]}",
        subject=subject,
        usage_number=usage,
        query_ref="q",
        info_kind="resident",
        spi_code="TM00000000000011",
        spi_text="住民票関係情報",
        jimu_text="事務",
        basis_current="命令第2条表",
        basis_legacy=None,
        provider_org_code="131016",
        correlation_id=str(uuid.uuid4()),
        requested_at=at,
        status=PendingStatus.PENDING,
        settled_at=None,
    )


def _provision(record_id: str, until: date) -> ProvisionRecord:
    return ProvisionRecord(
        record_id=record_id,
        role=ProvisionRole.REQUESTER,
        requester="全国市町村職員共済組合連合会",
        provider="市町村長",
        requested_at=LONG_AGO,
        items=("住民票関係情報",),
        jimu="年金給付",
        legal_basis_current="命令第2条表",
        retention_until=until,
    )


class TestSqliteRetentionJobs(RetentionJobsContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestPostgresRetentionJobs(RetentionJobsContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine

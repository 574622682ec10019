"""The access record store on SQLite and PostgreSQL: concurrency, rollback, failures, queries, 23条."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from contracts.errors import AuditWriteFailed, PolicyRefused
from contracts.individual_number import synthetic_individual_number
from hub.infra.audit.checkpoint import Checkpointer, CheckpointPolicy, write_checkpoint
from hub.infra.audit.codec import canonical_at, chain_genesis
from hub.infra.audit.provision import (
    PROVISION_DIGEST_KEY,
    SqlProvisionLog,
    default_retention,
    record_provision,
)
from hub.infra.audit.query import (
    ExportFormat,
    RecordFilter,
    export_provisions,
    export_records,
    search,
    uncsv_cell,
)
from hub.infra.audit.rows import REDACTED_KEY
from hub.infra.audit.sql import ChainWriter, SqlAuditLog, append_durably
from hub.infra.audit.verify import ProblemKind, VerifyReport, verify, verify_engine
from hub.infra.audit.verify_chain import ChainHead, walk_chain
from hub.infra.crypto.signing import Ed25519Signer
from hub.infra.db.tables.audit import access_records, audit_chains, audit_coverage, provision_records
from hub.ports.audit import AccessRecord, AuditAction, ProvisionRecord, ProvisionRole
from tests.integration.test_audit_fixtures import T0, backend_engine, make_record, reset_tables


def provision(i: int, **overrides: Any) -> ProvisionRecord:
    values: dict[str, Any] = {
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
        "subject": f"tkA_person{i}",
    }
    values.update(overrides)
    return ProvisionRecord(**values)


class AuditStoreContract:
    backend: ClassVar[str]

    @pytest.fixture(scope="class")
    @classmethod
    def engine(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
        with backend_engine(cls.backend, tmp_path_factory.mktemp("audit")) as engine:
            yield engine

    @pytest.fixture(autouse=True)
    def _empty(self, engine: Engine) -> None:
        reset_tables(engine)

    @pytest.fixture
    def signer(self) -> Ed25519Signer:
        return Ed25519Signer.generate()

    @staticmethod
    def check(engine: Engine, signer: Ed25519Signer) -> VerifyReport:
        with engine.connect() as conn, conn.begin():
            return verify(conn, signer.public_key)

    @staticmethod
    def append(engine: Engine, chain: ChainWriter, records: list[AccessRecord]) -> None:
        with engine.begin() as conn:
            SqlAuditLog(conn, chain).append(records)

    # --- writing ---

    def test_records_are_numbered_in_order_and_the_head_follows(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(engine, chain, [make_record(i) for i in range(3)])
        self.append(engine, chain, [make_record(i) for i in range(3, 5)])
        with engine.connect() as conn:
            seqs = conn.execute(select(access_records.c.seq).order_by(access_records.c.seq)).scalars().all()
            head = conn.execute(select(audit_chains.c.head_seq)).scalar_one()
        assert seqs == [1, 2, 3, 4, 5]
        assert head == 5
        assert chain.appended == 5

    def test_a_rolled_back_transaction_leaves_the_chain_verifiable(
        self, engine: Engine, signer: Ed25519Signer
    ) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(engine, chain, [make_record(0)])
        with engine.connect() as conn:
            tx = conn.begin()
            SqlAuditLog(conn, chain).append([make_record(1), make_record(2)])
            tx.rollback()
        self.append(engine, chain, [make_record(3)])
        report = self.check(engine, signer)
        assert report.ok, report.problems
        assert report.records_checked == 2

    def test_a_rolled_back_first_append_leaves_no_chain(self, engine: Engine, signer: Ed25519Signer) -> None:
        chain = ChainWriter("w", chain_id="c1")
        with engine.connect() as conn:
            tx = conn.begin()
            SqlAuditLog(conn, chain).append([make_record(0)])
            tx.rollback()
        self.append(engine, chain, [make_record(1)])
        assert self.check(engine, signer).ok

    @pytest.mark.parametrize("shared", [False, True])
    def test_concurrent_writers_keep_every_chain_intact(
        self, engine: Engine, signer: Ed25519Signer, shared: bool
    ) -> None:
        # Two threads, each with its own connection and transactions; with ``shared`` both append to one
        # chain and take turns on its row lock.
        chains = [ChainWriter("w1", chain_id="t1"), ChainWriter("w2", chain_id="t2")]
        if shared:
            chains[1] = chains[0]
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def work(chain: ChainWriter, offset: int) -> None:
            try:
                start.wait(timeout=30)
                for batch in range(15):
                    first = offset + batch * 4
                    self.append(engine, chain, [make_record(i) for i in range(first, first + 4)])
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(c, k * 1000)) for k, c in enumerate(chains)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors
        with engine.begin() as conn:
            write_checkpoint(conn, signer)
        report = self.check(engine, signer)
        assert report.ok, report.problems
        assert report.records_checked == 120
        assert report.chains == (1 if shared else 2)

    def test_a_head_read_before_newer_appends_is_not_an_insertion(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(engine, chain, [make_record(i) for i in range(3)])
        with engine.connect() as conn:
            row = conn.execute(select(audit_chains)).mappings().one()
            genesis = chain_genesis("c1", row["writer"], canonical_at(row["created_at"]))
            stale = ChainHead("c1", genesis, row["head_seq"], row["head_hash"])
        self.append(engine, chain, [make_record(i) for i in range(3, 6)])  # committed after the head was read
        with engine.connect() as conn, conn.begin():
            outcome = walk_chain(conn, stale)
        assert outcome.problem is None
        assert outcome.last_seq == 3

    def test_verification_while_a_writer_appends(self, engine: Engine, signer: Ed25519Signer) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(engine, chain, [make_record(0)])
        errors: list[BaseException] = []

        def write() -> None:
            try:
                for batch in range(40):
                    self.append(engine, chain, [make_record(i) for i in range(batch * 5, batch * 5 + 5)])
            except BaseException as exc:
                errors.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        reports = [verify_engine(engine, signer.public_key) for _ in range(5)]
        writer.join(timeout=120)
        assert not errors
        assert all(r.ok for r in reports), [r.problems for r in reports]
        final = verify_engine(engine, signer.public_key)
        assert final.ok
        assert final.records_checked == 201

    def test_a_database_failure_becomes_audit_write_failed(
        self, engine: Engine, signer: Ed25519Signer
    ) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(engine, chain, [make_record(0)])
        with engine.begin() as conn:  # a stray row where the next record must go
            row = conn.execute(select(access_records)).mappings().one()
            conn.execute(insert(access_records).values({**row, "seq": 2}))
        with pytest.raises(AuditWriteFailed), engine.begin() as conn:
            SqlAuditLog(conn, chain).append([make_record(1)])
        first = self.check(engine, signer).first_problem
        assert first is not None
        assert (first.kind, first.seq) == (ProblemKind.INSERTED, 2)

    def test_append_durably_commits_before_returning(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        append_durably(engine, chain, [make_record(0, action=AuditAction.REVEALED)])
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(access_records)).scalar_one() == 1

    def test_append_durably_fails_closed(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE access_record_subjects")
        with pytest.raises(AuditWriteFailed):
            append_durably(engine, chain, [make_record(0)])
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(access_records)).scalar_one() == 0

    def test_a_number_never_reaches_the_store(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        number = synthetic_individual_number().reveal()
        with pytest.raises(PolicyRefused), engine.begin() as conn:
            SqlAuditLog(conn, chain).append([make_record(0, subjects=(number,))])
        self.append(engine, chain, [make_record(1, reason=f"failed for {number}", details={"raw": number})])
        with engine.connect() as conn:
            row = conn.execute(select(access_records)).mappings().one()
        assert number not in json.dumps(dict(row), default=str, ensure_ascii=False)
        assert json.loads(row["details"])[REDACTED_KEY] == "details.raw,reason"

    # --- checkpoints ---

    def test_a_checkpoint_seals_only_chains_that_grew(self, engine: Engine, signer: Ed25519Signer) -> None:
        a, b = ChainWriter("a", chain_id="a"), ChainWriter("b", chain_id="b")
        self.append(engine, a, [make_record(0)])
        self.append(engine, b, [make_record(1)])
        with engine.begin() as conn:
            first = write_checkpoint(conn, signer)
        self.append(engine, a, [make_record(2)])
        with engine.begin() as conn:
            second = write_checkpoint(conn, signer)
            third = write_checkpoint(conn, signer)
            coverage = dict(conn.execute(select(audit_coverage.c.chain_id, audit_coverage.c.seq)).all())
        assert first is not None
        assert second is not None
        assert set(first.heads) == {"a", "b"}
        assert second.heads == {"a": (2, second.heads["a"][1])}
        assert second.prev_digest == first.digest
        assert third is None
        assert coverage == {"a": 2, "b": 1}
        assert self.check(engine, signer).ok

    def test_maybe_checkpoint_follows_the_policy(self, engine: Engine, signer: Ed25519Signer) -> None:
        now = [0.0]
        chain = ChainWriter("w", chain_id="c1")
        checkpointer = Checkpointer(
            engine,
            signer,
            [chain],
            policy=CheckpointPolicy(every_records=5, every_seconds=60),
            clock=lambda: now[0],
        )
        self.append(engine, chain, [make_record(i) for i in range(3)])
        assert checkpointer.maybe_checkpoint() is None  # 3 records, no time passed
        self.append(engine, chain, [make_record(i) for i in range(3, 5)])
        first = checkpointer.maybe_checkpoint()
        assert first is not None  # 5 records
        assert first.heads["c1"][0] == 5
        self.append(engine, chain, [make_record(5)])
        assert checkpointer.maybe_checkpoint() is None
        now[0] = 61.0
        second = checkpointer.maybe_checkpoint()
        assert second is not None  # 60 s and something new
        assert second.heads["c1"][0] == 6
        now[0] = 200.0
        assert checkpointer.maybe_checkpoint() is None  # nothing new

    # --- queries and exports ---

    @pytest.fixture
    def searchable(self, engine: Engine) -> ChainWriter:
        chain = ChainWriter("w", chain_id="c1")
        other = ChainWriter("w2", chain_id="c2")
        self.append(engine, chain, [make_record(i) for i in range(0, 12)])
        self.append(engine, other, [make_record(i) for i in range(12, 20)])
        return chain

    def test_who_touched_this_person(self, engine: Engine, searchable: ChainWriter) -> None:
        with engine.connect() as conn:
            found = search(conn, subject_token="tkA_subject2")
        assert [r.message_id for r in found] == [f"msg-{i:06d}" for i in (2, 7, 12, 17)]
        assert {r.chain_id for r in found} == {"c1", "c2"}
        assert all("tkA_subject2" in r.subjects for r in found)
        assert found[0].purpose == "生存確認"
        assert found[0].legal_basis == "住民基本台帳法 第30条の9"

    @pytest.mark.parametrize(
        ("criteria", "expected"),
        [
            ({"message_id": "msg-000003"}, [3]),
            ({"correlation_id": "corr-0002"}, [8, 9, 10, 11]),
            ({"actor": "hub.worker-1", "limit": 3}, [1, 4, 7]),
            ({"action": "routed"}, [2]),
            ({"since": T0 + timedelta(seconds=17)}, [17, 18, 19]),
            ({"until": T0 + timedelta(seconds=2)}, [0, 1]),
            ({"subject_token": "tkA_subject1", "since": T0 + timedelta(seconds=5)}, [6, 11, 16]),
        ],
    )
    def test_search_by_each_criterion(
        self, engine: Engine, searchable: ChainWriter, criteria: dict[str, Any], expected: list[int]
    ) -> None:
        with engine.connect() as conn:
            found = search(conn, **criteria)
        assert [r.message_id for r in found] == [f"msg-{i:06d}" for i in expected]

    def test_json_lines_export_round_trips(self, engine: Engine, searchable: ChainWriter) -> None:
        out = io.StringIO()
        with engine.connect() as conn:
            count = export_records(conn, out, ExportFormat.JSONL)
            expected = [r.to_json() for r in search(conn, limit=1000)]
        lines = [json.loads(line) for line in out.getvalue().splitlines()]
        assert count == 20
        assert lines == expected
        assert lines[0]["at"] == "2026-04-01T00:00:00.123456Z"

    def test_csv_export_round_trips_and_disarms_formulas(self, engine: Engine) -> None:
        chain = ChainWriter("w", chain_id="c1")
        self.append(
            engine, chain, [make_record(0, reason='=HYPERLINK("http://x")'), make_record(1, reason="'quoted")]
        )
        out = io.StringIO()
        with engine.connect() as conn:
            count = export_records(conn, out, ExportFormat.CSV, RecordFilter(actor="hub.worker-0"))
            expected = search(conn, actor="hub.worker-0")
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        assert count == 1
        assert rows[0]["reason"] == '\'=HYPERLINK("http://x")'
        back = {k: uncsv_cell(v) for k, v in rows[0].items()}
        want = expected[0].to_json()
        assert back["reason"] == want["reason"]
        assert back["subjects"].split(" ") == want["subjects"]
        assert json.loads(back["details"]) == want["details"]
        assert (back["at"], back["hash"], int(back["seq"])) == (want["at"], want["hash"], want["seq"])

    # --- 情報提供等記録 (番号法 第23条) ---

    def test_provision_records_are_sealed_and_exported(self, engine: Engine, signer: Ed25519Signer) -> None:
        chain = ChainWriter("w", chain_id="c1")
        access = make_record(0, action=AuditAction.ROUTED, destination="intermediate_server")
        with engine.begin() as conn:
            SqlProvisionLog(conn, chain).record(
                [(provision(1), access), (provision(2, provided_at=None), access)]
            )
            record_provision(conn, chain, provision(3, role=ProvisionRole.PROVIDER), access)
        report = self.check(engine, signer)
        assert report.ok, report.problems
        assert report.provision_records == 3
        out = io.StringIO()
        with engine.connect() as conn:
            assert export_provisions(conn, out, ExportFormat.JSONL) == 3
            sealed = search(conn, message_id=access.message_id)
        rows = [json.loads(line) for line in out.getvalue().splitlines()]
        assert rows[0] == {
            "record_id": "RID0000000001",
            "role": "requester",
            "requester": "全国市町村職員共済組合連合会",
            "provider": "市町村長 (131016)",
            "requested_at": "2026-04-01T01:00:00.123456Z",
            "provided_at": "2026-04-01T01:05:00.123456Z",
            "items": ["TM00000000000002", "市町村民税に関する情報"],
            "jimu": "地共済法による年金である給付の支給に関する事務",
            "legal_basis_current": "命令第2条表84の項 第86条",
            "legal_basis_legacy": "別表第二 59",
            "non_disclosure": True,
            "subject": "tkA_person1",
            "retention_until": "2033-04-01",
            "access_chain_id": "c1",
            "access_seq": 1,
        }
        assert rows[1]["provided_at"] is None
        assert rows[2]["role"] == "provider"
        assert [PROVISION_DIGEST_KEY in r.details for r in sealed] == [True, True, True]
        csv_out = io.StringIO()
        with engine.connect() as conn:
            export_provisions(conn, csv_out, ExportFormat.CSV, subject_token="tkA_person2")
        (row,) = list(csv.DictReader(io.StringIO(csv_out.getvalue())))
        assert (row["record_id"], row["non_disclosure"], row["provided_at"]) == ("RID0000000002", "0", "")

    @pytest.mark.parametrize("attack", ["modify", "delete", "insert", "relink"])
    def test_a_tampered_provision_record_is_caught(
        self, engine: Engine, signer: Ed25519Signer, attack: str
    ) -> None:
        chain = ChainWriter("w", chain_id="c1")
        with engine.begin() as conn:
            SqlProvisionLog(conn, chain).record([(provision(i), make_record(i)) for i in range(3)])
        p = provision_records
        with engine.begin() as conn:
            if attack == "modify":
                conn.execute(update(p).where(p.c.record_id == "RID0000000001").values(non_disclosure=False))
            elif attack == "delete":
                conn.execute(delete(p).where(p.c.record_id == "RID0000000001"))
            elif attack == "relink":
                conn.execute(update(p).where(p.c.record_id == "RID0000000001").values(access_seq=3))
            else:
                row = conn.execute(select(p).where(p.c.record_id == "RID0000000001")).mappings().one()
                conn.execute(insert(p).values({**row, "record_id": "RID-forged"}))
        first = self.check(engine, signer).first_problem
        assert first is not None
        expected = {"modify": ProblemKind.MODIFIED, "relink": ProblemKind.MODIFIED}
        assert first.kind is expected.get(
            attack, ProblemKind.DELETED if attack == "delete" else ProblemKind.INSERTED
        )
        if attack != "insert":
            assert (first.chain_id, first.seq) == ("c1", 2)

    def test_retention_is_seven_years_from_the_japanese_day(self) -> None:
        late_utc = datetime(2024, 2, 28, 16, 0, tzinfo=UTC)  # 2024-02-29 01:00 in Japan
        assert default_retention(late_utc, None) == date(2031, 2, 28)
        assert default_retention(T0, T0 + timedelta(days=1)) == date(2033, 4, 2)


class TestSqliteStore(AuditStoreContract):
    backend = "sqlite"


@pytest.mark.postgres
class TestPostgresStore(AuditStoreContract):
    backend = "postgresql"

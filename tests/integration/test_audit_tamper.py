"""The verifier catches every kind of tampering, on SQLite and on PostgreSQL, and names the first bad record.

The attacker here has full write access to the database and knows the hash algorithm (it is public): it
re-hashes what it changes where that helps it. It does not have the checkpoint signing key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, String, delete, insert, select, type_coerce, update

from hub.infra.audit.checkpoint import write_checkpoint
from hub.infra.audit.codec import (
    RECORD_FIELDS,
    checkpoint_message,
    digest_text,
    record_hash,
    stored_at_text,
)
from hub.infra.audit.rows import hashed_fields, record_values
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.audit.verify import Problem, ProblemKind, VerifyReport, verify
from hub.infra.crypto.signing import Ed25519Signer
from hub.infra.db.tables.audit import (
    access_record_subjects,
    access_records,
    audit_chains,
    audit_checkpoints,
)
from tests.integration.test_audit_fixtures import backend_engine, make_record, reset_tables

R, S, C, K = access_records, access_record_subjects, audit_chains, audit_checkpoints


# --- the attacker's tools ----------------------------------------------------------------------------------


def stored_hash(engine: Engine, chain_id: str, seq: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(select(R.c.hash).where(R.c.chain_id == chain_id, R.c.seq == seq)).scalar_one()
        )


def rehash(engine: Engine, chain_id: str, seq: int, prev_hash: str | None = None) -> str:
    """Recompute (and store) the hash of record ``seq`` from its stored values; returns it."""
    with engine.begin() as conn:
        cols = [type_coerce(R.c.at, String).label("at") if n == "at" else R.c[n] for n in RECORD_FIELDS]
        row = conn.execute(select(*cols, R.c.prev_hash).where(R.c.chain_id == chain_id, R.c.seq == seq)).one()
        subjects = conn.execute(
            select(S.c.subject_token).where(S.c.chain_id == chain_id, S.c.seq == seq)
        ).scalars()
        prev = prev_hash if prev_hash is not None else row.prev_hash
        fields = [stored_at_text(row.at) if n == "at" else row._mapping[n] for n in RECORD_FIELDS]
        digest = record_hash(chain_id, seq, fields, list(subjects), prev)
        conn.execute(
            update(R).where(R.c.chain_id == chain_id, R.c.seq == seq).values(prev_hash=prev, hash=digest)
        )
    return digest


def rehash_from(engine: Engine, chain_id: str, first: int, last: int) -> None:
    """Re-link and re-hash records first..last and move the chain head: a full rewrite of the tail."""
    prev = stored_hash(engine, chain_id, first - 1) if first > 1 else None
    for seq in range(first, last + 1):
        prev = rehash(engine, chain_id, seq, prev)
    with engine.begin() as conn:
        conn.execute(update(C).where(C.c.chain_id == chain_id).values(head_seq=last, head_hash=prev))


def move(engine: Engine, chain_id: str, moves: list[tuple[int, int]]) -> None:
    """Renumber records (and their subjects): ``(from_seq, to_seq)`` in an order free of collisions."""
    with engine.begin() as conn:
        for old, new in moves:
            for table in (R, S):
                conn.execute(
                    update(table).where(table.c.chain_id == chain_id, table.c.seq == old).values(seq=new)
                )


def forge(engine: Engine, chain_id: str, seq: int, prev_hash: str, *, junk: bool = False) -> None:
    """Insert a record the hub never wrote, hashed correctly (or not, with ``junk``)."""
    at = make_record(0).at
    assert at is not None
    values, subjects = record_values(make_record(900, actor="intruder"), at)
    digest = "f" * 64 if junk else record_hash(chain_id, seq, hashed_fields(values), subjects, prev_hash)
    with engine.begin() as conn:
        conn.execute(insert(R).values(**values, chain_id=chain_id, seq=seq, prev_hash=prev_hash, hash=digest))
        conn.execute(insert(S), [{"chain_id": chain_id, "seq": seq, "subject_token": t} for t in subjects])


def first_of(report: VerifyReport) -> Problem:
    assert report.first_problem is not None, "the verifier found nothing"
    return report.first_problem


# --- the contract ------------------------------------------------------------------------------------------


class AuditTamperContract:
    """Run against each backend by the subclasses below."""

    backend: ClassVar[str]
    N: ClassVar[int] = 10

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

    @pytest.fixture
    def chain(self, engine: Engine) -> ChainWriter:
        chain = ChainWriter("test writer", chain_id="chain-a")
        self.write(engine, chain, 0, self.N, batch=3)
        return chain

    @staticmethod
    def write(engine: Engine, chain: ChainWriter, start: int, stop: int, batch: int = 5) -> None:
        for first in range(start, stop, batch):
            with engine.begin() as conn:
                SqlAuditLog(conn, chain).append(
                    [make_record(i) for i in range(first, min(stop, first + batch))]
                )

    @staticmethod
    def check(engine: Engine, signer: Ed25519Signer) -> VerifyReport:
        with engine.connect() as conn, conn.begin():
            return verify(conn, signer.public_key)

    @staticmethod
    def checkpoint(engine: Engine, signer: Ed25519Signer) -> None:
        with engine.begin() as conn:
            assert write_checkpoint(conn, signer) is not None

    def three_checkpoints(self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer) -> None:
        """Checkpoints 1, 2 and 3, with two more records written between each."""
        for start in (self.N, self.N + 2):
            self.checkpoint(engine, signer)
            self.write(engine, chain, start, start + 2)
        self.checkpoint(engine, signer)

    def assert_first(
        self, report: VerifyReport, kind: ProblemKind, seq: int | None, chain: str = "chain-a"
    ) -> None:
        first = first_of(report)
        assert (first.kind, first.chain_id, first.seq) == (kind, chain, seq), first
        assert f"seq {seq}" in first.message or seq is None

    # --- untampered ---

    def test_intact_chain_verifies(self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer) -> None:
        self.checkpoint(engine, signer)
        report = self.check(engine, signer)
        assert report.ok, report.problems
        assert (report.records_checked, report.chains, report.checkpoints) == (self.N, 1, 1)
        assert report.uncovered_records == 0

    def test_records_after_the_checkpoint_are_counted_as_uncovered(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.checkpoint(engine, signer)
        self.write(engine, chain, self.N, self.N + 4)
        report = self.check(engine, signer)
        assert report.ok
        assert report.uncovered_records == 4

    # --- modified ---

    @pytest.mark.parametrize(
        ("column", "value"),
        [
            ("actor", "someone else"),
            ("action", "revealed"),
            ("message_id", "msg-999999"),
            ("purpose", "目的外"),
            ("legal_basis", None),
            ("outcome", "refused"),
            ("reason", ""),
            ("details", '{"chunk":"40","stage":"enrich"}'),
            ("prev_hash", "0" * 64),
            ("hash", "0" * 64),
        ],
    )
    def test_a_modified_field_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, column: str, value: Any
    ) -> None:
        with engine.begin() as conn:
            conn.execute(update(R).where(R.c.chain_id == "chain-a", R.c.seq == 5).values({column: value}))
        self.assert_first(self.check(engine, signer), ProblemKind.MODIFIED, 5)

    def test_a_modified_time_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        with engine.begin() as conn:
            at = conn.execute(select(R.c.at).where(R.c.chain_id == "chain-a", R.c.seq == 5)).scalar_one()
            conn.execute(
                update(R).where(R.c.chain_id == "chain-a", R.c.seq == 5).values(at=at.replace(microsecond=0))
            )
        self.assert_first(self.check(engine, signer), ProblemKind.MODIFIED, 5)

    @pytest.mark.parametrize("how", ["remove", "add", "change"])
    def test_a_changed_subject_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, how: str
    ) -> None:
        with engine.begin() as conn:
            where = (S.c.chain_id == "chain-a", S.c.seq == 5, S.c.subject_token == "tkA_other4")
            if how == "remove":
                conn.execute(delete(S).where(*where))
            elif how == "add":
                conn.execute(insert(S).values(chain_id="chain-a", seq=5, subject_token="tkA_victim"))
            else:
                conn.execute(update(S).where(*where).values(subject_token="tkA_victim"))
        self.assert_first(self.check(engine, signer), ProblemKind.MODIFIED, 5)

    def test_a_modified_and_rehashed_record_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        with engine.begin() as conn:
            conn.execute(
                update(R).where(R.c.chain_id == "chain-a", R.c.seq == 5).values(actor="someone else")
            )
        rehash(engine, "chain-a", 5)
        self.assert_first(self.check(engine, signer), ProblemKind.MODIFIED, 5)

    def test_a_changed_chain_row_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        with engine.begin() as conn:
            conn.execute(update(C).where(C.c.chain_id == "chain-a").values(writer="an innocent writer"))
        self.assert_first(self.check(engine, signer), ProblemKind.MODIFIED, 1)

    def test_a_rewritten_tail_is_caught_by_the_checkpoint(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        # Checkpoint 1 seals seq 4; checkpoint 2 seals seq 10. Rewriting 5..10 consistently fools the chain
        # walk but not checkpoint 2: the report names seq 5, the first record checkpoint 1 does not pin.
        reset_tables(engine)
        self.write(engine, chain, 0, 4)
        self.checkpoint(engine, signer)
        self.write(engine, chain, 4, self.N)
        self.checkpoint(engine, signer)
        with engine.begin() as conn:
            conn.execute(
                update(R).where(R.c.chain_id == "chain-a", R.c.seq == 7).values(actor="someone else")
            )
        rehash_from(engine, "chain-a", 7, self.N)
        report = self.check(engine, signer)
        self.assert_first(report, ProblemKind.BAD_CHECKPOINT, 5)
        assert first_of(report).checkpoint_id == 2

    # --- deleted ---

    @pytest.mark.parametrize("seq", [1, 5])
    def test_a_deleted_record_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, seq: int
    ) -> None:
        with engine.begin() as conn:
            conn.execute(delete(R).where(R.c.chain_id == "chain-a", R.c.seq == seq))
        self.assert_first(self.check(engine, signer), ProblemKind.DELETED, seq)

    def test_a_deleted_record_with_renumbering_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        with engine.begin() as conn:
            conn.execute(delete(R).where(R.c.chain_id == "chain-a", R.c.seq == 5))
            conn.execute(delete(S).where(S.c.chain_id == "chain-a", S.c.seq == 5))
            conn.execute(update(C).where(C.c.chain_id == "chain-a").values(head_seq=self.N - 1))
        move(engine, "chain-a", [(s, s - 1) for s in range(6, self.N + 1)])
        self.assert_first(self.check(engine, signer), ProblemKind.DELETED, 5)

    def test_a_truncated_tail_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        with engine.begin() as conn:
            conn.execute(delete(R).where(R.c.chain_id == "chain-a", R.c.seq >= 8))
        self.assert_first(self.check(engine, signer), ProblemKind.DELETED, 8)

    def test_a_truncated_tail_with_a_moved_head_is_caught_by_the_checkpoint(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.checkpoint(engine, signer)
        last_kept = stored_hash(engine, "chain-a", 7)
        with engine.begin() as conn:
            conn.execute(delete(R).where(R.c.chain_id == "chain-a", R.c.seq >= 8))
            conn.execute(delete(S).where(S.c.chain_id == "chain-a", S.c.seq >= 8))
            conn.execute(update(C).where(C.c.chain_id == "chain-a").values(head_seq=7, head_hash=last_kept))
        report = self.check(engine, signer)
        self.assert_first(report, ProblemKind.DELETED, 8)
        assert first_of(report).checkpoint_id == 1

    def test_a_whole_chain_deleted_after_a_checkpoint_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.checkpoint(engine, signer)
        with engine.begin() as conn:
            for table in (S, R, C):
                conn.execute(delete(table).where(table.c.chain_id == "chain-a"))
        report = self.check(engine, signer)
        self.assert_first(report, ProblemKind.DELETED, 1)
        assert "no such chain remains" in first_of(report).message

    # --- inserted ---

    def test_a_record_beyond_the_head_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        forge(engine, "chain-a", self.N + 1, stored_hash(engine, "chain-a", self.N))
        self.assert_first(self.check(engine, signer), ProblemKind.INSERTED, self.N + 1)

    @pytest.mark.parametrize("junk", [False, True])
    def test_a_record_inserted_in_the_middle_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, junk: bool
    ) -> None:
        move(engine, "chain-a", [(s, s + 1) for s in range(self.N, 4, -1)])
        forge(engine, "chain-a", 5, stored_hash(engine, "chain-a", 4), junk=junk)
        with engine.begin() as conn:
            conn.execute(update(C).where(C.c.chain_id == "chain-a").values(head_seq=self.N + 1))
        self.assert_first(self.check(engine, signer), ProblemKind.INSERTED, 5)

    def test_records_in_a_chain_the_hub_never_created_are_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        forge(engine, "chain-forged", 1, "0" * 64)
        self.assert_first(self.check(engine, signer), ProblemKind.INSERTED, 1, chain="chain-forged")

    # --- reordered ---

    @pytest.mark.parametrize(("a", "b"), [(3, 4), (2, 9)])
    def test_swapped_records_are_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, a: int, b: int
    ) -> None:
        move(engine, "chain-a", [(a, -1), (b, a), (-1, b)])
        self.assert_first(self.check(engine, signer), ProblemKind.REORDERED, a)

    # --- checkpoints ---

    def test_a_changed_checkpoint_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.checkpoint(engine, signer)
        with engine.begin() as conn:
            heads = json.loads(conn.execute(select(K.c.heads).where(K.c.id == 1)).scalar_one())
            heads["chain-a"][0] = 3
            conn.execute(update(K).where(K.c.id == 1).values(heads=json.dumps(heads, separators=(",", ":"))))
        report = self.check(engine, signer)
        first = first_of(report)
        assert (first.kind, first.checkpoint_id) == (ProblemKind.BAD_CHECKPOINT, 1), first

    @pytest.mark.parametrize("column", ["signature", "root", "prev_digest"])
    def test_a_digest_with_its_case_changed_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, column: str
    ) -> None:
        """Found by the property test: the decoder upper-cased the text first, so ``SIG`` read as ``sig``."""
        self.three_checkpoints(engine, chain, signer)
        with engine.begin() as conn:
            stored = conn.execute(select(K.c[column]).where(K.c.id == 2)).scalar_one()
            conn.execute(update(K).where(K.c.id == 2).values({column: stored.upper()}))
        first = first_of(self.check(engine, signer))
        assert first.checkpoint_id == 2, first
        assert first.kind in {ProblemKind.BAD_CHECKPOINT, ProblemKind.BAD_SIGNATURE}, first

    def test_a_checkpoint_deleted_from_the_middle_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.three_checkpoints(engine, chain, signer)
        with engine.begin() as conn:
            conn.execute(delete(K).where(K.c.id == 2))
        first = first_of(self.check(engine, signer))
        assert (first.kind, first.checkpoint_id) == (ProblemKind.BAD_CHECKPOINT, 2), first

    @pytest.mark.parametrize("attack", ["garbage", "own_key_same_id", "own_key_own_id"])
    def test_a_forged_signature_is_caught(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer, attack: str
    ) -> None:
        self.checkpoint(engine, signer)
        attacker = Ed25519Signer.generate()
        with engine.begin() as conn:
            row = conn.execute(select(K).where(K.c.id == 1)).one()
            key_id = attacker.key_id if attack == "own_key_own_id" else row.key_id
            message = checkpoint_message(
                1,
                stored_at_text(row.at) or "",
                row.root,
                prev_digest=row.prev_digest,
                key_id=key_id,
                head_count=1,
            )
            signature = "ab" * 51 if attack == "garbage" else digest_text(attacker.sign(message))
            conn.execute(update(K).where(K.c.id == 1).values(signature=signature, key_id=key_id))
        first = first_of(self.check(engine, signer))
        assert (first.kind, first.checkpoint_id) == (ProblemKind.BAD_SIGNATURE, 1), first

    def test_a_checkpoint_signed_by_another_key_is_not_trusted(
        self, engine: Engine, chain: ChainWriter, signer: Ed25519Signer
    ) -> None:
        self.checkpoint(engine, signer)
        report = self.check(engine, Ed25519Signer.generate())
        assert first_of(report).kind is ProblemKind.BAD_SIGNATURE


class TestSqliteTamper(AuditTamperContract):
    backend = "sqlite"


@pytest.mark.postgres
class TestPostgresTamper(AuditTamperContract):
    backend = "postgresql"

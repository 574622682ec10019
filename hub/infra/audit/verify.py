"""``renkei audit verify``: recompute every chain, checkpoint and provision seal; name the first bad record.

What is checked, in this order (problems are reported in the same order, so the first is the earliest):

1. every chain in ``audit_chains``, record by record (:mod:`hub.infra.audit.verify_chain`): a changed value,
   a gap, a record beyond the head, a renumbering or a swap;
2. records in chains the hub never created, and subject rows without their record (inserted);
3. every checkpoint: its Ed25519 signature by a trusted key (bad_signature), its heads against its root,
   its link to the checkpoint before and the order of heads (bad_checkpoint), and each sealed head against
   the record now stored at that position (a chain rewritten or cut short behind a checkpoint);
4. every 情報提供等記録 against the digest its access record carries;
5. given anchors (:mod:`hub.infra.audit.anchor`), every anchored checkpoint against the one stored.

Steps 3 and 4 live in :mod:`hub.infra.audit.verify_seals`.

Verification is security-critical code (security.md §4.5): it trusts nothing it reads, converts nothing it
cannot parse, and treats an unparsable value as modified. Memory is bounded by the number of chains and a
batch, not by the number of records. Run it in one transaction that sees one consistent state while writers
go on: :func:`verify_engine` does (REPEATABLE READ on PostgreSQL; on SQLite the transaction holds the write
lock, so writers wait for the verification).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, String, and_, func, select, type_coerce

from hub.infra.audit.anchor import Anchor, check_anchors
from hub.infra.audit.codec import chain_genesis, stored_at_text
from hub.infra.audit.verify_chain import ChainHead, Problem, ProblemKind, walk_chain
from hub.infra.audit.verify_seals import CheckpointCheck, ProvisionCheck
from hub.infra.crypto.signing import Ed25519Verifier
from hub.infra.db.tables.audit import access_record_subjects, access_records, audit_chains

__all__ = ["Problem", "ProblemKind", "VerifyReport", "verify", "verify_engine"]


@dataclass(slots=True)
class VerifyReport:
    """The verifier's findings. ``ok`` only when nothing at all was found."""

    records_checked: int = 0
    chains: int = 0
    checkpoints: int = 0
    provision_records: int = 0
    provision_purged: int = 0
    """情報提供等記録 deleted when their retention ended, each named by a ``purged`` access record."""
    uncovered_records: int = 0
    """Records after the newest checkpoint of their chain: protected by the chain only, not by a signature."""
    anchors: int = 0
    """Anchored checkpoints checked (copies kept outside the database)."""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        """The earliest problem, naming the first bad record where one can be named."""
        return self.problems[0] if self.problems else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "ok": self.ok,
            "records_checked": self.records_checked,
            "chains": self.chains,
            "checkpoints": self.checkpoints,
            "provision_records": self.provision_records,
            "provision_purged": self.provision_purged,
            "uncovered_records": self.uncovered_records,
            "anchors": self.anchors,
            "first_problem": None if self.first_problem is None else self.first_problem.to_json(),
            "problems": [p.to_json() for p in self.problems],
        }


def verify(
    conn: Connection,
    public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    anchors: Sequence[Anchor] = (),
) -> VerifyReport:
    """Verify the whole access record on ``conn``.

    Args:
        conn: a connection; the caller chooses the transaction (see the module docstring).
        public_keys: the checkpoint keys to trust (several while a rotated key's checkpoints remain).
        anchors: checkpoints anchored outside the database, each to be found unchanged.
    """
    report = VerifyReport()
    provisions = ProvisionCheck(conn)
    last_seq: dict[str, int] = {}
    chain_problems: list[Problem] = []
    for head in _chain_heads(conn, chain_problems):
        report.chains += 1
        outcome = walk_chain(conn, head, provisions.sink(head.chain_id))
        report.records_checked += outcome.checked
        last_seq[head.chain_id] = outcome.last_seq
        if outcome.problem is not None:
            chain_problems.append(outcome.problem)
    orphan_problems = _orphans(conn)
    checkpoint_problems, covered, report.checkpoints = CheckpointCheck(
        conn, Ed25519Verifier(public_keys), last_seq
    ).run()
    provision_problems = provisions.finish(clean=not chain_problems and not orphan_problems)
    report.provision_records = provisions.checked
    report.provision_purged = provisions.purged
    report.uncovered_records = sum(max(0, last - covered.get(chain, 0)) for chain, last in last_seq.items())
    report.anchors = len(anchors)
    anchor_problems = check_anchors(conn, anchors)
    report.problems = (
        chain_problems + orphan_problems + checkpoint_problems + provision_problems + anchor_problems
    )
    return report


def verify_engine(
    engine: Engine,
    public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    anchors: Sequence[Anchor] = (),
) -> VerifyReport:
    """:func:`verify` in a transaction of its own, on one consistent snapshot of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return verify(conn, public_keys, anchors)


def _chain_heads(conn: Connection, problems: list[Problem]) -> list[ChainHead]:
    c = audit_chains
    rows = conn.execute(
        select(c.c.chain_id, c.c.writer, type_coerce(c.c.created_at, String), c.c.head_seq, c.c.head_hash)
    )
    heads = []
    for chain_id, writer, created_at, head_seq, head_hash in sorted(rows, key=lambda r: str(r[0])):
        if type(head_seq) is not int or not isinstance(head_hash, str) or not isinstance(writer, str):
            problems.append(
                Problem(ProblemKind.MODIFIED, f"chain {chain_id}: its row is malformed", chain_id)
            )
            continue
        genesis = chain_genesis(str(chain_id), writer, stored_at_text(created_at))
        heads.append(ChainHead(str(chain_id), genesis, head_seq, head_hash))
    return heads


def _orphans(conn: Connection) -> list[Problem]:
    r, s = access_records, access_record_subjects
    problems = []
    stray = conn.execute(
        select(r.c.chain_id, func.min(r.c.seq), func.count())
        .where(r.c.chain_id.not_in(select(audit_chains.c.chain_id)))
        .group_by(r.c.chain_id)
    )
    for chain_id, seq, count in sorted(stray, key=lambda t: str(t[0])):
        problems.append(
            Problem(
                ProblemKind.INSERTED,
                f"chain {chain_id} seq {seq}: {count} record(s) in a chain the hub never created",
                str(chain_id),
                seq,
            )
        )
    loose = conn.execute(
        select(s.c.chain_id, func.min(s.c.seq))
        .select_from(s.outerjoin(r, and_(r.c.chain_id == s.c.chain_id, r.c.seq == s.c.seq)))
        .where(r.c.seq.is_(None))
        .group_by(s.c.chain_id)
    )
    for chain_id, seq in sorted(loose, key=lambda t: str(t[0])):
        problems.append(
            Problem(
                ProblemKind.INSERTED,
                f"chain {chain_id} seq {seq}: subject rows without a record",
                chain_id,
                seq,
            )
        )
    return problems

"""``renkei audit verify``: recompute every chain, checkpoint and provision seal; name the first bad record.

What is checked, in this order (problems are reported in the same order, so the first is the earliest):

1. every chain in ``audit_chains``, record by record (:mod:`hub.infra.audit_verify_chain`): a changed value,
   a gap, a record beyond the head, a renumbering or a swap;
2. records in chains the hub never created, and subject rows without their record (inserted);
3. every checkpoint: its Ed25519 signature by a trusted key (bad_signature), its heads against its root,
   its link to the checkpoint before and the order of heads (bad_checkpoint), and each sealed head against
   the record now stored at that position (a chain rewritten or cut short behind a checkpoint);
4. every 情報提供等記録 against the digest its access record carries.

Verification is security-critical code (security.md §4.5): it trusts nothing it reads, converts nothing it
cannot parse, and treats an unparsable value as modified. Memory is bounded by the number of chains and a
batch, not by the number of records. Run it in one transaction that sees one consistent state while writers
go on: :func:`verify_engine` does (REPEATABLE READ on PostgreSQL; on SQLite the transaction holds the write
lock, so writers wait for the verification).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, String, and_, func, select, tuple_, type_coerce

from hub.infra.audit_codec import (
    GENESIS,
    chain_genesis,
    checkpoint_digest,
    checkpoint_message,
    checkpoint_root,
    parse_heads,
    stored_at_text,
)
from hub.infra.audit_provision import (
    DIGEST_FIELDS,
    PROVISION_DIGEST_KEY,
    PROVISION_ID_KEY,
    provision_digest,
)
from hub.infra.audit_verify_chain import ChainHead, Problem, ProblemKind, walk_chain
from hub.infra.crypto.signing import Ed25519Verifier
from hub.infra.db.audit_tables import (
    access_record_subjects,
    access_records,
    audit_chains,
    audit_checkpoints,
    provision_records,
)

__all__ = ["Problem", "ProblemKind", "VerifyReport", "verify", "verify_engine"]

_BATCH: Final = 500


@dataclass(slots=True)
class VerifyReport:
    """The verifier's findings. ``ok`` only when nothing at all was found."""

    records_checked: int = 0
    chains: int = 0
    checkpoints: int = 0
    provision_records: int = 0
    uncovered_records: int = 0
    """Records after the newest checkpoint of their chain: protected by the chain only, not by a signature."""
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
            "uncovered_records": self.uncovered_records,
            "first_problem": None if self.first_problem is None else self.first_problem.to_json(),
            "problems": [p.to_json() for p in self.problems],
        }


def verify(conn: Connection, public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey]) -> VerifyReport:
    """Verify the whole access record on ``conn``.

    Args:
        conn: a connection; the caller chooses the transaction (see the module docstring).
        public_keys: the checkpoint keys to trust (several while a rotated key's checkpoints remain).
    """
    report = VerifyReport()
    provisions = _ProvisionCheck(conn)
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
    checkpoint_problems, covered = _CheckpointCheck(conn, Ed25519Verifier(public_keys), last_seq).run(report)
    provision_problems = provisions.finish(clean=not chain_problems and not orphan_problems)
    report.provision_records = provisions.checked
    report.uncovered_records = sum(max(0, last - covered.get(chain, 0)) for chain, last in last_seq.items())
    report.problems = chain_problems + orphan_problems + checkpoint_problems + provision_problems
    return report


def verify_engine(engine: Engine, public_keys: Ed25519PublicKey | Sequence[Ed25519PublicKey]) -> VerifyReport:
    """:func:`verify` in a transaction of its own, on one consistent snapshot of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return verify(conn, public_keys)


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


class _CheckpointCheck:
    """Checks checkpoints in id order; looks sealed heads up in batches."""

    def __init__(self, conn: Connection, keys: Ed25519Verifier, last_seq: dict[str, int]) -> None:
        self._conn = conn
        self._keys = keys
        self._last_seq = last_seq
        self._covered: dict[str, tuple[int, str]] = {}
        self._lookups: list[tuple[str, int, str, int, int]] = []
        self._problems: list[Problem] = []
        self._reported: set[str] = set()

    def run(self, report: VerifyReport) -> tuple[list[Problem], dict[str, int]]:
        link: str | None
        c = audit_checkpoints
        columns = (
            c.c.id,
            type_coerce(c.c.at, String).label("at"),
            c.c.heads,
            c.c.root,
            c.c.prev_digest,
            c.c.key_id,
            c.c.signature,
        )
        expected, link = 1, GENESIS
        rows = self._conn.execution_options(yield_per=200).execute(select(*columns).order_by(c.c.id))
        try:
            for row in rows:
                report.checkpoints += 1
                cid = row.id
                if type(cid) is not int:
                    self._bad(
                        ProblemKind.BAD_CHECKPOINT,
                        None,
                        f"checkpoint after {expected - 1}: its id is malformed",
                    )
                    link = None
                    continue
                if cid != expected:
                    self._bad(
                        ProblemKind.BAD_CHECKPOINT,
                        expected,
                        f"checkpoint {expected} is missing (next is {cid})",
                    )
                    link = None
                link = self._one(row, cid, link)
                expected = cid + 1
        finally:
            rows.close()
        self._flush()
        return self._problems, {chain: seq for chain, (seq, _) in self._covered.items()}

    def _bad(
        self,
        kind: ProblemKind,
        cid: int | None,
        message: str,
        chain: str | None = None,
        seq: int | None = None,
    ) -> None:
        self._problems.append(Problem(kind, message, chain, seq, cid))

    def _one(self, row: Any, cid: int, prev_digest: str | None) -> str | None:
        at_text = stored_at_text(row.at)
        heads = parse_heads(row.heads) if isinstance(row.heads, str) else None
        texts = (row.root, row.prev_digest, row.key_id, row.signature)
        if at_text is None or heads is None or not all(isinstance(t, str) for t in texts):
            self._bad(ProblemKind.BAD_CHECKPOINT, cid, f"checkpoint {cid}: malformed (time, heads or fields)")
            return None
        message = checkpoint_message(
            cid, at_text, row.root, prev_digest=row.prev_digest, key_id=row.key_id, head_count=len(heads)
        )
        try:
            signature = bytes.fromhex(row.signature)
        except ValueError:
            signature = b""
        if not self._keys.verify(row.key_id, message, signature):
            why = (
                "signature does not verify"
                if row.key_id in self._keys.key_ids
                else f"signed by untrusted key {row.key_id}"
            )
            self._bad(ProblemKind.BAD_SIGNATURE, cid, f"checkpoint {cid}: {why}")
        elif checkpoint_root(heads) != row.root:
            self._bad(
                ProblemKind.BAD_CHECKPOINT, cid, f"checkpoint {cid}: its heads do not match its signed root"
            )
        elif prev_digest is not None and row.prev_digest != prev_digest:
            self._bad(
                ProblemKind.BAD_CHECKPOINT, cid, f"checkpoint {cid}: does not follow checkpoint {cid - 1}"
            )
        else:
            self._seal(cid, heads)
        return checkpoint_digest(message)

    def _seal(self, cid: int, heads: dict[str, tuple[int, str]]) -> None:
        for chain, (seq, digest) in sorted(heads.items()):
            before = self._covered.get(chain)
            if before is not None and (seq < before[0] or (seq == before[0] and digest != before[1])):
                self._bad(
                    ProblemKind.BAD_CHECKPOINT,
                    cid,
                    f"checkpoint {cid}: chain {chain} goes back to seq {seq}",
                    chain,
                    seq,
                )
                continue
            self._lookups.append((chain, seq, digest, cid, 0 if before is None else before[0]))
            self._covered[chain] = (seq, digest)
        if len(self._lookups) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        lookups, self._lookups = self._lookups, []
        if not lookups:
            return
        r = access_records
        keys = sorted({(chain, seq) for chain, seq, *_ in lookups})
        query = select(r.c.chain_id, r.c.seq, r.c.hash).where(tuple_(r.c.chain_id, r.c.seq).in_(keys))
        stored = {(str(chain), seq): digest for chain, seq, digest in self._conn.execute(query)}
        for chain, seq, digest, cid, before in lookups:
            if chain in self._reported:
                continue
            found = stored.get((chain, seq))
            if found == digest:
                continue
            self._reported.add(chain)
            last = self._last_seq.get(chain)
            if found is None:
                first = (last or 0) + 1
                ends = "no such chain remains" if last is None else f"the chain now ends at seq {last}"
                message = f"missing; checkpoint {cid} sealed the chain up to seq {seq}, {ends}"
                self._bad(ProblemKind.DELETED, cid, f"chain {chain} seq {first}: {message}", chain, first)
            else:
                message = f"records {before + 1}..{seq} were rewritten after checkpoint {cid} sealed them"
                self._bad(
                    ProblemKind.BAD_CHECKPOINT,
                    cid,
                    f"chain {chain} seq {before + 1}: {message}",
                    chain,
                    before + 1,
                )


class _ProvisionCheck:
    """Matches each 情報提供等記録 with the digest sealed in its access record."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pending: list[tuple[str, str, str, int]] = []
        self._problems: list[Problem] = []
        self.checked = 0

    def sink(self, chain_id: str) -> Callable[[int, str | None], None]:
        def note(seq: int, details: str | None) -> None:
            if details is None or PROVISION_DIGEST_KEY not in details:
                return
            try:
                parsed = json.loads(details)
                record_id, digest = str(parsed[PROVISION_ID_KEY]), str(parsed[PROVISION_DIGEST_KEY])
            except (ValueError, KeyError, TypeError):
                return
            self._pending.append((record_id, digest, chain_id, seq))
            if len(self._pending) >= _BATCH:
                self._flush()

        return note

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        p = provision_records
        raw = {
            n: type_coerce(p.c[n], String).label(n)
            for n in ("requested_at", "provided_at", "retention_until")
        }
        columns = [raw.get(n, p.c[n]) for n in DIGEST_FIELDS] + [p.c.access_chain_id, p.c.access_seq]
        found = {
            row["record_id"]: row
            for row in self._conn.execute(
                select(*columns).where(p.c.record_id.in_([x[0] for x in pending]))
            ).mappings()
        }
        for record_id, digest, chain_id, seq in pending:
            self.checked += 1
            row = found.get(record_id)
            where = f"chain {chain_id} seq {seq}: the 情報提供等記録 {record_id} it seals"
            if row is None:
                self._problems.append(Problem(ProblemKind.DELETED, f"{where} is missing", chain_id, seq))
            elif (row["access_chain_id"], row["access_seq"]) != (chain_id, seq) or (
                provision_digest(dict(row)) != digest
            ):
                self._problems.append(Problem(ProblemKind.MODIFIED, f"{where} was changed", chain_id, seq))

    def finish(self, *, clean: bool) -> list[Problem]:
        self._flush()
        total = self._conn.execute(select(func.count()).select_from(provision_records)).scalar_one()
        if clean and total != self.checked:
            self._problems.append(
                Problem(
                    ProblemKind.INSERTED,
                    f"{total - self.checked} 情報提供等記録 row(s) are not sealed by any access record",
                )
            )
        return self._problems

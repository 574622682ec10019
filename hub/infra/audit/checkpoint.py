"""Signed checkpoints of the access record's chain heads (署名付きチェックポイント).

A checkpoint seals the head ``(seq, hash)`` of every chain that grew since it was last sealed, in a Merkle
root signed with Ed25519. Checkpoints are numbered 1, 2, 3, ... and each names the digest of the one before,
so a checkpoint cannot be dropped from the middle unnoticed. Between them, the heads pin every record: a
chain rewritten, reordered or cut short behind a checkpoint no longer matches it.

What a checkpoint cannot do alone: the newest checkpoint, and the records after it, are only as safe as the
signing key and the database. Anchors close that gap (:mod:`hub.infra.audit.anchor`, security.md §4.4):
``renkei audit anchor`` copies each checkpoint's digest somewhere the database administrator cannot write.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Protocol

from sqlalchemy import Connection, Engine, RowMapping, func, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from contracts.errors import AuditWriteFailed, StoreUnavailable
from hub.infra.audit.codec import (
    GENESIS,
    canonical_at,
    checkpoint_digest,
    checkpoint_message,
    checkpoint_root,
    digest_text,
    heads_text,
    parse_heads,
    to_utc,
)
from hub.infra.audit.sql import ChainWriter
from hub.infra.db.tables.audit import audit_chains, audit_checkpoints, audit_coverage

__all__ = [
    "Checkpoint",
    "CheckpointPolicy",
    "CheckpointSigner",
    "Checkpointer",
    "latest_checkpoint",
    "stored_digest",
    "write_checkpoint",
]

log = logging.getLogger(__name__)

# Serialises checkpoint writers on PostgreSQL ("renkei" in ASCII); SQLite transactions are serial already.
_PG_LOCK_KEY: Final = 0x72656E6B6569


class CheckpointSigner(Protocol):
    """What signs checkpoints (:class:`hub.infra.crypto.signing.Ed25519Signer`)."""

    @property
    def key_id(self) -> str:
        """Id of the signing key, stored with each checkpoint."""
        ...

    def sign(self, message: bytes) -> bytes:
        """Sign ``message``."""
        ...


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed checkpoint."""

    id: int
    at: datetime
    heads: Mapping[str, tuple[int, str]]
    root: str
    prev_digest: str
    key_id: str
    signature: str

    @property
    def message(self) -> bytes:
        """The signed bytes."""
        return checkpoint_message(
            self.id,
            canonical_at(self.at),
            self.root,
            prev_digest=self.prev_digest,
            key_id=self.key_id,
            head_count=len(self.heads),
        )

    @property
    def digest(self) -> str:
        """The digest the next checkpoint names as ``prev_digest``."""
        return checkpoint_digest(self.message)


def stored_digest(row: RowMapping) -> str:
    """The digest of a stored checkpoint row, computed from its fields (what the next one names)."""
    heads = parse_heads(row["heads"])
    head_count = -1 if heads is None else len(heads)  # a malformed one is reported by the verifier
    message = checkpoint_message(
        row["id"],
        canonical_at(row["at"]),
        row["root"],
        prev_digest=row["prev_digest"],
        key_id=row["key_id"],
        head_count=head_count,
    )
    return checkpoint_digest(message)


def latest_checkpoint(conn: Connection) -> tuple[int, datetime, str] | None:
    """``(id, at, digest)`` of the newest checkpoint, computed from its stored fields."""
    row = (
        conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return row["id"], to_utc(row["at"]), stored_digest(row)


def write_checkpoint(
    conn: Connection, signer: CheckpointSigner, *, now: datetime | None = None
) -> Checkpoint | None:
    """Seal the heads of every chain that grew since its last checkpoint, in the caller's transaction.

    Returns:
        The new checkpoint, or ``None`` when no chain grew (no empty checkpoints are written).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    grown = conn.execute(
        select(
            audit_chains.c.chain_id, audit_chains.c.head_seq, audit_chains.c.head_hash, audit_coverage.c.seq
        )
        .select_from(
            audit_chains.outerjoin(audit_coverage, audit_coverage.c.chain_id == audit_chains.c.chain_id)
        )
        .where(audit_chains.c.head_seq > func.coalesce(audit_coverage.c.seq, 0))
    ).all()
    if not grown:
        return None
    heads = {str(r.chain_id): (int(r.head_seq), str(r.head_hash)) for r in grown}
    previous = latest_checkpoint(conn)
    checkpoint_id, prev_digest = (1, GENESIS) if previous is None else (previous[0] + 1, previous[2])
    at = to_utc(now or datetime.now(UTC))
    root = checkpoint_root(heads)
    message = checkpoint_message(
        checkpoint_id,
        canonical_at(at),
        root,
        prev_digest=prev_digest,
        key_id=signer.key_id,
        head_count=len(heads),
    )
    checkpoint = Checkpoint(
        id=checkpoint_id,
        at=at,
        heads=heads,
        root=root,
        prev_digest=prev_digest,
        key_id=signer.key_id,
        signature=digest_text(signer.sign(message)),
    )
    conn.execute(
        insert(audit_checkpoints).values(
            id=checkpoint.id,
            at=checkpoint.at,
            heads=heads_text(heads),
            root=root,
            prev_digest=prev_digest,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )
    )
    known = {str(r.chain_id) for r in grown if r.seq is not None}
    for chain_id in sorted(known):
        conn.execute(
            update(audit_coverage)
            .where(audit_coverage.c.chain_id == chain_id)
            .values(seq=heads[chain_id][0], checkpoint_id=checkpoint_id)
        )
    new = [
        {"chain_id": c, "seq": heads[c][0], "checkpoint_id": checkpoint_id} for c in heads if c not in known
    ]
    if new:
        conn.execute(insert(audit_coverage), new)
    return checkpoint


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When :meth:`Checkpointer.maybe_checkpoint` writes: after N records or T seconds with new records."""

    every_records: int = 1_000
    every_seconds: float = 60.0


class Checkpointer:
    """Writes checkpoints on a schedule; the hub runtime calls :meth:`maybe_checkpoint` after commits.

    Cheap when nothing is due (no database access): it counts the records appended through ``chains``.
    Without ``chains`` it checks the database every ``every_seconds``. Thread-safe; a call that finds
    another thread writing returns at once.

    Args:
        engine: where the access record lives.
        signer: the checkpoint signing key.
        chains: this process's chain writers, whose appends count towards ``every_records``.
        policy: the thresholds.
        clock: a monotonic clock in seconds.
    """

    def __init__(
        self,
        engine: Engine,
        signer: CheckpointSigner,
        chains: Sequence[ChainWriter] = (),
        *,
        policy: CheckpointPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._chains = tuple(chains)
        self._policy = policy or CheckpointPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._seen = 0
        self._last = clock()
        self._retry_after = 0.0

    def due(self) -> bool:
        """Tell whether :meth:`maybe_checkpoint` would write now."""
        now = self._clock()
        if now < self._retry_after:
            return False
        pending = sum(c.appended for c in self._chains) - self._seen
        if pending >= self._policy.every_records:
            return True
        return now - self._last >= self._policy.every_seconds and (pending > 0 or not self._chains)

    def maybe_checkpoint(self) -> Checkpoint | None:
        """Write a checkpoint if one is due; a failure is logged and retried after ``every_seconds``."""
        if not self._lock.acquire(blocking=False):
            return None
        try:
            if not self.due():
                return None
            appended = sum(c.appended for c in self._chains)
            try:
                checkpoint = self.checkpoint_now()
            except AuditWriteFailed:
                log.warning("audit checkpoint not written; will retry", exc_info=True)
                self._retry_after = self._clock() + self._policy.every_seconds
                return None
            self._seen, self._last = appended, self._clock()
            return checkpoint
        finally:
            self._lock.release()

    def checkpoint_now(self) -> Checkpoint | None:
        """Write a checkpoint now, in its own transaction (``None`` when no chain grew).

        Raises:
            AuditWriteFailed: the database failed.
        """
        try:
            with self._engine.begin() as conn:
                return write_checkpoint(conn, self._signer)
        except (SQLAlchemyError, StoreUnavailable) as exc:
            raise AuditWriteFailed("the audit checkpoint could not be written") from exc

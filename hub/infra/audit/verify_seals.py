"""The verifier's checks of what seals the chains: signed checkpoints and 情報提供等記録 digests.

:class:`CheckpointCheck` walks checkpoints in id order: signature by a trusted key (bad_signature), heads
against the signed root, the link to the checkpoint before and the order of heads (bad_checkpoint), and each
sealed head against the record now stored at that position (looked up in batches), which catches a chain
rewritten or cut short behind a checkpoint. :class:`ProvisionCheck` matches each 情報提供等記録 with the
digest its access record carries. Memory is bounded by the number of chains and a batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from sqlalchemy import Connection, String, func, select, tuple_, type_coerce

from hub.infra.audit.codec import (
    GENESIS,
    checkpoint_digest,
    checkpoint_message,
    checkpoint_root,
    digest_bytes,
    parse_heads,
    stored_at_text,
)
from hub.infra.audit.provision import (
    DIGEST_FIELDS,
    PROVISION_DIGEST_KEY,
    PROVISION_ID_KEY,
    PROVISION_PURGED_KEY,
    provision_digest,
)
from hub.infra.audit.verify_chain import Problem, ProblemKind
from hub.infra.crypto.signing import Ed25519Verifier
from hub.infra.db.tables.audit import access_records, audit_checkpoints, provision_records

__all__ = ["CheckpointCheck", "ProvisionCheck"]

_BATCH: Final = 500


class CheckpointCheck:
    """Checks checkpoints in id order; looks sealed heads up in batches."""

    def __init__(self, conn: Connection, keys: Ed25519Verifier, last_seq: dict[str, int]) -> None:
        self._conn = conn
        self._keys = keys
        self._last_seq = last_seq
        self._covered: dict[str, tuple[int, str]] = {}
        self._lookups: list[tuple[str, int, str, int, int]] = []
        self._problems: list[Problem] = []
        self._reported: set[str] = set()

    def run(self) -> tuple[list[Problem], dict[str, int], int]:
        """Check every checkpoint; returns the problems, each chain's sealed seq and the number checked."""
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
        expected, link, checked = 1, GENESIS, 0
        rows = self._conn.execution_options(yield_per=200).execute(select(*columns).order_by(c.c.id))
        try:
            for row in rows:
                checked += 1
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
        return self._problems, {chain: seq for chain, (seq, _) in self._covered.items()}, checked

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
            signature = digest_bytes(row.signature)
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


class ProvisionCheck:
    """Matches each 情報提供等記録 with the digest sealed in its access record.

    A row that is missing is a deletion, unless a ``purged`` access record of the retention job names it
    with the same digest (:func:`hub.infra.audit.provision.purge_expired`): then its retention ended.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._pending: list[tuple[str, str, str, int]] = []
        self._missing: list[tuple[str, str, str, int]] = []
        self._purged: dict[str, str] = {}
        self._problems: list[Problem] = []
        self.checked = 0
        self.purged = 0

    def sink(self, chain_id: str) -> Callable[[int, str | None], None]:
        """A callback for the chain walk: notes each verified record of ``chain_id`` that seals a row."""

        def note(seq: int, details: str | None) -> None:
            if details is None:
                return
            if PROVISION_PURGED_KEY in details:
                self._note_purged(details)
            if PROVISION_DIGEST_KEY not in details:
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

    def _note_purged(self, details: str) -> None:
        try:
            listed = json.loads(json.loads(details)[PROVISION_PURGED_KEY])
            self._purged.update({str(record_id): str(digest) for record_id, digest in listed})
        except (ValueError, KeyError, TypeError):
            return  # a malformed list names nothing: its rows count as deleted

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
            row = found.get(record_id)
            where = f"chain {chain_id} seq {seq}: the 情報提供等記録 {record_id} it seals"
            if row is None:
                self._missing.append((record_id, digest, chain_id, seq))
                continue
            self.checked += 1
            if (row["access_chain_id"], row["access_seq"]) != (chain_id, seq) or (
                provision_digest(dict(row)) != digest
            ):
                self._problems.append(Problem(ProblemKind.MODIFIED, f"{where} was changed", chain_id, seq))

    def finish(self, *, clean: bool) -> list[Problem]:
        """Check what is pending; with ``clean`` chains, also that no row is left unsealed."""
        self._flush()
        for record_id, digest, chain_id, seq in self._missing:
            if self._purged.get(record_id) == digest:
                self.purged += 1
                continue
            where = f"chain {chain_id} seq {seq}: the 情報提供等記録 {record_id} it seals"
            self._problems.append(Problem(ProblemKind.DELETED, f"{where} is missing", chain_id, seq))
        total = self._conn.execute(select(func.count()).select_from(provision_records)).scalar_one()
        if clean and total != self.checked:
            self._problems.append(
                Problem(
                    ProblemKind.INSERTED,
                    f"{total - self.checked} 情報提供等記録 row(s) are not sealed by any access record",
                )
            )
        return self._problems

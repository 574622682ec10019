"""The vault on SQLAlchemy Core: subjects, encrypted numbers, usage numbers and tokens, in batches.

:class:`SqlVault` works on the unit of work's connection and never commits. Every batch method reads and
writes in chunks of at most ``chunk_size`` records, each chunk one ``IN (...)`` select or one executemany
statement, so the number of round trips grows with the number of chunks, never with the number of records.

Numbers are decrypted in memory only, by the methods that return them; the database sees ciphertext under
each subject's own data key, the data key wrapped by the keyring's KEK, and a keyed blind index.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Connection, select, update

from contracts.individual_number import IndividualNumber
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.blind_index import BlindIndexer
from hub.infra.crypto.envelope import KeyWrapper
from hub.infra.crypto.tokens import Tokenizer, check_scope
from hub.infra.db.bulk import insert_rows
from hub.infra.db.tables.vault import number_grounds, numbers, tokens, usage_numbers
from hub.infra.keys.bundles import VaultKeys
from hub.infra.vault.plan import plan_enrol, plan_links, plan_usage_numbers, primary_rank
from hub.infra.vault.store import (
    DEFAULT_CHUNK,
    VaultStore,
    among,
    aware,
    by_kind,
    chunked,
    translated_integrity,
)
from hub.ports.vault import (
    Ground,
    NumberRecord,
    Retention,
    SubjectId,
    TokenScope,
    UsageRecord,
)

__all__ = ["SqlVault"]


class SqlVault:
    """The :class:`~hub.ports.vault.Vault` on one SQLAlchemy connection (inside the unit of work).

    Args:
        conn: the unit of work's connection; the vault never commits or rolls back.
        keys: the vault's keys (KEK, blind-index key, token root).
        chunk_size: records per statement.
        clock: the time source (tests).
    """

    def __init__(
        self,
        conn: Connection,
        keys: VaultKeys,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._conn = conn
        self._tokenizer = Tokenizer(keys.token_root)
        self._chunk = chunk_size
        self._store = VaultStore(
            conn,
            KeyWrapper(keys.kek),
            BlindIndexer(keys.blind_index),
            chunk_size=chunk_size,
            clock=clock,
        )

    # --- subjects and usage numbers ------------------------------------------------------------------------

    def subjects_by_usage(self, usage: Sequence[UsageNumber]) -> dict[UsageNumber, SubjectId]:
        """Subjects of the given usage numbers in force; unknown ones are absent from the result."""
        return self._store.subjects_by_usage(usage)

    def usage_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, UsageNumber]:
        """The primary usage number in force of each subject.

        Primary: the pension certificate number if there is one, else the basic pension number, else the
        dependant key; among several of one kind, the earliest linked (:func:`primary_rank`).
        """
        best: dict[SubjectId, tuple[tuple[int, int], UsageNumber]] = {}
        for chunk in chunked(list(set(subjects)), self._chunk):
            rows = self._store.execute(
                select(
                    usage_numbers.c.id,
                    usage_numbers.c.subject_id,
                    usage_numbers.c.kind,
                    usage_numbers.c.value,
                ).where(
                    usage_numbers.c.valid_to.is_(None), among(self._conn, usage_numbers.c.subject_id, chunk)
                )
            )
            for row_id, subject, kind, value in rows:
                rank = (primary_rank(kind), row_id)
                sid = SubjectId(subject)
                if sid not in best or rank < best[sid][0]:
                    best[sid] = (rank, UsageNumber(kind=UsageNumberKind(kind), value=value))
        return {s: u for s, (_, u) in best.items()}

    def usage_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[UsageRecord]]:
        """Every usage number each subject has had, oldest first."""
        history: dict[SubjectId, list[UsageRecord]] = {}
        for chunk in chunked(list(set(subjects)), self._chunk):
            rows = self._store.execute(
                select(usage_numbers)
                .where(among(self._conn, usage_numbers.c.subject_id, chunk))
                .order_by(usage_numbers.c.valid_from, usage_numbers.c.id)
            )
            for row in rows:
                history.setdefault(SubjectId(row.subject_id), []).append(
                    UsageRecord(
                        usage=UsageNumber(kind=UsageNumberKind(row.kind), value=row.value),
                        valid_from=aware(row.valid_from),
                        valid_to=aware(row.valid_to) if row.valid_to else None,
                    )
                )
        return history

    def add_usage_numbers(self, links: Sequence[tuple[SubjectId, UsageNumber]]) -> None:
        """Give subjects further usage numbers; see :meth:`hub.ports.vault.Vault.add_usage_numbers`."""
        self._store.require_live(list({s for s, _ in links}))
        added = plan_usage_numbers(links, by_usage=self.subjects_by_usage)
        self._store.insert_usage(added, self._store.now())

    def retire_usage_numbers(self, usage: Sequence[UsageNumber]) -> None:
        """End usage numbers in force (they stay in the history); unknown ones are ignored."""
        now = self._store.now()
        for chunk in chunked(list(set(usage)), self._chunk):
            for kind, values in by_kind(chunk).items():
                self._store.execute(
                    update(usage_numbers)
                    .where(
                        usage_numbers.c.valid_to.is_(None),
                        usage_numbers.c.kind == kind,
                        among(self._conn, usage_numbers.c.value, values),
                    )
                    .values(valid_to=now)
                )

    # --- grounds: why each number is held -----------------------------------------------------------------

    def add_grounds(self, links: Sequence[tuple[SubjectId, Ground]], *, source: str) -> None:
        """Record grounds (role, held under) of subjects; those already recorded are kept as they are."""
        wanted = list(dict.fromkeys(links))
        if not wanted:
            return
        self._store.require_live(list({s for s, _ in wanted}))
        known = self.grounds_of(list({s for s, _ in wanted}))
        fresh = [(s, g) for s, g in wanted if g not in known.get(s, frozenset())]
        if not fresh:
            return
        now = self._store.now()
        insert_rows(
            self._conn,
            number_grounds,
            [
                {
                    "subject_id": s,
                    "role": g.role,
                    "held_under": g.held_under,
                    "source": source[:80],
                    "recorded_at": now,
                }
                for s, g in fresh
            ],
            ignore_duplicates=True,  # another transaction may record the same ground meanwhile
        )

    def grounds_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, frozenset[Ground]]:
        """The grounds recorded for each subject; subjects without any are absent."""
        found: dict[SubjectId, set[Ground]] = {}
        for chunk in chunked(list(set(subjects)), self._chunk):
            rows = self._store.execute(
                select(number_grounds.c.subject_id, number_grounds.c.role, number_grounds.c.held_under).where(
                    among(self._conn, number_grounds.c.subject_id, chunk)
                )
            )
            for subject, role, held in rows:
                found.setdefault(SubjectId(subject), set()).add(Ground(role, held))
        return {s: frozenset(g) for s, g in found.items()}

    # --- numbers -------------------------------------------------------------------------------------------

    def enrol(
        self,
        links: Sequence[tuple[UsageNumber, IndividualNumber | None]],
        *,
        retention: Retention,
        source: str,
    ) -> dict[UsageNumber, SubjectId]:
        """Create (or find) a subject per usage number and link its number; see the port."""
        plan = plan_enrol(
            links,
            retention,
            by_usage=self.subjects_by_usage,
            holders=self._store.holders,
            current=self._store.current_rows,
        )
        now = self._store.now()
        with translated_integrity():
            keys = self._store.create_subjects(plan.new_subjects, now)
            self._store.insert_usage(plan.usage_inserts, now)
            self._store.insert_numbers(plan.number_inserts, keys, retention, source, now)
            self._store.update_retention(plan.retention_updates)
        return plan.result

    def link_number(
        self, subject: SubjectId, number: IndividualNumber, *, retention: Retention, source: str
    ) -> None:
        """Link ``number`` to ``subject``; a different current number moves to history (番号法 7条2項)."""
        self.link_numbers([(subject, number)], retention=retention, source=source)

    def link_numbers(
        self, links: Sequence[tuple[SubjectId, IndividualNumber]], *, retention: Retention, source: str
    ) -> None:
        """Batch form of :meth:`link_number`; see the port."""
        self._store.require_live(list({s for s, _ in links}))
        plan = plan_links(links, retention, holders=self._store.holders, current=self._store.current_rows)
        now = self._store.now()
        with translated_integrity():
            self._store.to_history(plan.to_history, now)
            self._store.insert_numbers(plan.number_inserts, {}, retention, source, now)
            self._store.update_retention(plan.retention_updates)

    def numbers_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, IndividualNumber]:
        """Current numbers of the subjects that have one (decrypted in memory only)."""
        return self._store.current_numbers(subjects)

    def number_history(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, list[NumberRecord]]:
        """Every number each subject has had and the vault still holds, oldest first."""
        return self._store.number_rows(subjects, current_only=False)

    def subjects_by_number(self, numbers_: Sequence[IndividualNumber]) -> dict[IndividualNumber, SubjectId]:
        """Subjects by number through the blind index; a number matches current and earlier numbers."""
        return {n: h.subject for n, h in self._store.holders(numbers_).items()}

    def set_retention(self, subjects: Sequence[SubjectId], retention: Retention) -> None:
        """Replace the retention of the subjects' current numbers."""
        for chunk in chunked(list(set(subjects)), self._chunk):
            self._store.execute(
                update(numbers)
                .where(numbers.c.is_current, among(self._conn, numbers.c.subject_id, chunk))
                .values(retention_basis=retention.basis, purge_after=retention.purge_after)
            )

    # --- tokens --------------------------------------------------------------------------------------------

    def tokens(self, scope: TokenScope, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """Tokens of the subjects in ``scope``; unknown and erased subjects are absent.

        The token is computed (HMAC), and recorded on first use so that :meth:`subjects_of_tokens` can
        reverse it.
        """
        check_scope(scope)
        version = self._tokenizer.current_version
        result: dict[SubjectId, str] = {}
        now = self._store.now()
        for chunk in chunked(list(set(subjects)), self._chunk):
            live = self._live(chunk)
            if not live:
                continue
            recorded = set(
                self._store.execute(
                    select(tokens.c.subject_id).where(
                        tokens.c.scope == scope,
                        tokens.c.key_version == version,
                        among(self._conn, tokens.c.subject_id, live),
                    )
                ).scalars()
            )
            fresh = []
            for subject, token in zip(live, self._tokenizer.tokens(scope, live, version), strict=True):
                result[subject] = token
                if subject not in recorded:
                    fresh.append(
                        {
                            "scope": scope,
                            "token": token,
                            "subject_id": subject,
                            "key_version": version,
                            "created_at": now,
                        }
                    )
            if fresh:
                # Two transactions may tokenise the same subject at once: the second insert is a no-op.
                insert_rows(self._conn, tokens, fresh, ignore_duplicates=True)
        return result

    def _live(self, chunk: Sequence[SubjectId]) -> list[SubjectId]:
        """The subjects of ``chunk`` that exist and were not erased (read by :meth:`tokens`)."""
        return self._store.live(chunk)

    def subjects_of_tokens(self, scope: TokenScope, tokens_: Sequence[str]) -> Mapping[str, SubjectId]:
        """Reverse of :meth:`tokens`; unknown tokens, and tokens of another scope, are absent."""
        check_scope(scope)
        candidates = list({t for t in tokens_ if self._tokenizer.belongs_to(scope, t)})
        found: dict[str, SubjectId] = {}
        for chunk in chunked(candidates, self._chunk):
            rows = self._store.execute(
                select(tokens.c.token, tokens.c.subject_id).where(
                    tokens.c.scope == scope, among(self._conn, tokens.c.token, chunk)
                )
            )
            found.update((token, SubjectId(subject)) for token, subject in rows)
        return found

"""Steps 2 and 3 of a key rotation: re-wrapping what rests under old versions, proving a version unused.

**Re-wrap** (``renkei keys rewrap``) moves everything renkei keeps at rest onto the newest versions, each
chunk in its own transaction, so that a crash loses nothing and running it again carries on where it
stopped (what is done no longer matches):

* subjects' data keys wrapped by an older KEK are unwrapped and wrapped again by the newest (no number is
  decrypted);
* the federation's codes (符号) encrypted under a key derived from an older KEK are encrypted again;
* pending holds' candidates sealed for the hub under an older key pair (or in format v1) are opened and
  sealed again under the hub's current public key.

**Usage** (``renkei keys retire``) counts what still needs a version: data keys and codes under a KEK;
sealed values (pending outbox rows, unresolved dead letters, pending holds) under a sealing key or a v1 key;
link messages of unresolved dead letters under a link key; and messages waiting in the queues where such
values travel. A version is destroyed only when every count is zero.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, Engine, bindparam, func, select, update

from contracts.sealing import Sealer, Unsealer
from hub.core.operator.holds import candidate_field, hold_seal_id
from hub.infra.broker.topology import Names
from hub.infra.crypto.code_cipher import CodeCipher
from hub.infra.db.tables.codes import is_codes
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.db.tables.holds import number_holds
from hub.infra.db.tables.messaging import outbox
from hub.infra.db.tables.vault import subject_keys
from hub.infra.keys.bundles import VaultKeys
from hub.infra.keys.keyring import KeyKind, KeyName
from hub.infra.vault.lifecycle import rewrap_chunk
from hub.infra.vault.store import plan_each_statement

__all__ = [
    "REWRAP_STAGES",
    "KeyUsage",
    "Progress",
    "RewrapReport",
    "queues_carrying",
    "rewrap",
    "rewrap_backlog",
    "usage_in_store",
]

Progress = Callable[[str, int, int], None]
"""Called with (stage, done, total) as a long job moves on."""

REWRAP_STAGES: Final = ("data_keys", "codes", "holds")
_CHUNK: Final = 500
_OPEN_DEAD_LETTERS: Final = ("pending", "replaying")


@dataclass
class RewrapReport:
    """What a re-wrap moved onto the newest versions, by stage."""

    data_keys: int = 0
    codes: int = 0
    holds: int = 0
    kek_id: str = ""
    hub_key_id: str | None = None

    def as_json(self) -> dict[str, object]:
        """The summary printed by ``--json``."""
        return {
            "data_keys": self.data_keys,
            "codes": self.codes,
            "holds": self.holds,
            "current_kek_id": self.kek_id,
            "current_hub_key_id": self.hub_key_id,
        }


def _sealed_marker(recipient: str, key_id: str | None) -> str:
    return f"sealed:v2:{recipient}:{key_id}:" if key_id else f"sealed:v1:{recipient}:"


def _pending_holds(conn: Connection, after: str, limit: int) -> list[Any]:
    return list(
        conn.execute(
            select(number_holds.c.hold_id, number_holds.c.candidates)
            .where(number_holds.c.status == "pending", number_holds.c.hold_id > after)
            .order_by(number_holds.c.hold_id)
            .limit(limit)
        )
    )


def _has_other_key(candidates: str, current_marker: str) -> bool:
    # A sealed value for the hub whose marker is not the current one's.
    start = 0
    while (at := candidates.find("sealed:v", start)) >= 0:
        if not candidates.startswith(current_marker, at):
            return True
        start = at + 1
    return False


def rewrap_backlog(engine: Engine, vault: VaultKeys, hub_key_id: str | None) -> dict[str, int]:
    """How much each re-wrap stage has still to do (for progress bars and ``--dry-run``)."""
    kek = vault.kek.series().current.key_id
    marker = _sealed_marker("hub", hub_key_id) if hub_key_id else None
    with engine.connect() as conn:
        keys = conn.execute(select(func.count()).where(subject_keys.c.kek_id != kek)).scalar_one()
        codes = conn.execute(
            select(func.count()).where(is_codes.c.code_ciphertext.is_not(None), is_codes.c.key_id != kek)
        ).scalar_one()
        holds = 0
        if marker is not None:
            after = ""
            while rows := _pending_holds(conn, after, _CHUNK):
                holds += sum(1 for r in rows if _has_other_key(r.candidates, marker))
                after = rows[-1].hold_id
    return {"data_keys": int(keys), "codes": int(codes), "holds": holds}


def rewrap(
    engine: Engine,
    vault: VaultKeys,
    *,
    sealer: Sealer | None = None,
    unsealer: Unsealer | None = None,
    hub_key_id: str | None = None,
    chunk_size: int = _CHUNK,
    progress: Progress | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RewrapReport:
    """Move data keys, codes and held candidates onto the newest versions, one chunk per transaction.

    Held candidates are re-sealed only given ``sealer``, ``unsealer`` and ``hub_key_id`` (the hub's current
    key). Resumable: what is done no longer matches, so a second run carries on where a crash stopped one.

    Raises:
        ConfigurationError: something is under a KEK the keyring does not hold.
        SealError: a held candidate does not open with the hub's keys.
    """
    now = (clock or (lambda: datetime.now(UTC)))()
    backlog = rewrap_backlog(engine, vault, hub_key_id)
    tick = progress or (lambda stage, done, total: None)
    report = RewrapReport(kek_id=vault.kek.series().current.key_id, hub_key_id=hub_key_id)
    report.data_keys = _rewrap_data_keys(
        engine, vault, chunk_size, now, lambda d: tick("data_keys", d, backlog["data_keys"])
    )
    report.codes = _rewrap_codes(engine, vault, chunk_size, lambda d: tick("codes", d, backlog["codes"]))
    if sealer is not None and unsealer is not None and hub_key_id is not None:
        report.holds = _reseal_holds(
            engine,
            sealer,
            unsealer,
            _sealed_marker("hub", hub_key_id),
            chunk_size,
            lambda d: tick("holds", d, backlog["holds"]),
        )
    return report


def _rewrap_data_keys(
    engine: Engine, vault: VaultKeys, chunk_size: int, now: datetime, tick: Callable[[int], None]
) -> int:
    done, last = 0, ""
    tick(0)
    while True:
        with engine.begin() as conn:
            plan_each_statement(conn)
            count, last = rewrap_chunk(conn, vault, after=last, limit=chunk_size, now=now)
        if not count:
            return done
        done += count
        tick(done)


def _rewrap_codes(engine: Engine, vault: VaultKeys, chunk_size: int, tick: Callable[[int], None]) -> int:
    statement = (
        update(is_codes)
        .where(is_codes.c.subject_id == bindparam("b_subject"))
        .values(key_id=bindparam("b_key"), code_ciphertext=bindparam("b_blob"))
    )
    done, last = 0, ""
    tick(0)
    while True:
        with engine.begin() as conn:
            cipher = CodeCipher(vault.kek)
            current = cipher.current_key_id
            rows = conn.execute(
                select(is_codes)
                .where(
                    is_codes.c.code_ciphertext.is_not(None),
                    is_codes.c.key_id != current,
                    is_codes.c.subject_id > last,
                )
                .order_by(is_codes.c.subject_id)
                .limit(chunk_size)
            ).all()
            if not rows:
                return done
            params = []
            for row in rows:
                atena = int(row.atena_no)
                code = cipher.decrypt(row.subject_id, atena, row.key_id, bytes(row.code_ciphertext))
                key_id, blob = cipher.encrypt(row.subject_id, atena, code)
                params.append({"b_subject": row.subject_id, "b_key": key_id, "b_blob": blob})
            conn.execute(statement, params)
        done += len(rows)
        last = rows[-1].subject_id
        tick(done)


def _reseal_holds(  # noqa: PLR0917 - private, called once
    engine: Engine,
    sealer: Sealer,
    unsealer: Unsealer,
    current: str,
    chunk_size: int,
    tick: Callable[[int], None],
) -> int:
    statement = (
        update(number_holds)
        .where(number_holds.c.hold_id == bindparam("b_hold"), number_holds.c.status == "pending")
        .values(candidates=bindparam("b_candidates"))
    )
    done, last = 0, ""
    tick(0)
    while True:
        with engine.begin() as conn:
            rows = _pending_holds(conn, last, chunk_size)
            if not rows:
                return done
            params = []
            for row in rows:
                if not _has_other_key(row.candidates, current):
                    continue
                seal_id = hold_seal_id(row.hold_id)
                candidates = json.loads(row.candidates)
                for c in candidates:
                    sealed = c.get("sealed")
                    if sealed and not sealed.startswith(current):
                        field_ = candidate_field(int(c["no"]))
                        number = unsealer.unseal(sealed, message_id=seal_id, field=field_)
                        c["sealed"] = sealer.seal(number, recipient="hub", message_id=seal_id, field=field_)
                params.append(
                    {"b_hold": row.hold_id, "b_candidates": json.dumps(candidates, ensure_ascii=False)}
                )
            if params:
                conn.execute(statement, params)
        done += len(params)
        last = rows[-1].hold_id
        tick(done)


# --- usage --------------------------------------------------------------------------------------------


@dataclass
class KeyUsage:
    """What still needs one version of one key: counts by place (every count must be zero to retire it)."""

    name: str
    key_id: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Everything that still needs the version."""
        return sum(self.counts.values())

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {"key": self.name, "id": self.key_id, "in_use": self.total, "counts": dict(self.counts)}


def _bodies(
    conn: Connection, table: Any, column: Any, where: Sequence[Any], chunk: int = _CHUNK
) -> Iterator[bytes]:
    last: Any = None
    key = table.c.id if "id" in table.c else table.c.hold_id
    while True:
        query = select(key, column).where(*where).order_by(key).limit(chunk)
        if last is not None:
            query = query.where(key > last)
        rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            value = row[1]
            yield value.encode("utf-8") if isinstance(value, str) else bytes(value)
        last = rows[-1][0]


def _count(
    conn: Connection, table: Any, column: Any, where: Sequence[Any], needle: Callable[[bytes], bool]
) -> int:
    return sum(1 for body in _bodies(conn, table, column, where) if needle(body))


def usage_in_store(conn: Connection, name: KeyName, key_id: str) -> KeyUsage:
    """What in the database still needs version ``key_id`` of key ``name``."""
    usage = KeyUsage(str(name), key_id)
    counts = usage.counts
    if name.kind is KeyKind.KEK:
        counts["data keys wrapped by it"] = int(
            conn.execute(select(func.count()).where(subject_keys.c.kek_id == key_id)).scalar_one()
        )
        counts["codes encrypted under it"] = int(
            conn.execute(
                select(func.count()).where(
                    is_codes.c.key_id == key_id, is_codes.c.code_ciphertext.is_not(None)
                )
            ).scalar_one()
        )
        return usage
    open_letters = [dead_letters.c.status.in_(_OPEN_DEAD_LETTERS)]
    if name.kind in (KeyKind.SEAL_PRIVATE, KeyKind.SEAL_V1):
        marker = (
            _sealed_marker(name.owner, key_id)
            if name.kind is KeyKind.SEAL_PRIVATE
            else f"sealed:v1:{name.owner}:{key_id}:"
        ).encode()
        counts["outbox rows not yet sent"] = _count(
            conn, outbox, outbox.c.body, [outbox.c.sent_at.is_(None)], lambda b: marker in b
        )
        counts["dead letters not replayed or discarded"] = _count(
            conn, dead_letters, dead_letters.c.body, open_letters, lambda b: marker in b
        )
        if name.owner == "hub":
            counts["pending holds"] = _count(
                conn,
                number_holds,
                number_holds.c.candidates,
                [number_holds.c.status == "pending"],
                lambda b: marker in b,
            )
        return usage
    if name.kind is KeyKind.LINK:
        exact = f'"key_id": "{key_id}"'.encode()
        legacy = f'"counterpart": "{name.owner}"'.encode()

        def on_line(body: bytes) -> bool:
            # A link message names its key; one written before link keys had versions names none and may be
            # under any version of its counterpart's key.
            return exact in body or (legacy in body and b'"key_id"' not in body and b'"content"' in body)

        counts["dead letters not replayed or discarded"] = _count(
            conn, dead_letters, dead_letters.c.body, open_letters, on_line
        )
    return usage


def queues_carrying(names: Names, name: KeyName, delays_ms: Sequence[int]) -> list[str]:
    """The queues where values under key ``name`` travel (work queue, retry tiers, dead-letter queue)."""
    retry = [names.retry_queue(d) for d in sorted(set(delays_ms))]
    if name.kind is KeyKind.LINK:
        work = [
            names.counterpart_queue(name.owner, "inbound"),
            names.counterpart_queue(name.owner, "outbound"),
        ]
    elif name.kind in (KeyKind.SEAL_PRIVATE, KeyKind.SEAL_V1):
        work = [names.ingress_queue] if name.owner == "hub" else [names.adapter_queue(name.owner)]
    else:
        return []
    return [*work, *retry, names.dead_letter_queue]

"""Migration ``0011_erasure_notice``: a dead letter's erasure note becomes a notice code and its values.

On SQLite and PostgreSQL: a database at ``0010`` with the notes retention wrote (every variant), a note it did
not write and a row without a note is upgraded; each note retention wrote is now its code and values and
reads back, through the store, as the same English sentence; the other note is kept as it was. Downgrading
writes every sentence back byte for byte and drops the columns; upgrading again converts again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, column, inspect, select, table, text

from hub.core.operator.notices import NoticeCode, notice_of
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import alembic_config, current_revision, head_revision, upgrade
from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.stores.dead_letters import SqlDeadLetterStore
from tests import vault_fixtures as fx
from tests._databases import own_database

pg_url = fx.pg_url

BEFORE = "0010_purpose_and_actors"
AT = datetime(2031, 3, 1, 4, 0, tzinfo=UTC)

NOTES: dict[str, tuple[str | None, NoticeCode | None, dict[str, object] | None]] = {
    # note as stored before the revision -> the code and values it becomes (None: kept as text)
    "archived": (
        "retention 2031-03-01: 2 sealed value(s) destroyed, 30 days after replay or discard",
        NoticeCode.ERASURE_ARCHIVED,
        {"date": "2031-03-01", "sealed": 2, "days": 30},
    ),
    "person": (
        "retention 2031-03-02: 1 sealed value(s) destroyed",
        NoticeCode.ERASURE_PERSON,
        {"date": "2031-03-02", "sealed": 1},
    ),
    "records": (
        "retention 2031-03-02: 0 sealed value(s) destroyed, 3 record(s) of an erased person emptied",
        NoticeCode.ERASURE_PERSON_RECORDS,
        {"date": "2031-03-02", "sealed": 0, "records": 3},
    ),
    "body": (
        "retention 2031-03-02: 1 sealed value(s) destroyed, the body destroyed",
        NoticeCode.ERASURE_PERSON_BODY,
        {"date": "2031-03-02", "sealed": 1},
    ),
    "records_body": (
        "retention 2031-03-02: 4 sealed value(s) destroyed, 2 record(s) of an erased person emptied, "
        "the body destroyed",
        NoticeCode.ERASURE_PERSON_RECORDS_BODY,
        {"date": "2031-03-02", "sealed": 4, "records": 2},
    ),
    "unknown": ("retention: 1 sealed value(s) destroyed", None, None),  # not a sentence retention wrote
    "near_miss": ("retention 2031-03-02: 1 sealed value(s) destroyed, and more", None, None),
    "none": (None, None, None),
}


def _insert(conn: Connection, name: str, note: str | None) -> int:
    row = {
        "death_key": uuid.uuid4().hex,
        "message_key": name,
        "message_id": name,
        "message_type": "t.v1",
        "source_queue": "q",
        "stage": "handle",
        "origin": "hub",
        "reason_code": "validation_failed",
        "reason_text": "no",
        "exception_type": "ValidationFailed",
        "attempts": 1,
        "occurrences": 1,
        "first_failed_at": AT,
        "last_failed_at": AT,
        "received_at": AT,
        "fingerprint": "f" * 32,
        "group_label": "g",
        "headers": "{}",
        "body": b"{}",
        "body_redacted": True,
        "status": "replayed",
        "replay_count": 1,
        "erased_at": None if note is None else AT,
        "erasure_note": note,
    }
    # The table of this revision, by name: the code's table has columns the database does not have yet.
    old = table("dead_letters", *(column(k) for k in ("id", *row)))
    return int(conn.execute(old.insert().values(**row).returning(old.c.id)).scalar_one())


def _downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("dead_letters")}


def _notes(engine: Engine) -> dict[int, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, erasure_note FROM dead_letters")).all())


def _check_the_round_trip(engine: Engine) -> None:
    upgrade(engine, BEFORE)
    assert "erasure_code" not in _columns(engine)
    with engine.begin() as conn:
        ids = {name: _insert(conn, name, note) for name, (note, _, _) in NOTES.items()}
    before = _notes(engine)

    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(select(dead_letters))}
        store = SqlDeadLetterStore(conn)
        for name, (note, code, values) in NOTES.items():
            row = rows[ids[name]]
            read = store.get(ids[name])
            assert read is not None
            assert read.erasure_note == note, name  # the API and the CLI say what they said
            if code is None:  # kept as it was
                assert (row.erasure_note, row.erasure_code, row.erasure_params) == (note, None, None), name
                assert notice_of(read.erasure_note) is None, name
                continue
            assert row.erasure_note is None, name
            assert row.erasure_code == code.value, name
            assert json.loads(row.erasure_params) == values, name
            found = notice_of(read.erasure_note)
            assert found is not None, name
            assert found.code is code, name

    _downgrade(engine, BEFORE)
    assert current_revision(engine) == BEFORE
    assert {"erasure_code", "erasure_params"}.isdisjoint(_columns(engine))
    assert _notes(engine) == before  # every sentence back, byte for byte

    upgrade(engine)  # and again
    with engine.connect() as conn:
        codes = dict(conn.execute(select(dead_letters.c.id, dead_letters.c.erasure_code)).all())
    assert {n: codes[ids[n]] for n in NOTES} == {
        n: None if code is None else code.value for n, (_, code, _) in NOTES.items()
    }


def test_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        _check_the_round_trip(engine)
    finally:
        engine.dispose()


@pytest.fixture
def empty_postgres(pg_url: str) -> Iterator[Engine]:
    """A fresh, empty PostgreSQL database (no revision yet); dropped after the test."""
    with own_database(pg_url, "renkei_erasure") as engine:
        yield engine


def test_on_postgresql(empty_postgres: Engine) -> None:
    _check_the_round_trip(empty_postgres)

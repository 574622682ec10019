"""Checkpoint anchors: the one tampering nothing inside the database can show, caught from outside it.

Whoever can write the database can cut the newest records away together with the checkpoints that sealed
them, and set the chain head back: what is left verifies. A copy of each checkpoint's digest kept outside
(``renkei audit anchor``) shows it (``renkei audit verify --anchors``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from hub.cli.audit import app
from hub.infra.audit.codec import parse_heads
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.tables.audit import (
    access_record_subjects,
    access_records,
    audit_chains,
    audit_checkpoints,
    audit_coverage,
)
from hub.settings import Environment, Settings
from tests.integration.test_audit_fixtures import make_record

CHAIN = "chain-a"


def _append(settings: Settings, first: int, count: int) -> None:
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            chain = ChainWriter("anchor test", chain_id=CHAIN)
            SqlAuditLog(conn, chain).append([make_record(i) for i in range(first, first + count)])
    finally:
        engine.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "var", environment=Environment.DEVELOPMENT)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    _append(settings, 0, 10)
    return settings


def run(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), obj=settings)
    return result.exit_code, result.stdout + result.stderr


def _cut_back_to_checkpoint(settings: Settings, checkpoint: int) -> None:
    """What a database administrator can do: drop the newer records and checkpoints, reset the head."""
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            heads_text = conn.execute(
                select(audit_checkpoints.c.heads).where(audit_checkpoints.c.id == checkpoint)
            ).scalar_one()
            heads = parse_heads(heads_text)
            assert heads is not None
            seq, digest = heads[CHAIN]
            conn.execute(delete(access_record_subjects).where(access_record_subjects.c.seq > seq))
            conn.execute(delete(access_records).where(access_records.c.seq > seq))
            conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.id > checkpoint))
            conn.execute(update(audit_chains).values(head_seq=seq, head_hash=digest))
            conn.execute(update(audit_coverage).values(seq=seq, checkpoint_id=checkpoint))
    finally:
        engine.dispose()


def test_records_cut_back_with_their_checkpoint_pass_verify_but_not_the_anchors(settings, tmp_path):
    anchors = tmp_path / "elsewhere" / "anchors.jsonl"
    anchors.parent.mkdir()
    assert run(settings, "checkpoint")[0] == 0
    code, out = run(settings, "anchor", str(anchors))
    assert (code, "anchored checkpoint 1" in out) == (0, True), out
    _append(settings, 10, 5)
    assert run(settings, "checkpoint")[0] == 0
    assert run(settings, "anchor", str(anchors))[0] == 0
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    assert [line["checkpoint"] for line in lines] == [1, 2]
    assert set(lines[0]) == {"checkpoint", "at", "digest"}  # no record, no token, no number
    code, out = run(settings, "verify", "--anchors", str(anchors))
    assert (code, out.startswith("OK: 15 records")) == (0, True), out

    _cut_back_to_checkpoint(settings, 1)

    code, out = run(settings, "verify")
    assert (code, out.startswith("OK: 10 records in 1 chains, 1 checkpoints")) == (0, True), out
    code, out = run(settings, "verify", "--anchors", str(anchors), "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["anchors"]) == (1, False, 2)
    assert report["first_problem"]["kind"] == "deleted"
    assert report["first_problem"]["checkpoint_id"] == 2
    code, out = run(settings, "verify", "--anchors", str(anchors))
    assert code == 1
    assert "checkpoint 2, anchored outside the database" in out


def test_a_checkpoint_that_is_not_the_anchored_one_is_reported(settings, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    run(settings, "checkpoint")
    run(settings, "anchor", str(anchors))
    line = json.loads(anchors.read_text())
    anchors.write_text(json.dumps({**line, "digest": "a" * len(line["digest"])}) + "\n")
    code, out = run(settings, "verify", "--anchors", str(anchors), "--json")
    first = json.loads(out)["first_problem"]
    assert (code, first["kind"], first["checkpoint_id"]) == (1, "bad_checkpoint", 1)
    assert "rewritten" in first["message"]


def test_anchoring_twice_appends_once(settings, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    run(settings, "checkpoint")
    assert run(settings, "anchor", str(anchors))[0] == 0
    code, out = run(settings, "anchor", str(anchors))
    assert (code, "anchored in" in out and "already" in out) == (0, True), out
    assert len(anchors.read_text().splitlines()) == 1


def test_no_checkpoint_nothing_to_anchor(settings, tmp_path):
    code, out = run(settings, "anchor", str(tmp_path / "anchors.jsonl"))
    assert code == 1
    assert "renkei audit checkpoint" in out
    assert not (tmp_path / "anchors.jsonl").exists()


@pytest.mark.parametrize(
    "line",
    ["not json", '{"checkpoint": 1}', '{"checkpoint": "1", "at": "x", "digest": "y"}', "[1, 2, 3]"],
)
def test_a_line_that_is_not_an_anchor_is_a_problem(settings, tmp_path, line):
    anchors = tmp_path / "anchors.jsonl"
    run(settings, "checkpoint")
    run(settings, "anchor", str(anchors))
    anchors.write_text(anchors.read_text() + line + "\n")
    code, out = run(settings, "verify", "--anchors", str(anchors))
    assert code == 1
    assert "anchor file line 2 is not an anchor" in out


def test_an_unreadable_anchor_file_is_a_usage_error(settings, tmp_path):
    code, out = run(settings, "verify", "--anchors", str(tmp_path / "missing.jsonl"))
    assert code == 2
    assert "cannot be read" in out

"""``renkei audit``: verify, search, export, checkpoint and public-key, on a migrated SQLite database."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from hub.cli.audit import app
from hub.infra.audit.provision import record_provision
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.tables.audit import access_records
from hub.settings import Environment, Settings
from tests.integration.test_audit_fixtures import make_record
from tests.integration.test_audit_store import provision


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path, environment=Environment.DEVELOPMENT)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        chain = ChainWriter("cli test", chain_id="chain-a")
        with engine.begin() as conn:
            SqlAuditLog(conn, chain).append([make_record(i) for i in range(10)])
            record_provision(conn, chain, provision(1), make_record(10))
    finally:
        engine.dispose()
    return settings


def run(settings: Settings, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), obj=settings)
    return result.exit_code, result.stdout, result.stderr


def test_checkpoint_then_verify(settings: Settings) -> None:
    code, out, _ = run(settings, "checkpoint")
    assert code == 0, out
    assert "checkpoint 1: sealed 1 chain head(s)" in out
    assert stat.S_IMODE(settings.audit_key_path.stat().st_mode) == 0o600
    code, out, _ = run(settings, "checkpoint")
    assert "nothing to seal" in out
    code, out, _ = run(settings, "verify")
    assert (code, out.startswith("OK: 11 records in 1 chains, 1 checkpoints, 1 情報提供等記録")) == (
        0,
        True,
    ), out
    code, out, _ = run(settings, "verify", "--json")
    report = json.loads(out)
    assert (code, report["ok"], report["records_checked"], report["first_problem"]) == (0, True, 11, None)


def test_verify_names_the_first_bad_record_and_exits_1(settings: Settings) -> None:
    run(settings, "checkpoint")
    engine = make_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(update(access_records).where(access_records.c.seq == 4).values(actor="intruder"))
    engine.dispose()
    code, out, _ = run(settings, "verify")
    assert code == 1
    assert "TAMPERED (modified): chain chain-a seq 4" in out
    code, out, _ = run(settings, "verify", "--json")
    first = json.loads(out)["first_problem"]
    assert (code, first["kind"], first["chain_id"], first["seq"]) == (1, "modified", "chain-a", 4)


def test_verify_with_an_auditors_public_key(settings: Settings, tmp_path: Path) -> None:
    run(settings, "checkpoint")
    code, pem, _ = run(settings, "public-key")
    assert code == 0
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    public = tmp_path / "audit.pub.pem"
    public.write_text(pem)
    settings.audit_key_path.unlink()  # the auditor does not hold the private key
    code, out, _ = run(settings, "verify", "--public-key", str(public))
    assert code == 0, out
    code, out, err = run(settings, "verify")
    assert code == 1
    assert "no checkpoint signature can be trusted" in err
    assert "bad_signature" in out


def test_search_answers_who_touched_this_person(settings: Settings) -> None:
    code, out, _ = run(settings, "search", "--subject", "tkA_subject2", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert [r["message_id"] for r in rows] == ["msg-000002", "msg-000007"]
    assert {r["actor"] for r in rows} == {"hub.worker-2", "hub.worker-1"}
    assert all(r["purpose"] == "生存確認" for r in rows)
    code, out, _ = run(settings, "search", "--subject", "tkA_subject2")
    assert code == 0
    assert "2 access record(s)" in out  # the rest folds to the terminal's width
    code, out, _ = run(
        settings, "search", "--action", "routed", "--since", "2026-04-01T09:00:00+09:00", "--json"
    )
    assert [json.loads(line)["message_id"] for line in out.splitlines()] == ["msg-000002"]


def test_a_time_without_an_offset_is_utc_as_the_help_says(settings: Settings) -> None:
    def found(*window: str) -> list[str]:
        code, out, err = run(settings, "search", *window, "--json")
        assert code == 0, err
        return [json.loads(line)["message_id"] for line in out.splitlines()]

    every = found()  # the fixture's records, one a second from 2026-04-01T00:00:00.123456Z
    naive, utc, tokyo = "2026-04-01T00:00:05", "2026-04-01T00:00:05+00:00", "2026-04-01T09:00:05+09:00"
    later = found("--since", utc)
    assert 0 < len(later) < len(every)
    assert found("--since", naive) == found("--since", tokyo) == later
    assert found("--until", naive) == found("--until", tokyo) == found("--until", utc)
    assert sorted(found("--since", naive) + found("--until", naive)) == sorted(every)


def test_bad_options_exit_2(settings: Settings) -> None:
    assert run(settings, "search", "--since", "yesterday")[0] == 2
    assert run(settings, "search", "--action", "nothing")[0] == 2


def test_export_writes_owner_only_files(settings: Settings, tmp_path: Path) -> None:
    out_file = tmp_path / "export" / "records.jsonl"
    out_file.parent.mkdir()
    code, _, err = run(settings, "export", "--format", "jsonl", "--output", str(out_file))
    assert code == 0
    assert "exported 11 access records" in err
    assert stat.S_IMODE(out_file.stat().st_mode) == 0o600
    assert len(out_file.read_text().splitlines()) == 11
    code, out, _ = run(settings, "export", "--format", "csv", "--subject", "tkA_subject3")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["message_id"] for r in rows] == ["msg-000003", "msg-000008"]


def test_export_the_provision_records(settings: Settings) -> None:
    code, out, err = run(settings, "export", "--format", "jsonl", "--provision")
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert "exported 1 情報提供等記録" in err
    assert (row["record_id"], row["legal_basis_current"], row["non_disclosure"]) == (
        "RID0000000001",
        "命令第2条表84の項 第86条",
        True,
    )


def test_production_refuses_to_checkpoint_without_a_key(settings: Settings) -> None:
    production = Settings(data_dir=settings.data_dir, environment=Environment.PRODUCTION, key_env="UNUSED")
    code, _, err = run(production, "checkpoint")
    assert code == 2
    assert "never generated" in err

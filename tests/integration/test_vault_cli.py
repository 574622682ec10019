"""``renkei keys`` and ``renkei retention`` on an embedded SQLite database, and the vault benchmark."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from contracts.errors import ConfigurationError
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.bench.vault import bench_vault
from hub.cli import keys, retention
from hub.core.rules.retention import dependants_declaration_retention
from hub.core.rules.retention_model import RETENTION_MODEL
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.tables.vault import deletion_log, subject_keys
from hub.infra.keys.keyring_files import deployment_keyring
from hub.infra.keys.service_keys import operator_keys
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Retention, SubjectId
from hub.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = Settings(data_dir=tmp_path / "var")
    upgrade(s.database_url)
    return s


def enrol(settings: Settings, n: int, retention_: Retention) -> list[SubjectId]:
    engine = make_engine(settings.database_url)
    links = [
        (UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"DEP-{i}"), synthetic_individual_number())
        for i in range(n)
    ]
    try:
        with engine.begin() as conn:
            enrolled = SqlVault(conn, operator_keys(settings).vault).enrol(
                links, retention=retention_, source="test"
            )
    finally:
        engine.dispose()
    return list(enrolled.values())


def test_keys_rotate_adds_a_version_and_rewrap_moves_the_data_keys(settings: Settings) -> None:
    subjects = enrol(settings, 5, Retention("pension.entitlement"))
    result = CliRunner().invoke(keys.app, ["rotate", "--json", "--seal", "jlis"], obj=settings)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rotated"] == ["kek", "seal.jlis"]
    assert set(report["services_written"]) == {"hub", "operator", "console", "adapter-jlis"}
    ring = deployment_keyring(settings)
    assert ring.kek.current.version == 2
    for service in report["services_written"]:
        assert stat.S_IMODE(settings.keyring_path_of(service).stat().st_mode) == 0o600
    dry = CliRunner().invoke(keys.app, ["rewrap", "--json", "--dry-run"], obj=settings)
    assert json.loads(dry.output)["data_keys"] == 5
    done = CliRunner().invoke(keys.app, ["rewrap", "--json"], obj=settings)
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["data_keys"] == 5
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            assert set(conn.execute(select(subject_keys.c.kek_id)).scalars()) == {ring.kek.current.key_id}
            assert len(SqlVault(conn, ring.vault).numbers_of(subjects)) == 5
    finally:
        engine.dispose()
    again = CliRunner().invoke(keys.app, ["rewrap", "--json"], obj=settings)
    assert json.loads(again.output)["data_keys"] == 0


def test_keys_from_variables_cannot_be_rotated_in_place(settings: Settings, tmp_path: Path) -> None:
    keyed = settings.model_copy(update={"key_env": "KEYS_{SERVICE}"})
    refused = CliRunner().invoke(keys.app, ["rotate"], obj=keyed)
    assert refused.exit_code == 2
    assert "RENKEI_KEY_ENV" in refused.output
    with pytest.raises(ConfigurationError, match="--out"):
        keys.rotate_keys(keyed)


def test_retention_run_erases_what_is_due_and_prints_no_number(settings: Settings) -> None:
    subjects = enrol(settings, 4, dependants_declaration_retention(date(2024, 12, 1)))
    runner = CliRunner()
    dry = runner.invoke(retention.app, ["run", "--as-of", "2032-01-11", "--dry-run", "--json"], obj=settings)
    assert dry.exit_code == 0, dry.output
    planned = json.loads(dry.output)
    assert planned["subjects_erased"] == 4
    assert set(planned["kinds"]) == {row.kind.value for row in RETENTION_MODEL}  # every kind, counted
    assert planned["kinds"]["vault.tax_dependants_declaration"]["due"] == 4
    assert planned["kinds"]["vault.person"]["due"] == 4
    early = runner.invoke(retention.app, ["run", "--as-of", "2032-01-10", "--json"], obj=settings)
    assert json.loads(early.output)["numbers_erased"] == 0
    real = runner.invoke(retention.app, ["run", "--as-of", "2032-01-11", "--actor", "ops:test"], obj=settings)
    assert real.exit_code == 0, real.output
    assert "erased entirely" in real.output
    for output in (dry.output, early.output, real.output):
        assert find_numbers(output) == []
        assert not any(s in output for s in subjects)
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            # One entry per person and kind: the numbers (by basis) and the person.
            kinds = conn.execute(select(deletion_log.c.kind, deletion_log.c.person_ref)).all()
            assert (
                sorted(k for k, _ in kinds) == ["vault.person"] * 4 + ["vault.tax_dependants_declaration"] * 4
            )
            assert len({ref for _, ref in kinds}) == 4
            assert set(conn.execute(select(deletion_log.c.actor)).scalars()) == {"ops:test"}
    finally:
        engine.dispose()


def test_the_benchmark_runs(tmp_path: Path) -> None:
    result = bench_vault(f"sqlite:///{tmp_path / 'bench.db'}", 200)
    assert result["n"] == 200
    assert all(result[k] > 0 for k in ("enrol_per_s", "lookup_per_s", "numbers_of_per_s", "tokenise_per_s"))

"""The benchmark's scratch PostgreSQL database: created fresh, usable, and gone afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from contracts.errors import ConfigurationError
from hub.cli.main import app
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.scratch import scratch_database
from tests.vault_fixtures import pg_url  # noqa: F401 - a fixture

pytestmark = pytest.mark.postgres


def _databases(server_url: str) -> set[str]:
    engine = create_engine(server_url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(text("SELECT datname FROM pg_database")).scalars())
    finally:
        engine.dispose()


def test_a_scratch_database_is_fresh_usable_and_dropped(pg_url):  # noqa: F811
    before = _databases(pg_url)
    with scratch_database(pg_url, "renkei_bench_test") as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("renkei_bench_test_")
        assert name not in before
        engine = make_engine(url)
        try:
            upgrade(engine)  # the whole schema fits in it
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM access_records")).scalar_one() == 0
        finally:
            engine.dispose()
        assert name in _databases(pg_url)
    assert name not in _databases(pg_url)


def test_a_scratch_database_needs_a_postgresql_url(tmp_path):
    with pytest.raises(ConfigurationError), scratch_database(f"sqlite:///{tmp_path / 'x.db'}", "renkei_x"):
        pass


def test_the_bench_says_so_when_the_url_is_not_postgresql(tmp_path, monkeypatch):
    monkeypatch.setenv("RENKEI_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(
        app, ["bench", "--phase", "hub", "--messages", "1", "--postgres", f"sqlite:///{tmp_path / 'x.db'}"]
    )
    assert result.exit_code == 1
    assert "PostgreSQL server URL" in result.output
    assert not (tmp_path / "var" / "bench").exists() or not any((tmp_path / "var" / "bench").iterdir())

"""After ``renkei demo``: every file renkei wrote is owner-only; dependants carry their real purge date.

The demo runs as its own process (``renkei`` sets the umask of every process), then ``renkei retention run
--dry-run --json`` is asked about the day the dependants' numbers become due, and the day before.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.core.rules.retention import DEPENDANTS_DECLARATION, dependants_declaration_purge_after
from hub.core.rules.retention_model import RETENTION_MODEL
from hub.demo.dependants import filing_deadline
from hub.infra.broker.topology import renkei_topology
from hub.infra.broker.users import delete_users
from hub.infra.db.engine import make_engine
from hub.infra.db.tables.vault import numbers
from hub.infra.service_names import SERVICE_NAMES
from hub.settings import RetrySettings, Settings
from tests.e2e.conftest import amqp_url, delete_prefixed

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


def _renkei(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.timeout(300)
def test_the_demo_writes_owner_only_files_and_dependants_with_their_purge_date(tmp_path: Path) -> None:
    url = amqp_url()
    prefix = f"t{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "var"
    env = {
        **os.environ,
        "RENKEI_AMQP_URL": url,
        "RENKEI_EXCHANGE_PREFIX": prefix,
        "RENKEI_DATA_DIR": str(data_dir),
    }
    for inherited in ("RENKEI_KEY_FILE", "RENKEI_KEY_ENV", "RENKEI_DB_URL", "RENKEI_LOG_FILE"):
        env.pop(inherited, None)
    try:
        demo = _renkei(env, "demo", "--records", "6", "--json")
        assert demo.returncode == 0, demo.stderr[-2000:]
        assert json.loads(demo.stdout)["lost"] == 0

        # Owner-only: the data directory and every directory 0700, every file 0600 (database, WAL, logs,
        # every service's keyring and its directory, exchange files, the simulators' state).
        modes = {str(p.relative_to(data_dir)): stat.S_IMODE(p.stat().st_mode) for p in data_dir.rglob("*")}
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        loose = {p: f"{m:o}" for p, m in modes.items() if m != (0o700 if (data_dir / p).is_dir() else 0o600)}
        assert not loose, loose
        keyrings = [f"keys/{service}/keyring.json" for service in SERVICE_NAMES]  # one per service
        for wanted in ("renkei.db", "keys", *keyrings, "logs/renkei.log"):
            assert wanted in modes, f"{wanted} was not written"
        assert any(p.startswith("wire/pension/outbound/") for p in modes)

        # The dependants' numbers (declared this run, and the eLTAX households) carry their real purge date.
        engine = make_engine(f"sqlite:///{data_dir / 'renkei.db'}")
        try:
            with engine.connect() as conn:
                dates = set(
                    conn.execute(
                        select(numbers.c.purge_after).where(
                            numbers.c.retention_basis == DEPENDANTS_DECLARATION
                        )
                    ).scalars()
                )
        finally:
            engine.dispose()
        year = date.today().year
        households = dependants_declaration_purge_after(filing_deadline(year - 1))  # last year's payments
        declared = dependants_declaration_purge_after(filing_deadline(year + 1))  # next year's declarations
        assert dates == {households, declared}

        # `retention run --dry-run --json` lists every kind of docs/retention.md, with counts, and finds the
        # dependants due from the day after their last day, not before.
        before = _renkei(env, "retention", "run", "--dry-run", "--json", "--as-of", households.isoformat())
        after = _renkei(
            env,
            "retention",
            "run",
            "--dry-run",
            "--json",
            "--as-of",
            date(households.year, 1, 11).isoformat(),
        )
        assert before.returncode == after.returncode == 0, after.stderr[-2000:]
        early, due = json.loads(before.stdout), json.loads(after.stdout)
        assert set(due["kinds"]) == {row.kind.value for row in RETENTION_MODEL}
        assert all("due" in entry and "done" in entry for entry in due["kinds"].values())
        assert early["kinds"]["vault.tax_dependants_declaration"]["due"] == 0
        assert due["kinds"]["vault.tax_dependants_declaration"]["due"] > 0
        assert due["kinds"]["vault.pension_entitlement"]["due"] == 0  # pensioners have no end date yet
        assert due["dry_run"] is True
    finally:
        topology = renkei_topology(prefix, RetrySettings())
        delete_prefixed(url, prefix, [q.name for q in topology.queues], [e.name for e in topology.exchanges])
        delete_users(Settings(amqp_url=url, exchange_prefix=prefix, data_dir=data_dir))  # the demo made them

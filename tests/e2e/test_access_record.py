"""After the demo every message that passed through the hub has its access records, and they verify.

And the record fails closed: when it cannot be written, numbers are not published; the message is
retried later and completes once, never sent unrecorded and never lost.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from contracts.errors import AuditWriteFailed
from hub.cli.main import app
from hub.demo.runner import run_demo
from hub.infra.audit import sql as audit_sql
from hub.infra.db.engine import make_engine
from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.messaging import inbox, outbox
from hub.settings import Settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


def _ids(settings: Settings) -> tuple[set[str], set[str], dict[str, list[str]]]:
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            handled = {
                r[0] for r in conn.execute(select(inbox.c.message_id).where(inbox.c.consumer == "hub"))
            }
            published = {
                r[0]
                for r in conn.execute(select(outbox.c.message_id, outbox.c.exchange))
                if not r[1].endswith(".dead")
            }
            recorded: dict[str, list[str]] = {}
            for mid, action in conn.execute(select(access_records.c.message_id, access_records.c.action)):
                recorded.setdefault(mid, []).append(action)
    finally:
        engine.dispose()
    return handled, published, recorded


@pytest.mark.timeout(180)
def test_every_message_through_the_hub_has_records_and_the_chain_verifies(e2e_settings):
    report = run_demo(e2e_settings, 600, timeout_s=120, console=None)
    assert report.lost == 0
    handled, published, recorded = _ids(e2e_settings)
    assert handled
    assert published
    for mid in handled:
        assert "received" in recorded.get(mid, []), f"handled message {mid} has no 'received' record"
    for mid in published:
        assert "routed" in recorded.get(mid, []), f"published message {mid} has no 'routed' record"

    result = CliRunner().invoke(app, ["audit", "verify", "--json"], obj=e2e_settings)
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.output)
    assert verdict["ok"] is True
    assert verdict["records_checked"] >= len(handled) + len(published)
    assert verdict["checkpoints"] >= 1
    assert verdict["uncovered_records"] == 0, "the demo's closing checkpoint covers every record"


@pytest.mark.timeout(180)
def test_a_failed_record_write_stops_the_publish_and_the_message_is_retried(e2e_settings, monkeypatch):
    real_append = audit_sql.SqlAuditLog.append
    failures = {"left": 2}  # the e2e settings allow three attempts

    def flaky_append(self, records):
        if failures["left"] > 0 and any(r.action == "enriched" for r in records):
            failures["left"] -= 1
            raise AuditWriteFailed("injected: the access record is unavailable")
        return real_append(self, records)

    monkeypatch.setattr(audit_sql.SqlAuditLog, "append", flaky_append)
    report = run_demo(e2e_settings, 300, timeout_s=120, console=None)
    assert failures["left"] == 0, "the fault must have been hit"
    assert report.lost == 0
    assert report.duplicates == 0
    _, published, recorded = _ids(e2e_settings)
    # Every inquiry that left for J-LIS (carrying sealed numbers) was recorded as enriched first.
    enriched = {mid for mid, actions in recorded.items() if "enriched" in actions}
    jlis_out = {mid for mid in published if mid in enriched or "routed" in recorded.get(mid, [])}
    assert enriched, "inquiries went out"
    assert enriched <= jlis_out

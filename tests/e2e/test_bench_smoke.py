"""``renkei bench`` stays runnable: a small run of every phase gives every figure, with sane values.

No timing is asserted: only that each figure is there, positive where it must be, and consistent.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from typer.testing import CliRunner

from hub.bench import run_bench
from hub.cli.main import app
from hub.settings import BrokerIdentity, BrokerSettings
from tests._availability import local_broker_admin, unavailable


@pytest.mark.rabbitmq
@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_small_bench_reports_every_figure(e2e_settings):
    ticks: list[tuple[str, int, int]] = []
    # As `renkei bench` runs by default: every service (and the bench's own publisher and consumers) is its
    # own broker user, created by each phase and deleted after it.
    if local_broker_admin(e2e_settings.amqp_url) is None:
        unavailable("per-service broker users need rabbitmqctl on the broker's machine", tests="the bench")
    per_service = e2e_settings.model_copy(
        update={"broker": BrokerSettings(identity=BrokerIdentity.PER_SERVICE)}
    )
    report = run_bench(
        per_service,
        messages=200,
        records=2000,
        timeout_s=240,
        tick=lambda stage, done, total: ticks.append((stage, done, total)),
    )
    report = json.loads(json.dumps(report))  # what --json prints

    assert report["machine"]["cpus"] >= 1
    for name in ("baseline", "hub"):
        phase = report[name]
        assert phase["messages"] == 200
        assert phase["messages_per_s"] > 0
        assert phase["seconds"] > 0
        latency = phase["latency_ms"]
        assert 0 <= latency["p50"] <= latency["p99"] <= latency["max"]
        assert phase["peak_memory_mib"]["bench"] > 0
    assert report["hub"]["peak_memory_mib"]["hub"] > 0
    assert report["hub"]["enrol_seconds"] >= 0
    expected = report["hub"]["messages_per_s"] / report["baseline"]["messages_per_s"]
    assert report["hub_to_baseline"] == pytest.approx(expected, abs=0.001)

    bulk = report["bulk"]
    assert bulk["records"] == 2000
    assert bulk["records_per_s"] > 0
    assert bulk["lost"] == 0
    assert bulk["duplicates"] == 0
    assert sum(bulk["outcomes"].values()) == 2000
    assert bulk["enrol_seconds"] > 0
    for process in ("hub", "adapter-jlis", "adapter-pension", "simulator-jlis", "bench"):
        assert bulk["peak_memory_mib"][process] > 0
    for process in ("hub", "adapter-jlis", "adapter-pension", "simulator-jlis"):
        assert bulk["cpu_seconds"][process] > 0

    # The progress bar's feed: enrolment from 0 to everyone, then answers that only grow, up to everyone.
    assert [t for t in ticks if t[0] == "enrol"] == [("enrol", 0, 2000), ("enrol", 2000, 2000)]
    answered = [done for stage, done, total in ticks if stage == "answer" and total == 2000]
    assert answered == sorted(answered)
    assert answered[-1] == 2000

    # Sealing to public keys: one HPKE operation per message and side, sizes as the format says.
    sealing = report["sealing"]
    assert all(us > 0 for us in sealing["per_operation_us"].values())
    assert sealing["bulk_message"]["public_key_operations_per_side"] == 1
    assert sealing["value_chars"]["v2"] > sealing["value_chars"]["v2_key_once_per_message"]
    assert sealing["value_chars"]["v2"] - sealing["value_chars"]["v2_key_once_per_message"] == 128

    identity = report["broker_identity"]
    assert (identity["mode"], identity["users_created"], identity["fallback"]) == ("per_service", True, None)

    # Every phase cleaned up after itself: its directory, and its broker users.
    assert not any((e2e_settings.data_dir / "bench").iterdir())
    users = subprocess.run(
        ["rabbitmqctl", "-q", "list_users"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert f"{e2e_settings.exchange_prefix}-bench-" not in users


def test_the_command_is_mounted():
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "--messages" in result.output
    assert "--records" in result.output
    assert "--json" in result.output

"""The eLTAX simulator as its own process on the broker (``renkei run simulator eltax``), not a thread."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hub.demo.deployment import local_deployment
from hub.demo.eltax import PaymentReportFlow
from hub.infra.runner import ServiceGroup
from tests.e2e.eltax_helpers import wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 60


@pytest.mark.timeout(60)
def test_reports_are_answered_by_a_simulator_running_as_its_own_process(e2e_settings):
    hub = local_deployment(e2e_settings, configure_logs=False)
    group: ServiceGroup | None = None
    simulator: subprocess.Popen[bytes] | None = None
    try:
        hub.prepare()  # migrations, keys (the simulator process reads the same key file), topology
        flow = PaymentReportFlow()
        flow.prepare(hub, RECORDS)
        group = hub.hub_services()
        for adapter in ("eltax", "pension"):
            hub.adapter_services(adapter, group)
        group.start()
        s = e2e_settings
        env = {
            **os.environ,
            "RENKEI_AMQP_URL": s.amqp_url,
            "RENKEI_DATA_DIR": str(s.data_dir),
            "RENKEI_EXCHANGE_PREFIX": s.exchange_prefix,
            "RENKEI_LOG_JSON": "true",
            "RENKEI_BROKER_IDENTITY": s.broker_identity.value,  # as the hub in this process (shared)
            # The same queue arguments as the test's topology, or redeclaring a queue would fail.
            "RENKEI_RETRY_MAX_ATTEMPTS": str(s.retry.max_attempts),
            "RENKEI_RETRY_DELAYS_MS": json.dumps(list(s.retry.delays_ms)),
            "RENKEI_RETRY_DELIVERY_LIMIT": str(s.retry.delivery_limit),
        }
        renkei = Path(sys.executable).parent / "renkei"
        simulator = subprocess.Popen(
            [str(renkei), "run", "simulator", "eltax", "--records", str(RECORDS)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        flow.start(hub, RECORDS)
        done = wait_for(lambda: flow.completed() >= RECORDS, seconds=40)
        result = flow.finish()
    finally:
        if simulator is not None:
            simulator.send_signal(signal.SIGTERM)
            try:
                simulator.wait(timeout=15)
            except subprocess.TimeoutExpired:
                simulator.kill()
                simulator.wait(timeout=5)
        if group is not None:
            group.shutdown()
        hub.close()
    assert done, "every report gets its receipt outcome from the simulator process"
    assert result.completed == RECORDS
    assert result.duplicates == 0
    assert simulator.returncode == 0

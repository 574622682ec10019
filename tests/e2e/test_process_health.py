"""Each `renkei run` process serves its own /healthz, /readyz and /metrics (RENKEI_HEALTH_PORT).

The survival flow runs across the hub, the J-LIS and pension adapters and the J-LIS simulator as separate
processes, each given a health port. Every /readyz answers ok with its own role and checks (consumers,
the pension poller's scans, the hub's database), and every /metrics shows the counters of what that
process did: the hub handled the pension adapter's chunks, the adapters published, the poller scanned.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.faults.harness import Deployment

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

RECORDS = 40
ROLES = {"hub": "hub", "jlis": "adapter jlis", "pension": "adapter pension", "simulator": "simulator jlis"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def totals(text: str, name: str, **labels: str) -> float:
    return sum(
        s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


@pytest.mark.timeout(180)
def test_every_process_reports_its_health_and_counts_its_work(e2e_settings, tmp_path):
    deployment = Deployment(e2e_settings, RECORDS, tmp_path / "logs")
    ports = {}
    try:
        for name, service in deployment.services.items():
            ports[name] = free_port()
            service.env = {**service.env, "RENKEI_HEALTH_PORT": str(ports[name])}
        deployment.prepare()
        deployment.start()
        for name, port in ports.items():

            def answers_ready(port: int = port) -> bool:
                return get(port, "/readyz")[0] == 200

            deployment.wait_until(answers_ready, f"{name} ready", 60)
        deployment.drop_request()
        deployment.wait_completed(deployment.flow.sent(), 90)

        ready = {name: json.loads(get(port, "/readyz")[1]) for name, port in ports.items()}
        for name, body in ready.items():
            assert body["status"] == "ok", body
            assert body["role"] == ROLES[name]
        kinds = {name: {(c["kind"], c["name"]) for c in body["checks"]} for name, body in ready.items()}
        assert ("database", "database") in kinds["hub"]
        assert {("consumer", "hub"), ("consumer", "dead-letters")} <= kinds["hub"]
        assert ("task", "pension-poller") in kinds["pension"]
        assert ("consumer", "adapter-jlis-link") in kinds["jlis"]
        assert ("database", "database") not in kinds["jlis"]  # adapters have no database
        for name, port in ports.items():
            assert get(port, "/healthz") == (200, json.dumps({"status": "ok", "role": ROLES[name]}))

        metrics = {name: get(port, "/metrics")[1] for name, port in ports.items()}
        hub = metrics["hub"]
        assert totals(hub, "renkei_messages_handled_total", service="hub", outcome="ack") >= 2
        assert totals(hub, "renkei_messages_published_total", kind="adapter") >= 1
        assert totals(hub, "renkei_consumer_up", service="hub") == 1
        assert totals(hub, "renkei_state_up") == 1
        assert totals(hub, "renkei_outbox_backlog") == 0
        assert totals(hub, "renkei_ready") == 1
        pension = metrics["pension"]
        assert totals(pension, "renkei_task_runs_total", task="pension-poller", outcome="ok") >= 1
        assert totals(pension, "renkei_task_items_total", task="pension-poller") == 1  # one request file
        assert totals(pension, "renkei_messages_published_total", kind="hub") >= 1
        jlis = metrics["jlis"]
        assert totals(jlis, "renkei_messages_handled_total", service="adapter-jlis", outcome="ack") >= 1
        assert totals(jlis, "renkei_messages_published_total", kind="counterpart") >= 1
        simulator = metrics["simulator"]
        assert totals(simulator, "renkei_messages_handled_total", service="simulator-jlis") >= 1
        for text in metrics.values():
            assert totals(text, "renkei_messages_dead_lettered_total") == 0
        assert "process_cpu_seconds_total" in hub  # the runtime's own metrics come along

        deployment.stop_all()
        assert get(ports["hub"], "/healthz")[0] == 0  # the port is released with the process
    finally:
        deployment.close()

"""The monitoring shipped in docker/: Prometheus's rules and config, the Grafana dashboard, their wiring.

* ``promtool check rules``, ``promtool test rules`` (docker/prometheus/alerts.test.yml) and
  ``promtool check config`` pass (Debian's prometheus package provides promtool: scripts/ensure-promtool.sh);
* every metric an alert or a dashboard panel queries is one renkei exports (read off a real /metrics, with
  the hub's stored-state gauges), one the RabbitMQ exporter exports, or Prometheus's own ``up``;
* compose provisions the dashboard and its data source, and gives Prometheus the rules.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from hub.console.views.metrics import SampleCollector
from hub.demo.deployment import local_deployment
from hub.infra.observability.health_server import serve_health, watch_database
from hub.infra.observability.state_metrics import STATE_METRIC_NAMES
from hub.infra.runner import ServiceGroup
from hub.settings import Settings
from tests._availability import unavailable

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "docker" / "prometheus"
GRAFANA = ROOT / "docker" / "grafana"
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))

RABBITMQ_EXPORTED = frozenset({"rabbitmq_detailed_queue_messages_ready", "rabbitmq_detailed_queue_consumers"})
"""Series of RabbitMQ's Prometheus plugin (``/metrics/detailed?family=queue_coarse_metrics&family=
queue_consumer_count``, see the plugin's documentation, rabbitmq-server deps/rabbitmq_prometheus)."""
PROMETHEUS_OWN = frozenset({"up"})

PROMQL_WORDS = frozenset(
    {
        "sum", "max", "min", "avg", "count", "by", "without", "rate", "increase", "delta", "offset",
        "histogram_quantile", "absent", "and", "or", "unless", "on", "ignoring", "le", "bool",
    }
)  # fmt: skip


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        unavailable("promtool is not installed (scripts/ensure-promtool.sh)", tests="the alert rule tests")
    assert found is not None
    return found


def run_promtool(*args: str) -> str:
    done = subprocess.run(
        [promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_promtool_checks_the_rules():
    assert "SUCCESS" in run_promtool("check", "rules", "alerts.yml")


def test_promtool_unit_tests_the_rules():
    assert "SUCCESS" in run_promtool("test", "rules", "alerts.test.yml")


def test_promtool_checks_the_config():
    assert "SUCCESS" in run_promtool("check", "config", "prometheus.yml")


def test_every_alert_has_a_unit_test():
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text(encoding="utf-8"))
    fired = {
        case["alertname"]
        for test in tests["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts == fired


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> frozenset[str]:
    """Every series name a hub process's /metrics and the console's /metrics can carry."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("monitoring") / "var", exchange_prefix="mon")
    hub = local_deployment(settings, configure_logs=False)
    group = ServiceGroup()
    try:
        hub.prepare_database()
        watch_database(group, hub.engine)
        group.collectors.append(SampleCollector(hub.engine))
        server = serve_health(group, "hub", "127.0.0.1", 0)
        assert server is not None
        try:
            host, port = server.address
            with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as answer:
                text = answer.read().decode()
        finally:
            server.close()
    finally:
        hub.close()
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        suffixes = {
            "counter": ("_total",),
            "histogram": ("_bucket", "_sum", "_count"),
            "summary": ("_sum", "_count"),
        }.get(family.type, ())
        names.update(family.name + s for s in suffixes)
    return frozenset(names | STATE_METRIC_NAMES)


def metric_names(expr: str) -> set[str]:
    """The series names a PromQL expression reads (identifiers that are no function, keyword or label)."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_groupings = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    without_durations = re.sub(r"\[[^\]]*\]|\boffset\s+[0-9a-z]+", "", without_groupings)
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", without_durations))
    return {w for w in words if w not in PROMQL_WORDS}


def expressions() -> list[tuple[str, str]]:
    found = []
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    found += [(f"alert {r['alert']}", r["expr"]) for g in rules["groups"] for r in g["rules"]]
    dashboard = json.loads((GRAFANA / "dashboards" / "renkei.json").read_text(encoding="utf-8"))
    found += [
        (f"panel {panel['title']!r}", target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    return found


def test_the_parser_of_expressions_finds_metric_names():
    expr = 'max by (queue) (rabbitmq_x{queue=~"a\\\\.b"}) > max(renkei_y offset 30m) and rate(renkei_z[5m])'
    assert metric_names(expr) == {"rabbitmq_x", "renkei_y", "renkei_z"}


@pytest.mark.parametrize(("where", "expr"), expressions())
def test_alerts_and_panels_query_metrics_that_exist(where, expr, exported):
    names = metric_names(expr)
    assert names, f"{where}: no metric in {expr!r}"
    unknown = names - exported - RABBITMQ_EXPORTED - PROMETHEUS_OWN
    assert not unknown, f"{where} queries {sorted(unknown)}, which nothing exports"


def test_the_dashboard_shows_flows_queues_and_dead_letters():
    dashboard = json.loads((GRAFANA / "dashboards" / "renkei.json").read_text(encoding="utf-8"))
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    for metric in (
        "renkei_messages_handled_total",
        "rabbitmq_detailed_queue_messages_ready",
        "renkei_dead_letters_pending",
    ):
        assert metric in exprs
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    source = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "renkei.yaml").read_text())
    assert uids == {d["uid"] for d in source["datasources"]}


def test_compose_provisions_prometheus_and_grafana():
    configs = {name: c["file"] for name, c in COMPOSE["configs"].items()}
    for path in configs.values():
        assert (ROOT / "docker" / path).is_file(), path
    mounted = {
        service: {configs[c["source"]]: c["target"] for c in COMPOSE["services"][service].get("configs", [])}
        for service in ("prometheus", "grafana")
    }
    assert mounted["prometheus"]["./prometheus/alerts.yml"] == "/etc/prometheus/alerts.yml"
    assert mounted["prometheus"]["./prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "renkei.yaml").read_text())
    folder = provider["providers"][0]["options"]["path"]
    assert mounted["grafana"]["./grafana/dashboards/renkei.json"] == f"{folder}/renkei.json"
    assert mounted["grafana"]["./grafana/provisioning/datasources/renkei.yaml"].startswith(
        "/etc/grafana/provisioning/datasources/"
    )
    assert mounted["grafana"]["./grafana/provisioning/dashboards/renkei.yaml"].startswith(
        "/etc/grafana/provisioning/dashboards/"
    )
    # Prometheus finds the workers on the port compose gives them.
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    port = int(COMPOSE["x-renkei-env"]["RENKEI_HEALTH_PORT"])
    ports = {sd["port"] for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", [])}
    assert ports == {port}
    scraped = {
        n for job in config["scrape_configs"] for sd in job.get("dns_sd_configs", []) for n in sd["names"]
    }
    workers = {name for name, svc in COMPOSE["services"].items() if (svc.get("command") or [])[:1] == ["run"]}
    assert scraped == workers

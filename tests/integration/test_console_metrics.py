"""Flow metrics: derived from the access record, kept per minute in the database, the same on every pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.infra.broker.topology import Names
from hub.infra.db.tables.metrics import metric_samples
from hub.infra.observability.metrics_sampler import MetricsSampler, adapter_of_queue, flow_name
from tests.console_fixtures import approved, console_world, token

__all__ = ["console_world"]


def _flows(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    data = client.get("/api/flows", headers=token("vic")).json()
    return {(row["flow"], row["adapter"]): row for row in data["flows"]}


def test_flows_show_counts_from_the_access_record_and_stay_the_same_on_every_pass(console_world):
    world = console_world
    sampler = world.app.state.console.sampler
    first = sampler.sample()
    assert first.records == 15  # three correlations of five records
    with TestClient(world.app) as client:
        flows = _flows(client)
        assert set(flows) == {("survival_inquiry", "jlis"), ("survival_inquiry", "pension")}
        for row in flows.values():
            assert (row["received"], row["routed"], row["completed"], row["failed"]) == (3, 3, 6, 0)
            assert row["total_completed"] == 6
        sampler.sample()
        fresh = MetricsSampler(world.hub.engine, world.hub.names)  # another process catching up
        fresh.sample()
        assert _flows(client) == flows
        metrics = client.get("/metrics", headers=token("vic")).text
    assert 'renkei_messages_total{adapter="jlis",direction="received",flow="survival_inquiry"} 3.0' in metrics
    assert 'renkei_leg_latency_seconds_count{adapter="jlis",flow="survival_inquiry"} 3.0' in metrics
    # The J-LIS leg answered after 3 s and the pension system got its outcome 5 s after asking.
    assert 'renkei_leg_latency_seconds_bucket{adapter="jlis",flow="survival_inquiry",le="2.5"} 0.0' in metrics
    assert 'renkei_leg_latency_seconds_bucket{adapter="jlis",flow="survival_inquiry",le="5"} 3.0' in metrics
    assert 'renkei_leg_latency_seconds_sum{adapter="pension",flow="survival_inquiry"} 15.0' in metrics
    assert 'renkei_dead_letters{group="abcdefghijklmnop"' in metrics
    with world.hub.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(metric_samples)).scalar_one()
    assert rows >= 6  # counts per flow and adapter, and gauges for the four adapters


def test_queue_gauges_come_from_the_broker(console_world):
    world = console_world
    dl = world.dead_letters["chiba"]
    with TestClient(world.app) as client:
        approval = approved(
            client,
            {"action": "replay_dead_letters", "ids": [dl], "reason": "J-LIS is back, replay it"},
            requester="olga",
            approver="otto",
        )
        replayed = client.post(
            "/api/dead-letters/replay",
            json={"ids": [dl], "reason": "fixed", "rate": 5, "limit": 5, "approval_id": approval},
            headers=token("olga"),
        )
        assert replayed.json()["counts"] == {"replayed": 1}
        world.app.state.console.sampler.sample()
        data = client.get("/api/flows", headers=token("vic")).json()
        adapters = {a["adapter"]: a for a in data["adapters"]}
    assert adapters["jlis"]["queue_depth"] == 1
    assert adapters["jlis"]["consumers"] == 0
    assert adapters["pension"]["queue_depth"] == 0


def test_old_samples_are_pruned(console_world):
    world = console_world
    later = datetime.now(UTC) + timedelta(days=40)
    MetricsSampler(world.hub.engine, world.hub.names).sample()
    hub = world.hub
    pruner = MetricsSampler(hub.engine, hub.names, clock=lambda: later, history=timedelta(days=30))
    pruner.sample()
    with world.hub.engine.connect() as conn:
        oldest = conn.execute(select(func.min(metric_samples.c.minute))).scalar_one()
    assert oldest.replace(tzinfo=UTC) > later - timedelta(days=31)


def test_names_of_flows_and_adapters():
    names = Names("renkei")
    assert flow_name("pension.survival_inquiry.requested") == "survival_inquiry"
    assert flow_name("short.type") == "short.type"
    assert flow_name(None) == "unknown"
    assert adapter_of_queue("renkei.adapter.jlis", names) == "jlis"
    assert adapter_of_queue("renkei.counterpart.eltax.inbound", names) == "eltax"
    assert adapter_of_queue("renkei.hub.ingress", names, "pension.x.y") == "pension"
    assert adapter_of_queue("renkei.hub.ingress", names, "weird.x") == "hub"
    assert adapter_of_queue(None, names) == "hub"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_counters_never_fall_when_old_samples_are_pruned(console_world):
    # Pruning used to delete the counts with the samples: every hour Prometheus saw a false counter reset.
    world = console_world
    MetricsSampler(world.hub.engine, world.hub.names).sample()
    with TestClient(world.app) as client:
        before = _samples(client.get("/metrics", headers=token("vic")).text)
        flows_before = _flows(client)
        later = datetime.now(UTC) + timedelta(days=40)
        MetricsSampler(world.hub.engine, world.hub.names, clock=lambda: later).sample()
        with world.hub.engine.connect() as conn:
            kept = conn.execute(
                select(func.count()).select_from(metric_samples).where(metric_samples.c.received > 0)
            ).scalar_one()
        assert kept == 0  # the samples with counts are gone
        after = _samples(client.get("/metrics", headers=token("vic")).text)
        flows_after = _flows(client)
    counters = {k: v for k, v in before.items() if k[0].endswith(("_total", "_count", "_sum", "_bucket"))}
    assert counters
    assert any(v > 0 for v in counters.values())
    for key, value in counters.items():
        assert after.get(key) == value, key
    # The flows view's totals still count what was pruned; its window no longer holds it.
    for flow, row in flows_before.items():
        assert flows_after[flow]["total_completed"] == row["total_completed"] > 0
        assert flows_after[flow]["completed"] == 0
    # Pruning twice carries nothing twice.
    MetricsSampler(world.hub.engine, world.hub.names, clock=lambda: later + timedelta(hours=2)).sample()
    with TestClient(world.app) as client:
        again = _samples(client.get("/metrics", headers=token("vic")).text)
    for key, value in counters.items():
        assert again.get(key) == value, key


def test_metrics_carry_the_stored_state_gauges(console_world):
    with TestClient(console_world.app) as client:
        found = _samples(client.get("/metrics", headers=token("vic")).text)
    assert found[("renkei_state_up", ())] == 1
    assert found[("renkei_dead_letters_pending", ())] == 4  # the fixture's four dead letters
    assert found[("renkei_outbox_backlog", ())] == 0

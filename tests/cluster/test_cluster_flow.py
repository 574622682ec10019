"""A cluster node stops and comes back in the middle of a 10,000-record flow: every record completes once.

Processes (each a ``renkei run`` of its own, given all three node addresses): two hub workers, two J-LIS
adapters, one pension adapter and the J-LIS simulator. The simulator (the counterpart) starts only once
the node is down, so the stop always lands mid-flow however fast the machine is: the hub workers are
enriching requests, and every inquiry sent so far waits in a quorum queue. The node holding most of the
processes' connections is stopped; every client moves to another node, the quorum queues (three
replicas, declared once the cluster had three nodes) keep every message, and redeliveries are absorbed by
the hub's inbox and the adapters' deterministic ids. The simulator then starts, the node is started again
while the answers flow, and the test waits for the end state: one outcome row per person and no other,
the right outcome for each, no access record twice, nothing dead-lettered, ``renkei audit verify`` passes.
"""

from __future__ import annotations

import pytest

from tests.cluster._checks import check_end_state
from tests.cluster._cluster import LocalCluster
from tests.cluster.conftest import RECORDS, DeployFactory

pytestmark = [pytest.mark.slow, pytest.mark.cluster]

_FLOW_TIMEOUT_S = 600


@pytest.mark.timeout(1_200)
def test_a_node_stopped_and_restarted_mid_flow_loses_and_duplicates_nothing(
    local_cluster: LocalCluster, cluster_deploy: DeployFactory
) -> None:
    deployment = cluster_deploy(RECORDS, hubs=2, jlis=2)
    prefix = deployment.settings.exchange_prefix
    replicas = local_cluster.quorum_members(prefix)
    assert replicas, "the topology declares quorum queues"
    assert set(replicas.values()) == {3}, f"every quorum queue has a replica on each node: {replicas}"

    workers = [name for name in deployment.services if name != "simulator"]
    deployment.start(*workers)
    processes = len(workers)
    # Each process holds at least one connection per consumer; wait until every one is connected.
    deployment.wait_until(
        lambda: sum(local_cluster.connections("renkei-").values()) >= processes,
        "every process to connect",
        timeout_s=120,
        poll_s=0.5,
    )

    # Every process logs in as its own service's broker user (both hub workers as the hub's, ...).
    def each_as_its_user() -> bool:
        users = local_cluster.connection_users()
        assert all(found == {f"{prefix}-{service}"} for service, found in users.items()), users
        return set(users) == {"hub", "adapter-jlis", "adapter-pension"}

    deployment.wait_until(each_as_its_user, "every service connected as its own user", 60, poll_s=0.5)
    deployment.drop_request()
    # The hub has handled its first requests (of 500 requests and 500 answers): it is busy enriching,
    # and inquiries are on their way to J-LIS, which cannot answer yet.
    deployment.wait_until(lambda: deployment.hub_handled() >= 50, "the hub's first messages", timeout_s=300)

    connections = local_cluster.connections("renkei-")
    victim = max(connections, key=lambda node: connections[node])
    deployment.note(f"connections per node {connections}; stopping node {victim}")
    local_cluster.stop_node(victim)
    at_stop = deployment.completed()
    deployment.note(f"node {victim} stopped at {at_stop} outcomes")
    assert at_stop < RECORDS, "the node must stop while the flow is still running"
    moved = local_cluster.connections("renkei-")
    deployment.note(f"connections per node with node {victim} down: {moved}")

    deployment.start("simulator")
    local_cluster.start_node(victim)
    deployment.note(f"node {victim} back at {deployment.completed()} outcomes")
    deployment.wait_completed(deployment.flow.sent(), timeout_s=_FLOW_TIMEOUT_S)
    deployment.note("every record has an outcome")
    report = check_end_state(deployment)
    assert sum(moved.values()) > 0, "the clients reconnected"
    assert moved.get(victim, 0) == 0, "nothing is connected to the stopped node"
    print(f"\ncluster flow: {report}\ncluster timings: {local_cluster.timings}")

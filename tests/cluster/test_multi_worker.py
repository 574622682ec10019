"""Two hub workers and two J-LIS adapters side by side over a 10,000-record flow, on the shared broker.

Competing consumers on every work queue: both hub workers take requests and answers from the ingress
queue and write to one database (one SQLite file, or PostgreSQL), each on its own access-record chain; both
J-LIS adapters take inquiries and answer files. Every record must still complete exactly once with the
right outcome, no message's effect may be recorded twice, and ``renkei audit verify`` must pass over the
chains of every writer.
"""

from __future__ import annotations

import pytest

from tests.cluster._checks import check_end_state
from tests.cluster.conftest import RECORDS, DeployFactory

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.e2e]

_FLOW_TIMEOUT_S = 400


def _run(deploy: DeployFactory, **overrides: object) -> None:
    deployment = deploy(RECORDS, hubs=2, jlis=2, **overrides)
    names = deployment.hub.names
    deployment.start_all()
    probe = deployment.hub.transport("probe")  # one connection for every look-up; closed with the hub
    queues = (names.ingress_queue, names.adapter_queue("jlis"), names.counterpart_queue("jlis", "inbound"))
    deployment.wait_until(
        lambda: all(probe.queue_depth(queue)[1] == 2 for queue in queues),
        "two consumers on the hub's and the J-LIS adapter's queues",
        timeout_s=120,
        poll_s=0.5,
    )
    deployment.drop_request()
    deployment.wait_completed(deployment.flow.sent(), timeout_s=_FLOW_TIMEOUT_S)
    deployment.note("every record has an outcome")
    check_end_state(deployment)


@pytest.mark.timeout(600)
def test_two_hub_workers_on_one_sqlite_file_and_two_jlis_adapters(broker_deploy: DeployFactory) -> None:
    _run(broker_deploy)


@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_two_hub_workers_on_postgresql_and_two_jlis_adapters(
    broker_deploy: DeployFactory, fresh_pg_url: str
) -> None:
    _run(broker_deploy, db_url=fresh_pg_url)

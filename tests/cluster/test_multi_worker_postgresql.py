"""Two hub workers on one PostgreSQL database and two J-LIS adapters side by side over a 10,000-record flow.

As ``test_multi_worker.py`` (the hub workers on one SQLite file), with the hub's database on PostgreSQL:
competing consumers on every work queue, each hub worker on its own access-record chain; every record
completes exactly once with the right outcome, no effect is recorded twice, and ``renkei audit verify``
passes over the chains of every writer.
"""

from __future__ import annotations

import pytest

from tests.cluster._checks import run_side_by_side
from tests.cluster.conftest import DeployFactory

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.postgres
@pytest.mark.timeout(600)
def test_two_hub_workers_on_postgresql_and_two_jlis_adapters(
    broker_deploy: DeployFactory, fresh_pg_url: str
) -> None:
    run_side_by_side(broker_deploy, db_url=fresh_pg_url)

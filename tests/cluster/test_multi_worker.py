"""Two hub workers and two J-LIS adapters side by side over a 10,000-record flow, on the shared broker.

Competing consumers on every work queue: both hub workers take requests and answers from the ingress
queue and write to one database (one SQLite file, or PostgreSQL), each on its own access-record chain; both
J-LIS adapters take inquiries and answer files. Every record must still complete exactly once with the
right outcome, no message's effect may be recorded twice, and ``renkei audit verify`` must pass over the
chains of every writer. The same on PostgreSQL is ``test_multi_worker_postgresql.py`` (a file of its own,
so that ``make test``'s two workers can take one each).
"""

from __future__ import annotations

import pytest

from tests.cluster._checks import run_side_by_side
from tests.cluster.conftest import DeployFactory

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.e2e]


@pytest.mark.timeout(600)
def test_two_hub_workers_on_one_sqlite_file_and_two_jlis_adapters(broker_deploy: DeployFactory) -> None:
    run_side_by_side(broker_deploy)

"""SIGKILL the intermediate server adapter three times in the middle of its flow: every record arrives once.

The information query (情報照会: two queries per person, after code acquisition) of 10,000 people runs from
the pension system through the hub and the adapter to the simulated intermediate server and back; the
adapter is killed at 10, 40 and 70 % of the flow
(:func:`~tests.faults.scenarios.an_adapter_killed_at_three_points`). Afterwards every record reached the
pension system exactly once and the access record has no duplicate.
"""

from __future__ import annotations

import pytest

from hub.demo.intermediate_server import InfoQueryFlow
from tests.faults.scenarios import an_adapter_killed_at_three_points

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_the_intermediate_server_adapter_killed_three_times_mid_flow_completes_every_record_once(deploy):
    an_adapter_killed_at_three_points(deploy, "intermediate_server", InfoQueryFlow)

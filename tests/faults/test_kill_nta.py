"""SIGKILL the NTA adapter three times in the middle of its flow: every record arrives once.

The withholding slips (公的年金等の源泉徴収票, a file of 100 per message) of 10,000 people run from the
pension system through the hub and the adapter to the simulated National Tax Agency and back; the adapter
is killed at 10, 40 and 70 % of the flow (:func:`~tests.faults.scenarios.an_adapter_killed_at_three_points`).
Afterwards every record reached the pension system exactly once and the access record has no duplicate.
"""

from __future__ import annotations

import pytest

from hub.demo.nta import WithholdingSlipFlow
from tests.faults.scenarios import an_adapter_killed_at_three_points

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(300)
def test_the_nta_adapter_killed_three_times_mid_flow_completes_every_record_once(deploy):
    an_adapter_killed_at_three_points(deploy, "nta", WithholdingSlipFlow)

"""SIGKILL the hub at four points of a 10,000-record survival inquiry.

The hub holds the only state of the flow (vault, inbox, outbox, access record). A kill loses its
in-memory work: unacknowledged deliveries come back from the broker, committed outbox rows that were not
relayed are published by the restarted hub's relay sweep, and the inbox drops whatever was already
handled. After recovery every person has exactly one outcome and the access record has no duplicate.
Every service killed at once is ``test_kill_every_service.py``.
"""

from __future__ import annotations

import pytest

from tests._connections import parse, users_by_service
from tests.faults.harness import assert_every_record_once
from tests.faults.scenarios import CHUNK

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(240)
def test_the_hub_killed_at_four_points_still_completes_every_record_once(deploy, fault_broker):
    d = deploy(chunk_records=CHUNK)
    handled_in_all = 2 * d.records // CHUNK  # each chunk's inquiry, then its J-LIS result
    d.start()
    d.drop_request()
    # Every process is its own broker user (as in production), and logs in again as itself after a kill.
    expected = {"hub", "adapter-jlis", "adapter-pension", "simulator-jlis"}
    prefix = d.settings.exchange_prefix

    def each_service_as_its_user() -> bool:
        rows = parse(fault_broker.ctl("list_connections", "user", "client_properties", "--formatter", "json"))
        users = users_by_service(rows)
        assert all(found == {f"{prefix}-{service}"} for service, found in users.items()), users
        return set(users) >= expected

    d.wait_until(each_service_as_its_user, "every service connected as its own user", 60, poll_s=0.5)
    # By the hub's own progress (its inbox), so that the kills fall inside the flow however fast the
    # outcomes come: while enriching the inquiry, then while J-LIS's answers come back.
    for fraction in (0.02, 0.35, 0.6, 0.85):
        at = max(1, int(fraction * handled_in_all))
        d.wait_until(lambda at=at: d.hub_handled() >= at, f"{at} messages handled by the hub", 120)
        d.restart("hub")
    d.wait_completed(d.flow.sent(), 120)
    d.wait_until(each_service_as_its_user, "every service connected as its own user", 60, poll_s=0.5)
    report = assert_every_record_once(d)
    assert d.services["hub"].kills == 4
    print("\n".join(d.events), report, sep="\n")

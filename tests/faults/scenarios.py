"""The steps several fault scenarios share: kills at fractions of a flow, and "no process was restarted".

Each scenario is a test file of its own (``test_kill_*.py``, ``test_restart_*.py``): ``make test`` hands
whole files to its workers, and a 10,000-record flow takes minutes, so one scenario per file lets the two
workers share them instead of one worker running a file of four while the other waits.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.demo.flow import DemoFlow
from tests.faults.conftest import DeployFactory
from tests.faults.harness import Deployment, assert_every_record_once

__all__ = ["CHUNK", "an_adapter_killed_at_three_points", "kill_at", "no_process_was_restarted"]

CHUNK = 250
"""Records per message in the survival flow: 40 chunks per leg, so kills fall between messages of a batch."""


def kill_at(d: Deployment, name: str, fractions: tuple[float, ...]) -> None:
    """SIGKILL and restart ``name`` once the given fractions of the population have an outcome."""
    for fraction in fractions:
        d.wait_completed(int(fraction * d.records), 120)
        d.restart(name)


def an_adapter_killed_at_three_points(
    deploy: DeployFactory, adapter: str, flow: Callable[[], DemoFlow]
) -> None:
    """Run ``flow`` through ``adapter`` and its simulator, SIGKILL the adapter at 10, 40 and 70 % of the
    flow's records, and check every record reached the pension system once (the simulator stays up: it
    stands in for an outside network, whose state a renkei failure does not touch)."""
    d = deploy(flow=flow, services=("hub", "pension", adapter, f"simulator-{adapter}"))
    d.start()
    d.drop_request()
    for fraction in (0.1, 0.4, 0.7):
        d.wait_completed(int(fraction * d.flow.sent()), 180)
        d.restart(adapter)
    d.wait_completed(d.flow.sent(), 180)
    report = assert_every_record_once(d)
    assert d.services[adapter].kills == 3
    print("\n".join(d.events), report, sep="\n")


def no_process_was_restarted(d: Deployment) -> None:
    """Every service still runs its first generation: it rode out the outage by itself."""
    for service in d.services.values():
        assert service.generation == 1, f"{service.name} was restarted"
        assert service.alive(), f"{service.name} did not survive the outage\n{d.diagnosis()}"

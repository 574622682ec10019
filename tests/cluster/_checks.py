"""The end state every scaled flow must reach (the fault suite's checks, plus what several workers add), and
the side-by-side flow of the multi-worker tests."""

from __future__ import annotations

import subprocess

from tests.cluster._scaled import ScaledDeployment
from tests.cluster.conftest import RECORDS, DeployFactory
from tests.faults.harness import FlowReport, assert_every_record_once, renkei_command, service_env

__all__ = ["check_end_state", "run_side_by_side"]

_FLOW_TIMEOUT_S = 400


def check_end_state(deployment: ScaledDeployment) -> FlowReport:
    """Wait for the outbox to drain, seal the record, stop the services and check the end state.

    On top of :func:`tests.faults.harness.assert_every_record_once` (every record once with the right
    outcome, no access record twice, nothing dead-lettered, ``renkei audit verify`` passes): every hub
    worker did part of the work, and the checkpoint taken after the flow covers every record of every
    writer's chain.
    """
    deployment.wait_until(
        lambda: deployment.report().pending_outbox == 0, "the outbox to drain", timeout_s=60
    )
    _checkpoint(deployment)
    report = assert_every_record_once(deployment)
    assert deployment.handled_without_received_record() == []
    actors = deployment.hub_actors()
    assert len(actors) >= 2, f"every hub worker handled messages: {actors}\n{deployment.diagnosis()}"
    # The verifier's report of the stopped deployment (asked once, by assert_every_record_once).
    verdict = deployment.verified
    assert verdict is not None
    assert verdict["exit_code"] == 0, verdict
    assert verdict["uncovered_records"] == 0, f"records newer than the last checkpoint: {verdict}"
    deployment.note(f"messages handled per hub worker: {actors}")
    print("\n" + "\n".join(deployment.events))
    return report


def _checkpoint(deployment: ScaledDeployment) -> None:
    """``renkei audit checkpoint``, as the operator's job does: it seals the head of every chain."""
    result = subprocess.run(
        [*renkei_command(), "audit", "checkpoint"],
        env=service_env(deployment.settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=deployment.log_dir,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def run_side_by_side(deploy: DeployFactory, **overrides: object) -> None:
    """Two hub workers and two J-LIS adapters over a flow of :data:`RECORDS`, then :func:`check_end_state`."""
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

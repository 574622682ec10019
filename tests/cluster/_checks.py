"""The end state every scaled flow must reach: the fault suite's checks, plus what several workers add."""

from __future__ import annotations

import subprocess

from tests.cluster._scaled import ScaledDeployment
from tests.faults.harness import FlowReport, assert_every_record_once, renkei_command, service_env

__all__ = ["check_end_state"]


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
    verdict = deployment.audit_verify()
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

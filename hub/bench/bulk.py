"""The bulk phase: a survival/change inquiry (生存異動照会) of N people through every stage and J-LIS.

The demo's survival flow, with each service in its own process, as in production: ``renkei run hub``,
``renkei run adapter jlis``, ``renkei run adapter pension`` and ``renkei run simulator jlis --records N``.
The people are enrolled in the vault first (set-up, timed apart). The clock starts when the pension
system drops its request file and stops when the outcome files cover every person; then each process's
peak memory is read, the services stop, and the outcome rows are counted once more, record by record, for
lost and duplicated people.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adapters.pension import OutcomeManifest, PensionSystemSimulator
from adapters.pension.wire import MANIFEST_SUFFIX, MAX_MANIFEST_BYTES, outcome_file_prefix, parse_manifest
from hub.bench.errors import BenchError
from hub.bench.measure import peak_memory_mib, reset_peak_memory
from hub.bench.phase import Phase
from hub.bench.services import Service
from hub.demo.survival import SurvivalFlow

__all__ = ["Tick", "run_bulk"]

_READY_S = 120.0
_POLL_S = 0.25


class _OutcomeCounter:
    """Records covered by the complete outcome files of a batch so far (manifests read once each)."""

    def __init__(self, outbound: Path, batch_id: str) -> None:
        self._outbound = outbound
        self._pattern = f"{outcome_file_prefix(batch_id)}*{MANIFEST_SUFFIX}"
        self._counted: dict[str, int] = {}

    def __call__(self) -> int:
        for path in self._outbound.glob(self._pattern):
            if path.name not in self._counted:
                manifest = parse_manifest(path.read_bytes()[: MAX_MANIFEST_BYTES + 1])
                if isinstance(manifest, OutcomeManifest):
                    self._counted[path.name] = manifest.record_count
        return sum(self._counted.values())


def _verify(pension: PensionSystemSimulator, batch_id: str, records: int) -> dict[str, Any]:
    """Count distinct people, duplicated rows and outcomes, streaming (a bit per person)."""
    seen = bytearray(records + 1)
    distinct = duplicates = 0
    outcomes: Counter[str] = Counter()
    for row in pension.iter_outcomes(batch_id):
        outcomes[str(row.outcome)] += 1
        seq = row.record_seq
        if 0 <= seq <= records and not seen[seq]:
            seen[seq] = 1
            distinct += 1
        else:
            duplicates += 1
    return {"lost": records - distinct, "duplicates": duplicates, "outcomes": dict(outcomes)}


def _services(p: Phase, records: int) -> list[Service]:
    n = p.hub.names
    return [
        Service("hub", ("hub",), ready=lambda: p.consumers(n.ingress_queue)),
        Service(
            "adapter-jlis",
            ("adapter", "jlis"),
            ready=lambda: p.consumers(n.adapter_queue("jlis"), n.counterpart_queue("jlis", "inbound")),
        ),
        Service(
            "adapter-pension",
            ("adapter", "pension"),
            ready=lambda: p.consumers(n.adapter_queue("pension")),
        ),
        Service(
            "simulator-jlis",
            ("simulator", "jlis", "--records", str(records)),
            ready=lambda: p.consumers(n.counterpart_queue("jlis", "outbound")),
        ),
    ]


Tick = Callable[[str, int, int], None]
"""Told ``(stage, done, total)`` as the bulk phase goes: ``enrol`` once before and once after the set-up,
``answer`` at every look at the outcome files."""


def run_bulk(p: Phase, records: int, *, timeout_s: float, tick: Tick | None = None) -> dict[str, Any]:
    """Run one inquiry of ``records`` people end to end and report its rate and every process's peak.

    Raises:
        BenchError: a service died, or the outcomes did not cover everyone within ``timeout_s``.
    """
    show = tick or (lambda _stage, _done, _total: None)
    flow = SurvivalFlow(mistaken_dependants=False)  # the pensioners alone: a clean measure
    started = time.perf_counter()
    show("enrol", 0, records)
    flow.prepare(p.hub, records)
    show("enrol", records, records)
    enrol_s = time.perf_counter() - started
    p.services.start(_services(p, records), timeout_s=_READY_S)
    reset_peak_memory()
    pension = p.hub.pension_system()
    started = time.perf_counter()
    flow.start(p.hub, records)
    dropped_s = time.perf_counter() - started
    counted = _OutcomeCounter(pension.outbound, flow.batch_id)
    deadline = time.monotonic() + timeout_s
    while (done := counted()) < records:  # bounded by the deadline
        show("answer", done, records)
        p.services.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"{done} of {records} records answered after {timeout_s:g} s")
        time.sleep(_POLL_S)
    seconds = time.perf_counter() - started
    show("answer", records, records)
    peaks = p.services.read_peaks()
    p.services.stop()
    checked = _verify(pension, flow.batch_id, records)
    return {
        "records": records,
        "seconds": round(seconds, 2),
        "records_per_s": round(records / seconds, 1),
        "request_file_seconds": round(dropped_s, 2),
        "enrol_seconds": round(enrol_s, 2),
        "enrol_per_s": round(records / enrol_s, 1) if enrol_s > 0 else None,
        **checked,
        "peak_memory_mib": {**peaks, "bench": peak_memory_mib()},
        "cpu_seconds": p.services.cpu(),
    }

"""The message phases: the broker alone (baseline), then the hub's full path, on the same messages.

Both publish ``N`` single-chunk ``pension.survival_inquiry.requested`` envelopes of one person each, as
the pension adapter would, through :func:`hub.bench.pipe.drive` with the project's own transport
settings (persistent, confirmed, acknowledged, the configured prefetch and batch size).

* baseline: published to the ingress exchange of a phase whose ingress queue (a quorum work queue of the
  topology, with its delivery limit and dead-lettering) nobody but the benchmark consumes: what RabbitMQ
  and pika cost, and nothing else;
* hub: the same, with the hub running as its own process (``renkei run hub``): each message is decoded
  and validated, the person's number is looked up and sealed for J-LIS, a reference token is made, the
  access record is written, the inquiry is routed to the J-LIS adapter's queue and the request is
  acknowledged. The benchmark consumes that queue: latency is publish to arrival there. The people are
  enrolled in the vault first; that set-up is timed apart.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

from adapters.pension import SURVIVAL_CHECK_PURPOSE
from contracts.envelope import new_envelope
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import SurvivalInquiryRecord, SurvivalInquiryRequested
from contracts.registry import payload_dict
from hub.bench.measure import peak_memory_mib, reset_peak_memory
from hub.bench.phase import Phase
from hub.bench.pipe import PipeResult, drive
from hub.bench.services import Service
from hub.core.flows.context import derived_id
from hub.core.runtime.routing import to_outgoing
from hub.demo.survival import next_payment_cycle
from hub.infra.service_names import ServiceName
from hub.ports.transport import OutgoingMessage

__all__ = ["inquiry_messages", "run_baseline", "run_hub_path"]

INQUIRY_TYPE = "pension.survival_inquiry.requested"
_READY_S = 90.0


def inquiry_messages(p: Phase, count: int, *, run: str) -> list[OutgoingMessage]:
    """``count`` single-chunk inquiries, person ``i`` of the demo population in message ``i``."""
    population = p.hub.population(count)
    cycle, today = next_payment_cycle(date.today()), date.today()
    out = []
    for index in range(count):
        payload = SurvivalInquiryRequested(
            chunk=ChunkInfo(batch_id=f"{run}-{index}", chunk_index=0, chunk_count=1, total_records=1),
            cycle=cycle,
            as_of=today,
            records=(SurvivalInquiryRecord(record_seq=1, usage_number=population.usage_number(index)),),
        )
        envelope = new_envelope(
            message_type=INQUIRY_TYPE,
            schema_version=1,
            source="pension",
            actor="federation",
            destination="hub",
            purpose=SURVIVAL_CHECK_PURPOSE,
            payload=payload_dict(payload),
        )
        out.append(to_outgoing(envelope, p.hub.exchanges))
    return out


def _drive(
    p: Phase,
    messages: list[OutgoingMessage],
    queue: str,
    arrival: Callable[[str], str],
    *,
    consumer: ServiceName,
    window: int,
    timeout_s: float,
) -> PipeResult:
    # The benchmark plays the pension adapter (the sender the hub allows for inquiries) and the consumer
    # of the queue it reads, each under that service's own broker user.
    return drive(
        p.hub.transport("bench-publisher", "adapter-pension"),
        p.hub.transport("bench-consumer", consumer),
        messages=lambda start, stop: messages[start:stop],
        count=len(messages),
        arrival_id=arrival,
        queue=queue,
        window=window,
        batch=min(window, 100),
        consume_options=p.consume_options(),
        timeout_s=timeout_s,
    )


def run_baseline(p: Phase, count: int, *, window: int, timeout_s: float) -> dict[str, Any]:
    """RabbitMQ alone: publish to the ingress exchange, consume the ingress queue, no hub."""
    messages = inquiry_messages(p, count, run="baseline")
    reset_peak_memory()
    result = _drive(
        p,
        messages,
        p.hub.names.ingress_queue,
        lambda mid: mid,
        consumer="hub",
        window=window,
        timeout_s=timeout_s,
    )
    return {
        **result.summary(),
        "body_bytes": len(messages[0].body) if messages else 0,
        "peak_memory_mib": {"bench": peak_memory_mib()},
    }


def run_hub_path(p: Phase, count: int, *, window: int, timeout_s: float) -> dict[str, Any]:
    """The hub's whole path, end to end, with the hub in its own process."""
    hub = p.hub
    started = time.perf_counter()
    hub.enrol_population(hub.population(count), count)
    enrol_s = time.perf_counter() - started
    messages = inquiry_messages(p, count, run="hub")
    jlis_queue = hub.names.adapter_queue("jlis")
    p.services.start(
        [Service("hub", ("hub",), ready=lambda: p.consumers(hub.names.ingress_queue))], timeout_s=_READY_S
    )
    reset_peak_memory()
    result = _drive(
        p,
        messages,
        jlis_queue,
        lambda mid: str(derived_id(uuid.UUID(mid), "jlis")),
        consumer="adapter-jlis",
        window=window,
        timeout_s=timeout_s,
    )
    p.services.check_alive()
    peaks = p.services.read_peaks()
    return {
        **result.summary(),
        "body_bytes": len(messages[0].body) if messages else 0,
        "enrol_seconds": round(enrol_s, 2),
        "peak_memory_mib": {**peaks, "bench": peak_memory_mib()},
        "cpu_seconds": p.services.cpu(),
    }

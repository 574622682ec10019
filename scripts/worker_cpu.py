"""The hub worker alone, in one process: CPU time and SQL statements per survival request (no broker).

For comparing two versions of the hub's code on a shared machine, where `renkei bench`'s wall times and even
its per-process CPU seconds move with the other work on the cores. It enrols the demo population in a
scratch SQLite database, builds the hub worker on an in-memory transport, and hands it the same requests
`renkei bench --phase hub` publishes (one person each), or chunks of PER people (the bulk inquiry's
outbound half), in batches of BATCH deliveries. It prints one JSON object: for each round its CPU seconds
(``time.process_time``), wall seconds, acknowledgements and SQL statements (an ``executemany`` counts
once), and the CPU microseconds per message and per person. Take the minimum over rounds and runs: the
noise from other work only ever adds time.

    PYTHONPATH=$PWD .venv/bin/python scripts/worker_cpu.py MESSAGES [BATCH [ROUNDS [PER]]]
    PYTHONPATH=$PWD .venv/bin/python scripts/worker_cpu.py 1000 200 5 1     # single-person requests
    PYTHONPATH=$PWD .venv/bin/python scripts/worker_cpu.py 10 10 4 1000     # chunks of 1,000 people

Used for docs/performance.md, round two; nothing in the test suite runs it.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

import hub
from adapters.pension import SURVIVAL_CHECK_PURPOSE
from contracts.envelope import new_envelope
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import SurvivalInquiryRecord, SurvivalInquiryRequested
from contracts.registry import encode, payload_dict
from hub.demo.deployment import local_deployment
from hub.demo.survival import next_payment_cycle
from hub.infra.memory.transport import InMemoryTransport
from hub.ports.transport import Delivery, Disposition
from hub.settings import Settings
from tests._shared_transport import shared

PREFIX = "wcpu"


def main(argv: list[str]) -> None:
    """Run the rounds and print the JSON summary."""
    messages = int(argv[0])
    batch = int(argv[1]) if len(argv) > 1 else 200
    rounds = int(argv[2]) if len(argv) > 2 else 1
    per = int(argv[3]) if len(argv) > 3 else 1
    transport = InMemoryTransport()
    deployment = local_deployment(
        Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="renkei-worker-cpu-")) / "var", exchange_prefix=PREFIX
        ),
        transports=shared(transport),
        configure_logs=False,
    )
    deployment.prepare()
    people = messages * rounds * per
    population = deployment.population(people)
    deployment.enrol_population(population, people)
    worker = deployment.hub_worker(transport)
    cycle, today = next_payment_cycle(date.today()), date.today()
    statements = [0]

    @event.listens_for(Engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        statements[0] += 1

    def deliveries(first: int) -> list[Delivery]:
        out = []
        for index in range(first, first + messages):
            payload = SurvivalInquiryRequested(
                chunk=ChunkInfo(batch_id=f"w-{index}", chunk_index=0, chunk_count=1, total_records=per),
                cycle=cycle,
                as_of=today,
                records=tuple(
                    SurvivalInquiryRecord(
                        record_seq=j + 1, usage_number=population.usage_number(index * per + j)
                    )
                    for j in range(per)
                ),
            )
            envelope = new_envelope(
                message_type="pension.survival_inquiry.requested",
                schema_version=1,
                source="pension",
                actor="federation",
                destination="hub",
                purpose=SURVIVAL_CHECK_PURPOSE,
                payload=payload_dict(payload),
            )
            out.append(
                Delivery(
                    queue=f"{PREFIX}.hub.ingress",
                    body=encode(envelope),
                    message_id=str(envelope.message_id),
                    message_type=envelope.message_type,
                    correlation_id=str(envelope.correlation_id),
                    headers={},
                    redelivered=False,
                    delivery_tag=index,
                    user_id=f"{PREFIX}-adapter-pension",  # as the broker proves the pension adapter
                )
            )
        return out

    results = []
    for round_ in range(rounds):
        batches = deliveries(round_ * messages)
        acks = 0
        statements[0] = 0
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, messages, batch):
            acks += sum(d is Disposition.ACK for d in worker(batches[start : start + batch]))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        results.append(
            {"cpu_s": round(cpu, 3), "wall_s": round(wall, 3), "acks": acks, "statements": statements[0]}
        )
    with deployment.uow_factory()() as uow:
        unsent = len(uow.outbox.pending(10**6, older_than=timedelta(0)))
    deployment.close()
    print(
        json.dumps(
            {
                "code": hub.__file__,
                "messages": messages,
                "batch": batch,
                "per_message": per,
                "rounds": results,
                "cpu_us_per_message": [round(r["cpu_s"] / messages * 1e6) for r in results],
                "cpu_us_per_person": [round(r["cpu_s"] / messages / per * 1e6) for r in results],
                "outbox_unsent": unsent,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])

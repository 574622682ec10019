"""Throughput of the access record: records written per second in batches, and verified per second.

Each batch is one transaction, as in the hub: lock the chain head, insert the records and their subjects,
move the head, commit. Run it on a scratch database: it creates the audit tables if they are missing, and
signs with a throw-away key, so that checkpoints of an earlier run no longer verify::

    python -m hub.bench.audit sqlite:///var/bench.db 100000 500
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from typing import Any

from hub.infra.audit.checkpoint import write_checkpoint
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.audit.verify import verify
from hub.infra.crypto.signing import Ed25519Signer
from hub.infra.db.engine import make_engine
from hub.infra.db.tables.audit import AUDIT_TABLES
from hub.infra.db.tables.metadata import metadata
from hub.ports.audit import AccessRecord, AuditAction

__all__ = ["bench_audit"]


def _records(n: int, subjects: int) -> list[AccessRecord]:
    correlation = uuid.uuid4().hex
    return [
        AccessRecord(
            actor="hub.worker",
            action=AuditAction.ENRICHED,
            message_id=uuid.uuid4().hex,
            correlation_id=correlation,
            message_type="survival.inquiry.requested",
            source="pension",
            destination="jlis",
            purpose="survival_check",
            legal_basis="住民基本台帳法 第30条の9",
            subjects=tuple(f"mn1.bench{i:08d}{k}" for k in range(subjects)),
            details={"chunk": str(i)},
        )
        for i in range(n)
    ]


def bench_audit(url: str, n: int, batch: int, *, subjects_per_record: int = 2) -> dict[str, Any]:
    """Append ``n`` records in transactions of ``batch``, checkpoint, verify; report the rates.

    Returns:
        ``backend``, ``records``, ``batch``, ``subjects_per_record``, ``seconds``, ``records_per_second``,
        ``subject_rows_per_second``, ``verify_seconds``, ``verified_records``, ``verify_records_per_second``
        and ``verify_ok``.
    """
    if n < 1 or batch < 1:
        raise ValueError("n and batch are positive")
    engine = make_engine(url)
    try:
        metadata.create_all(engine, tables=list(AUDIT_TABLES))
        chain = ChainWriter("audit benchmark")
        records = _records(n, subjects_per_record)
        started = time.perf_counter()
        for start in range(0, n, batch):
            with engine.begin() as conn:
                SqlAuditLog(conn, chain).append(records[start : start + batch])
        seconds = time.perf_counter() - started
        signer = Ed25519Signer.generate()
        with engine.begin() as conn:
            write_checkpoint(conn, signer)
        started = time.perf_counter()
        with engine.connect() as conn, conn.begin():
            report = verify(conn, signer.public_key)
        verify_seconds = time.perf_counter() - started
        return {
            "backend": engine.dialect.name,
            "records": n,
            "batch": batch,
            "subjects_per_record": subjects_per_record,
            "seconds": round(seconds, 3),
            "records_per_second": round(n / seconds),
            "subject_rows_per_second": round(n * subjects_per_record / seconds),
            "verify_seconds": round(verify_seconds, 3),
            "verified_records": report.records_checked,
            "verify_records_per_second": round(report.records_checked / verify_seconds),
            "verify_ok": report.ok,
        }
    finally:
        engine.dispose()


def main() -> None:
    """``python -m hub.bench.audit URL N BATCH``: print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("batch", type=int)
    parser.add_argument("--subjects", type=int, default=2)
    args = parser.parse_args()
    print(json.dumps(bench_audit(args.url, args.n, args.batch, subjects_per_record=args.subjects)))


if __name__ == "__main__":  # pragma: no cover
    main()

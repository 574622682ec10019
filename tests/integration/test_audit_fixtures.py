"""Helpers shared by the access-record integration tests (no tests here).

Each backend gets a fresh database per test class: an SQLite file in a temporary directory, or a new
PostgreSQL database created with the test role (which has CREATEDB) and dropped afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from hub.infra.db.engine import make_engine
from hub.infra.db.scratch import scratch_database
from hub.infra.db.tables.audit import AUDIT_TABLES
from hub.infra.db.tables.metadata import metadata
from hub.ports.audit import AccessRecord, AuditAction, Outcome

T0 = datetime(2026, 4, 1, 0, 0, 0, 123456, tzinfo=UTC)


def pg_url() -> str:
    """The test server URL; skips (or fails under CI) when it is not set."""
    url = os.environ.get("RENKEI_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("RENKEI_TEST_PG_URL is not set (required in CI)")
        pytest.skip("RENKEI_TEST_PG_URL is not set")
    return url


@contextmanager
def fresh_pg_database(prefix: str) -> Iterator[str]:
    """Create a new database on the test server; yield its URL; drop it."""
    with scratch_database(pg_url(), prefix) as url:
        yield url


@contextmanager
def backend_engine(backend: str, tmp: Path) -> Iterator[Engine]:
    """An engine on a fresh database of ``backend`` (``sqlite`` or ``postgresql``)."""
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp / 'audit.db'}")
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with fresh_pg_database("renkei_audit") as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def reset_tables(engine: Engine) -> None:
    """Drop and re-create the audit tables (each test starts empty)."""
    metadata.drop_all(engine, tables=list(AUDIT_TABLES))
    metadata.create_all(engine, tables=list(AUDIT_TABLES))


def make_record(i: int, *, subjects: tuple[str, ...] | None = None, **overrides: Any) -> AccessRecord:
    """A varied, fully populated record (Japanese text included), number ``i``."""
    actions = list(AuditAction)
    values: dict[str, Any] = {
        "actor": f"hub.worker-{i % 3}",
        "action": actions[i % len(actions)],
        "message_id": f"msg-{i:06d}",
        "correlation_id": f"corr-{i // 4:04d}",
        "message_type": "survival.inquiry.requested",
        "source": "pension",
        "destination": "jlis",
        "purpose": "生存確認",
        "legal_basis": "住民基本台帳法 第30条の9",
        "subjects": subjects if subjects is not None else (f"tkA_subject{i % 5}", f"tkA_other{i}"),
        "outcome": Outcome.OK if i % 7 else Outcome.FAILED,
        "reason": f"理由 {i}",
        "at": T0 + timedelta(seconds=i),
        "details": {"chunk": str(i), "stage": "enrich"},
    }
    values.update(overrides)
    return AccessRecord(**values)

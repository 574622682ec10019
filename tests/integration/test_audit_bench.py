"""The access record benchmark runs and reports rates (small n; the figures themselves are not asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.bench.audit import bench_audit
from tests.integration.test_audit_fixtures import fresh_pg_database

KEYS = {
    "backend",
    "records",
    "batch",
    "subjects_per_record",
    "seconds",
    "records_per_second",
    "subject_rows_per_second",
    "verify_seconds",
    "verified_records",
    "verify_records_per_second",
    "verify_ok",
}


def test_bench_on_sqlite(tmp_path: Path) -> None:
    result = bench_audit(f"sqlite:///{tmp_path / 'bench.db'}", 120, 50)
    assert set(result) == KEYS
    assert (result["backend"], result["records"], result["verified_records"], result["verify_ok"]) == (
        "sqlite",
        120,
        120,
        True,
    )
    assert result["records_per_second"] > 0


@pytest.mark.postgres
def test_bench_on_postgresql() -> None:
    with fresh_pg_database("renkei_audit_bench") as url:
        result = bench_audit(url, 120, 50)
    assert (result["backend"], result["verified_records"], result["verify_ok"]) == ("postgresql", 120, True)


def test_bench_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        bench_audit(f"sqlite:///{tmp_path / 'bench.db'}", 0, 10)

"""The simulated pension benefit system: streams both ways, never hides a duplicate."""

from __future__ import annotations

import hashlib
import json
import os
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from adapters.pension.directory import ExchangeDirectory
from adapters.pension.errors import MalformedPensionFile, Reason
from adapters.pension.simulator import PensionSystemSimulator
from adapters.pension.wire import OUTCOME_COLUMNS_V1, OutcomeManifest, dump_manifest, encode_rows
from contracts.usage_number import UsageNumber, UsageNumberKind

CYCLE, AS_OF = "2026-12", date(2026, 11, 20)


def usages(count: int) -> Iterator[UsageNumber]:
    for n in range(count):
        yield UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"{n:010d}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


@pytest.fixture
def pension(root: Path) -> PensionSystemSimulator:
    return PensionSystemSimulator(root)


def test_a_request_file_is_written_the_documented_way(root, pension):
    path = pension.drop_survival_request(usages(3), cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    assert sorted(os.listdir(root / "inbound")) == [path.name, path.name + ".manifest.json"]
    content = path.read_bytes()
    assert content == (
        b"record_seq,usage_number_kind,usage_number\n"
        b"1,basic_pension,0000000000\n2,basic_pension,0000000001\n3,basic_pension,0000000002\n"
    )
    manifest = json.loads((root / "inbound" / (path.name + ".manifest.json")).read_text(encoding="utf-8"))
    assert manifest == {
        "format_version": 1,
        "kind": "survival_inquiry",
        "file_name": "survival_inquiry.b1.csv",
        "record_count": 3,
        "sha256": hashlib.sha256(content).hexdigest(),
        "cycle": CYCLE,
        "as_of": "2026-11-20",
        "batch_id": "b1",
    }


def test_an_invalid_batch_id_writes_nothing(root, pension):
    with pytest.raises(MalformedPensionFile):
        pension.drop_survival_request(usages(1), cycle=CYCLE, as_of=AS_OF, batch_id="no spaces")
    assert os.listdir(root / "inbound") == []


def write_outcome_file(root: Path, name: str, rows: list[list[str]], *, chunk_index: int = 0) -> None:
    # A format version 1 file (written before actors and not_permitted_reason): still read as it was.
    content = b"".join(encode_rows(OUTCOME_COLUMNS_V1, rows))
    manifest = OutcomeManifest(
        format_version=1,
        kind="survival_outcomes",
        file_name=name,
        record_count=len(rows),
        sha256=hashlib.sha256(content).hexdigest(),
        cycle=CYCLE,
        batch_id="b1",
        chunk_index=chunk_index,
        chunk_count=2,
        answered_by="jlis",
    )
    (root / "outbound" / name).write_bytes(content)
    (root / "outbound" / (name + ".manifest.json")).write_bytes(dump_manifest(manifest))


def alive_row(seq: int) -> list[str]:
    return [str(seq), "basic_pension", f"{seq:010d}", "alive", "continue_payment"] + [""] * 8 + ["false", ""]


def test_duplicates_are_returned_not_hidden(root, pension):
    write_outcome_file(root, "survival_outcomes.b1.000000.jlis.csv", [alive_row(1), alive_row(2)])
    write_outcome_file(
        root, "survival_outcomes.b1.000001.jlis.csv", [alive_row(2), alive_row(3)], chunk_index=1
    )
    rows = pension.read_outcomes("b1")
    assert [r.record_seq for r in rows] == [1, 2, 2, 3]
    assert pension.completed("b1") == 3
    assert pension.read_outcomes("other") == []


def test_an_outcome_file_without_its_manifest_is_not_read(root, pension):
    write_outcome_file(root, "survival_outcomes.b1.000000.jlis.csv", [alive_row(1)])
    (root / "outbound" / "survival_outcomes.b1.000000.jlis.csv.manifest.json").unlink()
    assert pension.read_outcomes("b1") == []
    assert pension.completed("b1") == 0


def test_a_corrupt_outcome_file_is_an_error_not_a_partial_read(root, pension):
    write_outcome_file(root, "survival_outcomes.b1.000000.jlis.csv", [alive_row(1), alive_row(2)])
    path = root / "outbound" / "survival_outcomes.b1.000000.jlis.csv"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(MalformedPensionFile) as caught:
        pension.read_outcomes("b1")
    assert caught.value.reason is Reason.CHECKSUM_MISMATCH


def test_a_large_request_is_written_in_bounded_memory(root, pension):
    # 50,000 rows from a generator: held as objects they would take tens of megabytes; streamed, the
    # peak stays at a few buffers whatever the count.
    tracemalloc.start()
    try:
        path = pension.drop_survival_request(usages(50_000), cycle=CYCLE, as_of=AS_OF, batch_id="big")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024
    assert path.stat().st_size > 1_000_000

"""The pension exchange directory: only complete files are taken, bad ones are refused whole."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pension.directory import ExchangeDirectory, InboundFile, Rejection
from adapters.pension.errors import AcknowledgeRefused, Reason
from adapters.pension.simulator import PensionSystemSimulator
from contracts.errors import ConfigurationError
from contracts.individual_number import synthetic_individual_number
from contracts.usage_number import UsageNumber, UsageNumberKind

HEADER = b"record_seq,usage_number_kind,usage_number\n"
GOOD = HEADER + b"1,basic_pension,1000000001\n2,pension_certificate,A-2\n3,basic_pension,1000000003\n"


def usage(n: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"{n:010d}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "pension"


@pytest.fixture
def gateway(root: Path) -> ExchangeDirectory:
    return ExchangeDirectory(root)


@pytest.fixture
def pension(root: Path, gateway: ExchangeDirectory) -> PensionSystemSimulator:
    return PensionSystemSimulator(root)


def listing(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_directories_are_created_owner_only(root, gateway):
    for name in ("", "inbound", "outbound", "processed", "rejected"):
        assert stat.S_IMODE((root / name).stat().st_mode) == 0o700


def test_a_directory_open_to_others_is_refused(tmp_path):
    (tmp_path / "x" / "inbound").mkdir(parents=True, mode=0o755)
    os.chmod(tmp_path / "x" / "inbound", 0o755)
    with pytest.raises(ConfigurationError, match="chmod 700"):
        ExchangeDirectory(tmp_path / "x")


def test_a_complete_file_is_taken_and_moves_to_processed_when_acknowledged(gateway, pension):
    pension.drop_survival_request(
        [usage(i) for i in range(5)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1"
    )
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    assert taken.manifest.record_count == 5
    assert [r.record_seq for r in gateway.rows(taken)] == [1, 2, 3, 4, 5]
    gateway.mark_processed(taken)
    gateway.mark_processed(taken)  # idempotent
    assert listing(gateway.inbound) == []
    assert listing(gateway.processed) == ["survival_inquiry.b1.csv", "survival_inquiry.b1.csv.manifest.json"]
    assert gateway.take_next() is None


def test_a_file_without_its_manifest_is_left_alone(gateway, pension):
    (gateway.inbound / "survival_inquiry.b1.csv").write_bytes(GOOD)
    (gateway.inbound / "survival_inquiry.b2.csv.tmp").write_bytes(GOOD)
    assert gateway.take_next() is None
    assert listing(gateway.inbound) == ["survival_inquiry.b1.csv", "survival_inquiry.b2.csv.tmp"]
    assert listing(gateway.rejected) == []


def test_the_producer_protocol_makes_the_file_visible_only_when_complete(gateway, pension):
    path = pension.drop_survival_request([usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.rename(manifest.with_name(manifest.name + ".tmp"))  # as if the manifest were still being written
    assert gateway.take_next() is None
    manifest.with_name(manifest.name + ".tmp").rename(manifest)
    assert isinstance(gateway.take_next(), InboundFile)


def refused(
    gateway: ExchangeDirectory, name: str = "survival_inquiry.b1.csv"
) -> tuple[Rejection, dict[str, Any]]:
    result = gateway.take_next()
    assert isinstance(result, Rejection), result
    assert name not in listing(gateway.inbound)
    assert (name + ".manifest.json") not in listing(gateway.inbound)
    stored = gateway.rejected / result.stored_as
    assert stored.exists()
    assert (gateway.rejected / (result.stored_as + ".manifest.json")).exists()
    report = json.loads((gateway.rejected / (result.stored_as + ".report.json")).read_text(encoding="utf-8"))
    assert report["reason"] == result.reason.value
    assert report["refused"] == "whole file; no record was taken"
    assert report["action"]
    assert report["problem"]
    assert gateway.take_next() is None
    return result, report


def test_a_checksum_mismatch_is_refused_whole(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD, sha256="0" * 64)
    rejection, report = refused(gateway)
    assert rejection.reason is Reason.CHECKSUM_MISMATCH
    assert "truncated" in report["action"]


def test_a_truncated_file_is_refused_whole(gateway, pension):
    full_sha = hashlib.sha256(GOOD).hexdigest()
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD[:-9], sha256=full_sha, record_count=3)
    rejection, _ = refused(gateway)
    assert rejection.reason is Reason.CHECKSUM_MISMATCH


def test_a_record_count_mismatch_is_refused_whole(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD, record_count=4)
    rejection, report = refused(gateway)
    assert rejection.reason is Reason.RECORD_COUNT_MISMATCH
    assert "says 4 records" in report["problem"]
    assert "has 3" in report["problem"]


def test_a_non_utf8_file_is_refused_whole_with_its_line(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", HEADER + b"1,basic_pension,10000\xff01\n")
    rejection, report = refused(gateway)
    assert (rejection.reason, report["line"]) == (Reason.NOT_UTF8, 2)


def test_a_row_with_an_individual_number_anywhere_is_refused_as_a_policy_violation(gateway, pension):
    number = synthetic_individual_number().reveal()
    content = GOOD + f'4,basic_pension,1000000004,"note {number}"\n'.encode()
    pension.drop_raw_file("survival_inquiry.b1.csv", content)
    rejection, report = refused(gateway)
    assert (rejection.reason, rejection.line) == (Reason.INDIVIDUAL_NUMBER, 5)
    assert "POLICY" in report["action"]
    # The report names where, never the value.
    assert number not in (gateway.rejected / (rejection.stored_as + ".report.json")).read_text(
        encoding="utf-8"
    )


def test_an_individual_number_as_a_usage_number_is_refused(gateway, pension):
    number = synthetic_individual_number().reveal()
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD + f"4,basic_pension,{number}\n".encode())
    rejection, _ = refused(gateway)
    assert rejection.reason is Reason.INDIVIDUAL_NUMBER


def test_the_policy_violation_is_reported_even_when_other_rules_break_first(gateway, pension):
    number = synthetic_individual_number().reveal()
    content = HEADER + b"x,bad\n" + f"9,basic_pension,{number}\n".encode()
    pension.drop_raw_file("survival_inquiry.b1.csv", content, sha256="0" * 64)
    rejection, _ = refused(gateway)
    assert (rejection.reason, rejection.line) == (Reason.INDIVIDUAL_NUMBER, 3)


def test_a_missing_column_is_refused_whole(gateway, pension):
    content = b"record_seq,usage_number_kind\n1,basic_pension\n"
    pension.drop_raw_file("survival_inquiry.b1.csv", content)
    rejection, report = refused(gateway)
    assert rejection.reason is Reason.BAD_HEADER
    assert "missing: usage_number" in report["problem"]


def test_a_short_row_is_refused_whole(gateway, pension):
    pension.drop_raw_file(
        "survival_inquiry.b1.csv", HEADER + b"1,basic_pension,1000000001\n2,basic_pension\n"
    )
    rejection, _ = refused(gateway)
    assert (rejection.reason, rejection.line) == (Reason.FIELD_COUNT, 3)


def test_full_width_digits_in_a_usage_number_are_refused_whole(gateway, pension):
    content = HEADER + "1,basic_pension,１２３４５６７８９０\n".encode()
    pension.drop_raw_file("survival_inquiry.b1.csv", content)
    rejection, report = refused(gateway)
    assert (rejection.reason, rejection.line, rejection.column) == (Reason.NON_ASCII, 2, "usage_number")
    assert "half-width" in report["action"]


@pytest.mark.parametrize(
    ("content", "fields", "reason"),
    [
        (b"\xef\xbb\xbf" + GOOD, {}, Reason.BYTE_ORDER_MARK),
        (HEADER, {}, Reason.NO_RECORDS),
        (GOOD + b"\n", {"record_count": 3}, Reason.EMPTY_LINE),
        (HEADER + b"2,basic_pension,1\n1,basic_pension,2\n", {}, Reason.RECORD_SEQ_ORDER),
        (HEADER + b"1,basic_pension,1\n1,basic_pension,2\n", {}, Reason.RECORD_SEQ_ORDER),
        (HEADER + b'1,basic_pension,"1\n', {}, Reason.BAD_CSV),
        (HEADER + b"1," + b"9" * 70_000 + b"\n", {}, Reason.LINE_TOO_LONG),
        (GOOD, {"kind": "survival_outcomes"}, Reason.MANIFEST_INVALID),
        (GOOD, {"file_name": "other.csv"}, Reason.MANIFEST_MISMATCH),
        (GOOD, {"cycle": "2026-13"}, Reason.MANIFEST_INVALID),
        (GOOD, {"extra": 1}, Reason.MANIFEST_INVALID),
    ],
)
def test_other_broken_files_are_refused_whole(gateway, pension, content, fields, reason):
    pension.drop_raw_file("survival_inquiry.b1.csv", content, **fields)
    rejection, _ = refused(gateway)
    assert rejection.reason is reason


def test_an_unparseable_manifest_is_refused(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD, manifest=b"{not json")
    rejection, _ = refused(gateway)
    assert rejection.reason is Reason.MANIFEST_INVALID


def test_a_file_name_with_an_individual_number_is_never_repeated(gateway, pension):
    number = synthetic_individual_number().reveal()
    name = f"survival_inquiry.{number}.csv"
    pension.drop_raw_file(name, GOOD)
    result = gateway.take_next()
    assert isinstance(result, Rejection)
    assert result.reason is Reason.INDIVIDUAL_NUMBER
    assert result.name.startswith("redacted-")
    assert all(number not in entry for entry in listing(gateway.rejected))
    assert listing(gateway.inbound) == []


def test_a_symbolic_link_is_refused(gateway, tmp_path, pension):
    target = tmp_path / "elsewhere.csv"
    target.write_bytes(GOOD)
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD)
    (gateway.inbound / "survival_inquiry.b1.csv").unlink()
    (gateway.inbound / "survival_inquiry.b1.csv").symlink_to(target)
    rejection, _ = refused(gateway)
    assert rejection.reason is Reason.NOT_REGULAR_FILE
    assert target.read_bytes() == GOOD


def test_an_unsupported_name_is_refused(gateway, pension):
    pension.drop_raw_file("request.txt", GOOD, file_name="request.txt")
    rejection, _ = refused(gateway, "request.txt")
    assert rejection.reason is Reason.UNSUPPORTED_NAME


def test_bad_files_do_not_hold_up_good_ones(gateway, pension):
    pension.drop_raw_file("survival_inquiry.a.csv", GOOD, record_count=9, batch_id="a")
    pension.drop_survival_request([usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b")
    first, second = gateway.take_next(), gateway.take_next()
    assert isinstance(first, Rejection)
    assert isinstance(second, InboundFile)
    assert second.manifest.batch_id == "b"


def test_a_rejected_name_can_be_refused_again_without_overwriting_the_first_report(gateway, pension):
    for _ in range(2):
        pension.drop_raw_file("survival_inquiry.b1.csv", GOOD, record_count=9)
        assert isinstance(gateway.take_next(), Rejection)
    stored = sorted(r["stored_as"] for r in gateway.rejection_reports())
    assert stored == ["survival_inquiry.b1.1.csv", "survival_inquiry.b1.csv"]


def test_an_already_processed_file_dropped_again_is_refused(gateway, pension):
    usages = [usage(1), usage(2)]
    pension.drop_survival_request(usages, cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    gateway.mark_processed(taken)
    pension.drop_survival_request(usages, cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    assert refused(gateway)[0].reason is Reason.ALREADY_PROCESSED


def test_a_reused_batch_id_or_name_is_refused(gateway, pension):
    pension.drop_survival_request([usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    gateway.mark_processed(taken)
    pension.drop_survival_request(
        [usage(2)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1", file_name="another.csv"
    )
    assert refused(gateway, "another.csv")[0].reason is Reason.BATCH_ID_REUSED
    pension.drop_survival_request(
        [usage(2)],
        cycle="2026-12",
        as_of=date(2026, 11, 20),
        batch_id="b2",
        file_name="survival_inquiry.b1.csv",
    )
    assert refused(gateway)[0].reason is Reason.NAME_ALREADY_USED


def test_an_interrupted_acknowledgement_is_finished_on_the_next_look(gateway, pension):
    pension.drop_survival_request([usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    (gateway.inbound / taken.name).rename(gateway.processed / taken.name)  # crash after the first rename
    assert gateway.take_next() is None
    assert listing(gateway.inbound) == []
    assert len(listing(gateway.processed)) == 2


def test_a_manifest_without_its_data_file_is_refused(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD)
    (gateway.inbound / "survival_inquiry.b1.csv").unlink()
    rejection = gateway.take_next()
    assert isinstance(rejection, Rejection)
    assert rejection.reason is Reason.ORPHAN_MANIFEST
    assert listing(gateway.inbound) == []


def test_a_file_changed_after_it_was_taken_is_not_acknowledged(gateway, pension):
    path = pension.drop_survival_request([usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b1")
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    path.write_bytes(GOOD)
    with pytest.raises(AcknowledgeRefused):
        gateway.mark_processed(taken)
    assert path.exists()


def test_files_renkei_writes_are_owner_only(gateway, pension):
    pension.drop_raw_file("survival_inquiry.b1.csv", GOOD, record_count=7)
    rejection = gateway.take_next()
    assert isinstance(rejection, Rejection)
    report = gateway.rejected / (rejection.stored_as + ".report.json")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    dropped = pension.drop_survival_request(
        [usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id="b2"
    )
    assert stat.S_IMODE(dropped.stat().st_mode) == 0o600


@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=300), count=st.integers(min_value=0, max_value=4))
def test_any_dropped_bytes_are_either_taken_or_refused_whole(body, count):
    with tempfile.TemporaryDirectory() as tmp:
        gateway = ExchangeDirectory(Path(tmp) / "pension")
        pension = PensionSystemSimulator(Path(tmp) / "pension")
        pension.drop_raw_file("survival_inquiry.x.csv", HEADER + body, record_count=count)
        result = gateway.take_next()
        assert isinstance(result, InboundFile | Rejection)
        if isinstance(result, InboundFile):
            assert len(list(gateway.rows(result))) == count
        else:
            assert listing(gateway.inbound) == []


def test_moved_request_files_are_made_owner_only(gateway, pension):
    for batch in ("a", "b"):
        path = pension.drop_survival_request(
            [usage(1)], cycle="2026-12", as_of=date(2026, 11, 20), batch_id=batch
        )
        os.chmod(path, 0o644)
    (gateway.inbound / "survival_inquiry.b.csv").write_bytes(GOOD)  # refused: checksum
    os.chmod(gateway.inbound / "survival_inquiry.b.csv", 0o644)
    taken = gateway.take_next()
    assert isinstance(taken, InboundFile)
    gateway.mark_processed(taken)
    assert isinstance(gateway.take_next(), Rejection)
    for directory in (gateway.processed, gateway.rejected):
        for name in os.listdir(directory):
            assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600, name

"""The pension exchange's file formats: round trips, manifests, and a parser that fails only one way."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.pension._reader import check_integrity, iter_rows
from adapters.pension.errors import (
    IndividualNumberInFile,
    MalformedPensionFile,
    PensionFileProblem,
    Reason,
)
from adapters.pension.mapping import outcome_record, outcome_row
from adapters.pension.wire import (
    INQUIRY_COLUMNS,
    OUTCOME_COLUMNS,
    InquiryManifest,
    InquiryRow,
    OutcomeManifest,
    OutcomeRow,
    dump_manifest,
    encode_rows,
    format_inquiry_row,
    format_outcome_row,
    parse_inquiry_row,
    parse_manifest,
    parse_outcome_row,
)
from contracts.individual_number import synthetic_individual_number
from contracts.messages.common import Address
from contracts.messages.survival import (
    MoveKind,
    PensionAction,
    SurvivalOutcome,
    SurvivalOutcomeRecord,
    UnmatchedReason,
)
from contracts.usage_number import UsageNumber, UsageNumberKind


def _csv(header, rows) -> bytes:
    return b"".join(encode_rows(header, rows))


def _read(content: bytes, columns, parse, count: int | None = None):
    sha = hashlib.sha256(content).hexdigest()
    check_integrity(io.BytesIO(content), expected_sha256=sha)
    expected = count if count is not None else len(content.splitlines()) - 1
    return list(
        iter_rows(
            io.BytesIO(content), columns=columns, parse=parse, expected_count=expected, expected_sha256=sha
        )
    )


def _usage(value: str, kind: UsageNumberKind = UsageNumberKind.BASIC_PENSION) -> UsageNumber:
    return UsageNumber(kind=kind, value=value)


def test_inquiry_rows_round_trip():
    rows = [
        InquiryRow(1, _usage("1234567890")),
        InquiryRow(2, _usage("A-12-345", UsageNumberKind.PENSION_CERTIFICATE)),
        InquiryRow(10, _usage("d-1", UsageNumberKind.DEPENDANT)),
    ]
    content = _csv(INQUIRY_COLUMNS, (format_inquiry_row(r) for r in rows))
    assert content.splitlines()[0] == b"record_seq,usage_number_kind,usage_number"
    assert _read(content, INQUIRY_COLUMNS, parse_inquiry_row) == rows


def test_crlf_line_ends_are_accepted():
    content = b"record_seq,usage_number_kind,usage_number\r\n1,basic_pension,1234567890\r\n"
    assert _read(content, INQUIRY_COLUMNS, parse_inquiry_row) == [InquiryRow(1, _usage("1234567890"))]


def _full_outcome() -> SurvivalOutcomeRecord:
    return SurvivalOutcomeRecord(
        record_seq=7,
        usage_number=_usage("A-1", UsageNumberKind.PENSION_CERTIFICATE),
        outcome=SurvivalOutcome.MOVED,
        actions=(PensionAction.UPDATE_ADDRESS, PensionAction.HOLD_UNTIL_MOVE_IN),
        death_date=date(2026, 10, 1),
        move_kind=MoveKind.MOVED_IN,
        moved_on=date(2026, 9, 30),
        new_address=Address(
            text='東京都千代田区1-2-3, "コーポ" 101', postal_code="1000001", municipality_code="13101"
        ),
        new_name="山田\n花子",
        needs_document=True,
        unmatched_reason=UnmatchedReason.ABROAD,
    )


@pytest.mark.parametrize(
    "record",
    [
        _full_outcome(),
        SurvivalOutcomeRecord(
            record_seq=0,
            usage_number=_usage("1234567890"),
            outcome=SurvivalOutcome.ALIVE,
            actions=(PensionAction.CONTINUE_PAYMENT,),
        ),
        SurvivalOutcomeRecord(
            record_seq=3,
            usage_number=_usage("1234567890"),
            outcome=SurvivalOutcome.MOVED,
            actions=(PensionAction.UPDATE_ADDRESS,),
            move_kind=MoveKind.MOVED_ABROAD,
            new_address=Address(text="abroad", abroad=True),
        ),
    ],
)
def test_outcome_records_round_trip_through_the_file(record):
    content = _csv(OUTCOME_COLUMNS, [format_outcome_row(outcome_row(record))])
    (row,) = _read(content, OUTCOME_COLUMNS, parse_outcome_row, count=1)
    assert isinstance(row, OutcomeRow)
    assert outcome_record(row) == record


def test_actions_are_joined_with_a_bar():
    content = _csv(OUTCOME_COLUMNS, [format_outcome_row(outcome_row(_full_outcome()))])
    assert b"update_address|hold_until_move_in" in content


def test_an_outcome_row_with_an_individual_number_is_refused_on_write():
    number = synthetic_individual_number().reveal()
    fields: dict[str, Any] = {  # unvalidated on purpose: model_construct builds what the contract refuses
        "record_seq": 1,
        "usage_number": _usage("1234567890"),
        "outcome": SurvivalOutcome.NAME_CHANGED,
        "actions": (PensionAction.REQUEST_NAME_DOCUMENTS,),
        "new_name": f"name {number}",
    }
    with pytest.raises(ValidationError):  # the contract refuses it first ...
        SurvivalOutcomeRecord(**fields)
    # ... and the writer refuses it again, should one ever get past the contract (defence in depth).
    record = SurvivalOutcomeRecord.model_construct(**fields)
    with pytest.raises(IndividualNumberInFile) as caught:
        format_outcome_row(outcome_row(record))
    assert caught.value.column == "new_name"
    assert number not in str(caught.value)


def test_manifests_round_trip_deterministically():
    inquiry = InquiryManifest(
        format_version=1,
        kind="survival_inquiry",
        file_name="survival_inquiry.b1.csv",
        record_count=3,
        sha256="a" * 64,
        cycle="2026-12",
        as_of=date(2026, 11, 20),
        batch_id="b1",
    )
    outcome = OutcomeManifest(
        format_version=1,
        kind="survival_outcomes",
        file_name="survival_outcomes.b1.000000.jlis.csv",
        record_count=3,
        sha256="b" * 64,
        cycle="2026-12",
        batch_id="b1",
        chunk_index=0,
        chunk_count=1,
        answered_by="jlis",
    )
    for manifest in (inquiry, outcome):
        raw = dump_manifest(manifest)
        assert dump_manifest(manifest) == raw
        assert parse_manifest(raw) == manifest


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff\xfe",
        b"not json",
        b"[]",
        b'{"format_version": 1}',
        b'{"format_version": "1", "kind": "survival_inquiry"}',
        b"{" + b" " * 20_000 + b"}",
    ],
)
def test_a_bad_manifest_is_a_wire_error_naming_no_value(raw):
    with pytest.raises(MalformedPensionFile) as caught:
        parse_manifest(raw)
    assert caught.value.reason is Reason.MANIFEST_INVALID


def test_a_manifest_with_an_individual_number_is_a_policy_violation():
    number = synthetic_individual_number().reveal()
    with pytest.raises(IndividualNumberInFile):
        parse_manifest(f'{{"batch_id": "{number}"}}'.encode())


@pytest.mark.parametrize(
    ("fields", "reason", "column"),
    [
        (["x", "basic_pension", "1"], Reason.BAD_FIELD, "record_seq"),
        (["-1", "basic_pension", "1"], Reason.BAD_FIELD, "record_seq"),
        (["1", "nope", "1"], Reason.BAD_FIELD, "usage_number_kind"),
        (["1", "basic_pension", "１２３"], Reason.NON_ASCII, "usage_number"),
        (["1", "basic_pension", "12 3"], Reason.BAD_FIELD, "usage_number"),
        (["1", "basic_pension", ""], Reason.BAD_FIELD, "usage_number"),
        (["1", "basic_pension"], Reason.FIELD_COUNT, None),
        (["1", "basic_pension", "1", "extra"], Reason.FIELD_COUNT, None),
    ],
)
def test_bad_inquiry_fields_name_their_column(fields, reason, column):
    with pytest.raises(MalformedPensionFile) as caught:
        parse_inquiry_row(fields, 5)
    assert (caught.value.reason, caught.value.line, caught.value.column) == (reason, 5, column)


def test_full_width_individual_number_in_a_field_is_a_policy_violation():
    digits = synthetic_individual_number().reveal()
    full_width = digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    with pytest.raises(IndividualNumberInFile):
        parse_inquiry_row(["1", "basic_pension", full_width], 2)


_HEADER = b"record_seq,usage_number_kind,usage_number\n"


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=400), count=st.integers(min_value=0, max_value=5), with_header=st.booleans())
def test_arbitrary_bytes_fail_only_with_the_adapters_errors(body, count, with_header):
    content = (_HEADER if with_header else b"") + body
    sha = hashlib.sha256(content).hexdigest()
    for columns, parse in ((INQUIRY_COLUMNS, parse_inquiry_row), (OUTCOME_COLUMNS, parse_outcome_row)):
        try:
            check_integrity(io.BytesIO(content), expected_sha256=sha)
            rows = iter_rows(
                io.BytesIO(content), columns=columns, parse=parse, expected_count=count, expected_sha256=sha
            )
            for _ in rows:
                pass
        except PensionFileProblem:
            pass


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list('0123456789,"\r\n abc_-|:０１９\x00é')), max_size=300))
def test_arbitrary_csv_like_text_fails_only_with_the_adapters_errors(text):
    content = _HEADER + text.encode()
    sha = hashlib.sha256(content).hexdigest()
    try:
        check_integrity(io.BytesIO(content), expected_sha256=sha)
        for _ in iter_rows(
            io.BytesIO(content),
            columns=INQUIRY_COLUMNS,
            parse=parse_inquiry_row,
            expected_count=text.count("\n"),
            expected_sha256=sha,
        ):
            pass
    except PensionFileProblem:
        pass

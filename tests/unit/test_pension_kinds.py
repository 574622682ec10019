"""The pension adapter's new kinds: number acquisition requests and outcomes, dependants' declarations.

(Unit tests on a temporary directory; no broker.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pension import ExchangeDirectory, PensionAdapter, Reason
from adapters.pension.acquisition import (
    ACQUISITION_COLUMNS,
    NUMBER_ACQUISITION_PURPOSE,
    AcquisitionRow,
    format_acquisition_row,
    parse_acquisition_row,
)
from adapters.pension.dependants import (
    DECLARATION_COLUMNS,
    DEPENDANTS_PURPOSE,
    DeclarationRow,
    DependantEntry,
    format_declaration_row,
    parse_declaration_row,
)
from adapters.pension.errors import IndividualNumberInFile, MalformedPensionFile
from adapters.pension.simulator_kinds import PensionRequestsSimulator, distinct_count
from contracts.envelope import new_envelope
from contracts.errors import ConfigurationError
from contracts.individual_number import synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.dependants import (
    DeclarationAck,
    DeclarationStatus,
    DependantRelation,
    DependantsDeclarationAcknowledged,
    DependantsDeclarationSubmitted,
    dependant_number_field,
)
from contracts.messages.jlis_acquisition import (
    AcquisitionOutcomeRecord,
    AcquisitionStatus,
    HoldReason,
    NumberAcquisitionOutcomes,
    NumberAcquisitionRequested,
    Sex,
)
from contracts.redaction import find_numbers
from contracts.registry import decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.keyring import generate_keyring
from tests.pension_files import drain

KEYRING = generate_keyring()


def new_usage(n: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"N{n:010d}")


def dependant_key(n: int, k: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D{n:010d}-{k}")


def entitlement(seq: int, *, sex: Sex | None = Sex.FEMALE, address: str = "東京都新宿区本町一丁目２番３号"):
    return AcquisitionRow(
        seq, new_usage(seq), "佐藤\u3000和子", date(1961, 4, 2), address, sex, "サトウ\u3000カズコ"
    )


def declaration(seq: int, dependants: int = 2) -> DeclarationRow:
    relations = [DependantRelation.SPOUSE, DependantRelation.CHILD, DependantRelation.PARENT]
    return DeclarationRow(
        seq,
        new_usage(seq),
        date(2026, 10, 1),
        tuple(
            DependantEntry(k, dependant_key(seq, k), relations[(k - 1) % 3], synthetic_individual_number())
            for k in range(1, dependants + 1)
        ),
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ExchangeDirectory(tmp_path / "pension")
    return tmp_path / "pension"


# -- number acquisition -------------------------------------------------------------------------------


def test_acquisition_requests_become_messages_and_three_items_without_sex_are_enough(root: Path) -> None:
    rows = [entitlement(1), entitlement(2, sex=None), entitlement(3, address="東京都新宿区本町1-2-3")]
    PensionRequestsSimulator(root).drop_acquisition_request(rows, as_of=date(2026, 11, 20), batch_id="acq-1")
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=2)
    envelopes = drain(adapter)
    assert [e.message_type for e in envelopes] == ["pension.number_acquisition.requested"] * 2
    payloads = [decode(encode(e)).narrow(NumberAcquisitionRequested).payload for e in envelopes]
    records = [r for p in payloads for r in p.records]
    assert [r.basic_info.items for r in records] == [4, 3, 4]
    assert records[0].basic_info.name_kana == "サトウ\u3000カズコ"
    assert (root / "processed" / "number_acquisition.acq-1.csv").exists()
    # The same request again yields the same message ids (the hub's inbox drops the repeat).
    assert envelopes[0].message_id == envelopes[0].message_id


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"address": ""}, "address"),
        ({"name": "\u3000"}, "name"),
        ({"birth_date": ""}, "birth_date"),
        ({"address": "", "sex": "male"}, "address"),  # three items, but 性別 is not one of the three
    ],
)
def test_a_row_with_less_than_three_items_refuses_the_file_whole(
    root: Path, cells: dict[str, str], column: str
) -> None:
    rows = [format_acquisition_row(entitlement(1)), format_acquisition_row(entitlement(2))]
    for name, value in cells.items():
        rows[1][ACQUISITION_COLUMNS.index(name)] = value
    text = ",".join(ACQUISITION_COLUMNS) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    sim = PensionRequestsSimulator(root)
    (sim.inbound / "number_acquisition.bad.csv").write_bytes(text.encode())
    manifest = {
        "format_version": 1,
        "kind": "number_acquisition",
        "file_name": "number_acquisition.bad.csv",
        "record_count": 2,
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "batch_id": "bad",
        "as_of": "2026-11-20",
    }
    (sim.inbound / "number_acquisition.bad.csv.manifest.json").write_text(json.dumps(manifest))
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    (rejection,) = adapter.recent_rejections
    assert rejection.reason is Reason.BASIC_INFO_INCOMPLETE
    assert (rejection.line, rejection.column) == (3, column)
    assert (root / "rejected" / "number_acquisition.bad.csv").exists()  # kept: it holds no number


def test_an_individual_number_in_an_acquisition_file_refuses_it(root: Path) -> None:
    row = format_acquisition_row(entitlement(1))
    row[ACQUISITION_COLUMNS.index("address")] = "東京都" + synthetic_individual_number().reveal()
    with pytest.raises(IndividualNumberInFile):
        parse_acquisition_row(row, 2)


def test_acquisition_outcomes_are_written_idempotently_and_read_back(root: Path) -> None:
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    payload = NumberAcquisitionOutcomes(
        chunk=ChunkInfo(batch_id="acq-1", chunk_index=0, chunk_count=1, total_records=3),
        records=(
            AcquisitionOutcomeRecord(
                record_seq=1, usage_number=new_usage(1), status=AcquisitionStatus.LINKED
            ),
            AcquisitionOutcomeRecord(
                record_seq=2,
                usage_number=new_usage(2),
                status=AcquisitionStatus.HELD,
                hold_id="hold-abcdefghijkl",
                hold_reason=HoldReason.MULTIPLE_CANDIDATES,
                candidate_count=2,
            ),
        ),
    )
    env = new_envelope(
        message_type="pension.number_acquisition.outcome",
        schema_version=1,
        source="hub",
        destination="pension",
        purpose=NUMBER_ACQUISITION_PURPOSE,
        payload=payload_dict(payload),
    )
    first = adapter.from_hub(decode(encode(env)))
    again = adapter.from_hub(decode(encode(env)))
    assert first.details["outcome_files_written"] == 1
    assert again.details["outcome_files_unchanged"] == 1
    rows = list(PensionRequestsSimulator(root).acquisition_outcomes("acq-1"))
    assert [(r.record_seq, r.status, r.hold_reason, r.candidate_count) for r in rows] == [
        (1, AcquisitionStatus.LINKED, None, None),
        (2, AcquisitionStatus.HELD, HoldReason.MULTIPLE_CANDIDATES, 2),
    ]
    resolved = payload.model_copy(
        update={
            "answered_by": "operator",
            "records": (
                AcquisitionOutcomeRecord(
                    record_seq=2,
                    usage_number=new_usage(2),
                    status=AcquisitionStatus.LINKED,
                    hold_id="hold-abcdefghijkl",
                    note="operator: candidate 1 (documents checked)",
                ),
            ),
        }
    )
    adapter.from_hub(decode(encode(env.model_copy(update={"payload": payload_dict(resolved)}))))
    assert (
        root / "outbound" / "number_acquisition_outcomes.acq-1.000000.operator.hold-abcdefghijkl.csv"
    ).exists()
    assert PensionRequestsSimulator(root).completed_acquisitions("acq-1") == 2


# -- dependants' declarations -------------------------------------------------------------------------


def test_declarations_are_sealed_at_once_and_the_file_deleted_after_publishing(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [declaration(1, 1), declaration(2, 3), declaration(5, 6)]
    sim = PensionRequestsSimulator(root)
    path = sim.drop_dependants_declarations(
        rows, tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="dec-1", actor="m130001"
    )
    assert find_numbers(path.read_text())  # the file kind that carries numbers
    adapter = PensionAdapter(
        ExchangeDirectory(root), chunk_records=2, sealer=HpkeSealer(KEYRING.sealing_for())
    )
    with caplog.at_level(logging.INFO, logger="adapters.pension.directory"):
        envelopes = drain(adapter)
    assert len(envelopes) == 2
    for env in envelopes:
        assert not find_numbers(encode(env).decode())
    unsealer = HpkeUnsealer(KEYRING.unsealing("hub"))
    seen = {}
    for env in envelopes:
        payload = decode(encode(env)).payload
        assert isinstance(payload, DependantsDeclarationSubmitted)
        assert payload.filing_deadline == date(2027, 2, 14)
        for record in payload.records:
            for d in record.dependants:
                field = dependant_number_field(record.record_seq, d.dependant_seq)
                seen[d.usage_number] = unsealer.unseal(
                    d.individual_number, message_id=env.message_id, field=field
                )
    assert seen == {d.usage_number: d.individual_number for r in rows for d in r.dependants}
    # Deleted, not moved: only the manifest (no number in it) is kept in processed/.
    assert not path.exists()
    assert not (root / "processed" / path.name).exists()
    assert (root / "processed" / (path.name + ".manifest.json")).exists()
    assert not list((root / "inbound").iterdir())
    (event,) = [r for r in caplog.records if getattr(r, "event", None) == "pension.file_deleted"]
    assert event.__dict__["file"] == path.name  # set by the log call's extra
    assert event.__dict__["records"] == 3
    for directory in ("inbound", "processed", "rejected", "outbound"):
        for file in (root / directory).iterdir():
            assert not find_numbers(file.read_text(errors="ignore")), file


def test_a_redropped_declaration_is_refused_as_processed_and_deleted(root: Path) -> None:
    sim = PensionRequestsSimulator(root)
    adapter = PensionAdapter(
        ExchangeDirectory(root), chunk_records=5, sealer=HpkeSealer(KEYRING.sealing_for())
    )
    rows = [declaration(1)]
    sim.drop_dependants_declarations(
        rows, tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="d", actor="m130001"
    )
    assert len(drain(adapter)) == 1
    path = sim.drop_dependants_declarations(
        rows, tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="d", actor="m130001"
    )
    assert drain(adapter) == []
    assert adapter.recent_rejections[-1].reason is Reason.ALREADY_PROCESSED
    assert not path.exists()
    assert not (root / "rejected" / path.name).exists()  # deleted, with its report kept
    report = json.loads((root / "rejected" / (path.name + ".report.json")).read_text())
    assert "deleted" in report["refused"]


def test_a_bad_check_digit_refuses_the_declaration_whole_and_names_the_column_only(root: Path) -> None:
    row = format_declaration_row(declaration(1, 2))
    column = DECLARATION_COLUMNS.index("dependant_2_individual_number")
    bad = row[column][:11] + str((int(row[column][11]) + 1) % 10)
    row[column] = bad
    with pytest.raises(MalformedPensionFile) as caught:
        parse_declaration_row(row, 2)
    assert caught.value.reason is Reason.INVALID_INDIVIDUAL_NUMBER
    assert caught.value.column == "dependant_2_individual_number"
    assert bad not in str(caught.value)


def test_numbers_outside_the_number_columns_are_refused(root: Path) -> None:
    row = format_declaration_row(declaration(1, 1))
    row[DECLARATION_COLUMNS.index("dependant_1_usage_number")] = synthetic_individual_number().reveal()
    with pytest.raises(IndividualNumberInFile):
        parse_declaration_row(row, 2)


def test_gaps_between_dependants_are_refused() -> None:
    row = format_declaration_row(declaration(1, 3))
    for part in ("usage_number", "relation", "individual_number"):
        row[DECLARATION_COLUMNS.index(f"dependant_2_{part}")] = ""
    with pytest.raises(MalformedPensionFile, match="dependant_3_usage_number"):
        parse_declaration_row(row, 2)


def test_a_declaration_without_a_sealer_is_a_configuration_error(root: Path) -> None:
    PensionRequestsSimulator(root).drop_dependants_declarations(
        [declaration(1)], tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="d", actor="m130001"
    )
    with pytest.raises(ConfigurationError):
        PensionAdapter(ExchangeDirectory(root), chunk_records=5).poll()


def test_an_interrupted_deletion_is_settled_at_the_next_look(root: Path) -> None:
    sim = PensionRequestsSimulator(root)
    path = sim.drop_dependants_declarations(
        [declaration(1)], tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="d", actor="m130001"
    )
    manifest = path.with_name(path.name + ".manifest.json")
    (root / "processed" / manifest.name).write_bytes(manifest.read_bytes())
    os.unlink(path)  # the crash: deleted, the inbound manifest still there
    gateway = ExchangeDirectory(root)
    assert gateway.take_next() is None
    assert not manifest.exists()
    assert gateway.rejection_reports() == []


def test_acknowledgements_are_written_and_read_back(root: Path) -> None:
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=5)
    payload = DependantsDeclarationAcknowledged(
        chunk=ChunkInfo(batch_id="d", chunk_index=0, chunk_count=1, total_records=2),
        tax_year=2027,
        records=(
            DeclarationAck(
                record_seq=1,
                declarant=new_usage(1),
                status=DeclarationStatus.STORED,
                dependants_stored=2,
                retention_basis="tax.dependants_declaration",
                purge_after=date(2035, 1, 10),
            ),
        ),
    )
    env = new_envelope(
        message_type="pension.dependants_declaration.acknowledged",
        schema_version=1,
        source="hub",
        destination="pension",
        purpose=DEPENDANTS_PURPOSE,
        payload=payload_dict(payload),
    )
    adapter.from_hub(decode(encode(env)))
    (ack,) = PensionRequestsSimulator(root).dependants_acks("d")
    assert (ack.status, ack.dependants_stored, ack.purge_after) == (
        DeclarationStatus.STORED,
        2,
        date(2035, 1, 10),
    )
    assert PensionRequestsSimulator(root).acknowledged_declarations("d") == 1


# -- properties ---------------------------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda t: t.strip(" \u3000\t") and not find_numbers(t))


@settings(max_examples=80, deadline=None)
@given(
    # A twelve-digit record_seq with a valid check digit is refused by design (every field of the pension
    # files is checked for the form of a number; test_pension_wire.py), so it cannot round-trip.
    seq=st.integers(0, 10**15 - 1).filter(lambda s: not find_numbers(str(s))),
    name=_TEXT,
    address=_TEXT,
    born=st.dates(date(1900, 1, 1), date(2030, 12, 31)),
    sex=st.sampled_from([None, Sex.MALE, Sex.FEMALE]),
    kana=st.none() | _TEXT,
)
def test_any_complete_acquisition_row_round_trips(seq, name, address, born, sex, kana) -> None:
    row = AcquisitionRow(seq, new_usage(seq % 10**10), name, born, address, sex, kana)
    assert parse_acquisition_row(format_acquisition_row(row), 2) == row


@settings(max_examples=60, deadline=None)
@given(seq=st.integers(0, 10**9), count=st.integers(1, 6), data=st.data())
def test_any_declaration_row_round_trips(seq: int, count: int, data: st.DataObject) -> None:
    relations = data.draw(st.lists(st.sampled_from(list(DependantRelation)), min_size=count, max_size=count))
    row = DeclarationRow(
        seq,
        new_usage(seq % 10**10),
        data.draw(st.dates(date(2016, 1, 1), date(2099, 12, 31))),
        tuple(
            DependantEntry(k, dependant_key(seq % 10**10, k), relations[k - 1], synthetic_individual_number())
            for k in range(1, count + 1)
        ),
    )
    assert parse_declaration_row(format_declaration_row(row), 2) == row


@settings(deadline=None)
@given(st.lists(st.integers(0, 10**9), max_size=50))
def test_distinct_count_counts_distinct_values(values: list[int]) -> None:
    assert distinct_count(values) == len(set(values))


def test_a_truncated_acquisition_file_is_refused_whole(root: Path) -> None:
    sim = PensionRequestsSimulator(root)
    path = sim.drop_acquisition_request(
        [entitlement(1), entitlement(2)], as_of=date(2026, 11, 20), batch_id="cut"
    )
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])  # the manifest still describes the whole file
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=10)
    assert drain(adapter) == []
    assert adapter.recent_rejections[-1].reason is Reason.CHECKSUM_MISMATCH
    assert (root / "rejected" / path.name).exists()


def test_a_number_bearing_name_with_another_kind_is_refused_and_deleted(root: Path) -> None:
    sim = PensionRequestsSimulator(root)
    path = sim.drop_acquisition_request([entitlement(1)], as_of=date(2026, 11, 20), batch_id="x")
    disguised = path.with_name("dependants_declaration.x.csv")
    path.rename(disguised)
    manifest = json.loads((root / "inbound" / (path.name + ".manifest.json")).read_text())
    manifest["file_name"] = disguised.name
    (root / "inbound" / (path.name + ".manifest.json")).unlink()
    (root / "inbound" / (disguised.name + ".manifest.json")).write_text(json.dumps(manifest))
    adapter = PensionAdapter(
        ExchangeDirectory(root), chunk_records=10, sealer=HpkeSealer(KEYRING.sealing_for())
    )
    assert drain(adapter) == []
    assert adapter.recent_rejections[-1].reason is Reason.MANIFEST_MISMATCH
    assert not (root / "rejected" / disguised.name).exists()  # a file so named may hold numbers: deleted
    assert (root / "rejected" / (disguised.name + ".report.json")).exists()


def test_a_declaration_of_the_federation_is_refused_at_the_door_and_deleted(root: Path) -> None:
    # 事務(2) (dependants' registration) is a 構成組合's alone; a version 1 manifest (no actor) is the
    # federation's, so the file is refused whole, with a report the pension system can act on.
    sim = PensionRequestsSimulator(root)
    path = sim.drop_dependants_declarations(
        [declaration(1)], tax_year=2027, filing_deadline=date(2027, 2, 14), batch_id="fed"
    )
    adapter = PensionAdapter(
        ExchangeDirectory(root), chunk_records=5, sealer=HpkeSealer(KEYRING.sealing_for())
    )
    assert drain(adapter) == []
    assert adapter.recent_rejections[-1].reason is Reason.ACTOR_NOT_PERMITTED
    assert not path.exists()  # it held numbers: deleted, its report kept
    report = json.loads((root / "rejected" / (path.name + ".report.json")).read_text())
    assert report["reason"] == "actor_not_permitted"
    assert "構成組合" in report["action"]

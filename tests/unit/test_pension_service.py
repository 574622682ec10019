"""The pension adapter: deterministic messages from request files, idempotent outcome files."""

from __future__ import annotations

import os
import shutil
import stat
import uuid
from datetime import date
from pathlib import Path
from typing import Any, Literal

import pytest

from adapters.pension import (
    AcknowledgeRefused,
    DirectoryLinkOnly,
    ExchangeDirectory,
    IndividualNumberInFile,
    MalformedPensionFile,
    OutcomeFileConflict,
    PensionAdapter,
    PensionSystemSimulator,
    Reason,
)
from adapters.pension.mapping import NAMESPACE, SURVIVAL_CHECK_PURPOSE, batch_correlation_id
from contracts.envelope import LegalBasis, Purpose, new_envelope
from contracts.errors import ConfigurationError, UnknownMessageType, ValidationFailed, is_transient
from contracts.individual_number import synthetic_individual_number
from contracts.link import CounterpartFile, PollingAdapter
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import (
    PensionAction,
    SurvivalCheckOutcomes,
    SurvivalInquiryRecord,
    SurvivalInquiryRequested,
    SurvivalOutcome,
    SurvivalOutcomeRecord,
)
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from tests.pension_files import drain

CYCLE, AS_OF = "2026-12", date(2026, 11, 20)


def usage(n: int) -> UsageNumber:
    return UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"{n:010d}")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "pension"


@pytest.fixture
def pension(root: Path) -> PensionSystemSimulator:
    ExchangeDirectory(root)
    return PensionSystemSimulator(root)


def adapter_on(root: Path, chunk_records: int = 2, **kw) -> PensionAdapter:
    return PensionAdapter(ExchangeDirectory(root), chunk_records=chunk_records, **kw)


def test_the_adapter_is_a_polling_adapter(root):
    adapter: PollingAdapter = adapter_on(root)
    assert adapter.name == "pension"


@pytest.mark.parametrize("chunk_records", [0, 50_001])
def test_chunk_records_out_of_range_is_a_configuration_error(root, chunk_records):
    with pytest.raises(ConfigurationError):
        adapter_on(root, chunk_records)


def test_a_request_file_becomes_chunked_survival_inquiries(root, pension):
    pension.drop_survival_request([usage(i) for i in range(5)], cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    envelopes = drain(adapter_on(root, 2))
    assert [e.message_type for e in envelopes] == ["pension.survival_inquiry.requested"] * 3
    payloads = [p for e in envelopes if isinstance(p := decode(encode(e)).payload, SurvivalInquiryRequested)]
    assert len(payloads) == 3
    assert [p.chunk.chunk_index for p in payloads] == [0, 1, 2]
    assert {(p.chunk.chunk_count, p.chunk.total_records, p.chunk.batch_id) for p in payloads} == {
        (3, 5, "b1")
    }
    assert [r.record_seq for p in payloads for r in p.records] == [1, 2, 3, 4, 5]
    assert [r.usage_number for p in payloads for r in p.records] == [usage(i) for i in range(5)]
    assert {(p.cycle, p.as_of) for p in payloads} == {(CYCLE, AS_OF)}
    for envelope in envelopes:
        assert (envelope.source, envelope.destination) == ("pension", "hub")
        assert envelope.purpose == SURVIVAL_CHECK_PURPOSE
        assert envelope.correlation_id == batch_correlation_id("b1") == uuid.uuid5(NAMESPACE, "batch:b1")
    assert os.listdir(root / "inbound") == []


def test_the_purpose_cites_its_legal_bases():
    assert SURVIVAL_CHECK_PURPOSE.code == "pension.survival_check"
    assert LegalBasis(law="住民基本台帳法", article="第30条の9", item="別表第一 19の項") in (
        SURVIVAL_CHECK_PURPOSE.legal_basis
    )
    assert (
        LegalBasis(
            law="行政手続における特定の個人を識別するための番号の利用等に関する法律",
            article="第9条第1項",
            item="別表 59の項",
        )
        in SURVIVAL_CHECK_PURPOSE.legal_basis
    )


def test_message_ids_are_deterministic_across_a_crash_before_the_acknowledgement(tmp_path, root, pension):
    pension.drop_survival_request([usage(i) for i in range(7)], cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    first = adapter_on(root, 3, max_records_per_poll=3)
    polled = first.poll()
    assert polled is not None
    # The process dies after publishing and before acknowledging; a new one starts over.
    again = adapter_on(root, 3, max_records_per_poll=100)
    ids = [e.message_id for e in drain(again)]
    assert ids[0] == polled.output.to_hub[0].message_id
    # The same bytes give the same ids anywhere, whatever the slicing.
    assert [e.message_id for e in drain(adapter_on(copy, 3, max_records_per_poll=1))] == ids
    assert len(set(ids)) == 3


def test_next_cycle_about_the_same_people_gets_new_ids(root, pension):
    # The data file names no cycle: the same people next cycle give byte-identical data, another batch.
    first = pension.drop_survival_request(
        [usage(i) for i in range(3)], cycle=CYCLE, as_of=AS_OF, batch_id="b1"
    )
    data = first.read_bytes()
    ids_first = {e.message_id for e in drain(adapter_on(root))}
    second = pension.drop_survival_request(
        [usage(i) for i in range(3)], cycle="2027-02", as_of=date(2027, 1, 20), batch_id="b2"
    )
    assert second.read_bytes() == data
    envelopes = drain(adapter_on(root))
    assert len(envelopes) == 2
    assert not ids_first & {e.message_id for e in envelopes}
    assert {e.correlation_id for e in envelopes} == {batch_correlation_id("b2")}
    assert os.listdir(root / "rejected") == []


def test_another_chunk_size_gives_other_ids(tmp_path, root, pension):
    pension.drop_survival_request([usage(i) for i in range(4)], cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    assert not {e.message_id for e in drain(adapter_on(root, 2))} & {
        e.message_id for e in drain(adapter_on(copy, 1))
    }


def test_a_large_file_is_handed_out_in_slices_and_acknowledged_after_the_last(root, pension):
    pension.drop_survival_request([usage(i) for i in range(10)], cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    adapter = adapter_on(root, 2, max_records_per_poll=4)
    first = adapter.poll()
    assert first is not None
    assert first.output.details["chunks"] == 2
    assert adapter.poll() is first  # not acknowledged: the same slice again
    adapter.acknowledge(first.source)
    assert (root / "inbound" / "survival_inquiry.b1.csv").exists()
    rest = drain(adapter)
    assert [e.payload["chunk"]["chunk_index"] for e in rest] == [2, 3, 4]
    assert not (root / "inbound" / "survival_inquiry.b1.csv").exists()
    assert (root / "processed" / "survival_inquiry.b1.csv").exists()


def test_acknowledging_anything_but_the_pending_slice_is_refused(root, pension):
    adapter = adapter_on(root)
    with pytest.raises(AcknowledgeRefused):
        adapter.acknowledge("survival_inquiry.b1.csv")
    pension.drop_survival_request([usage(1)], cycle=CYCLE, as_of=AS_OF, batch_id="b1")
    polled = adapter.poll()
    assert polled is not None
    with pytest.raises(AcknowledgeRefused):
        adapter.acknowledge("survival_inquiry.b1.csv")
    adapter.acknowledge(polled.source)


def test_bad_files_are_refused_and_counted_on_the_way_to_a_good_one(root, pension):
    pension.drop_raw_file("survival_inquiry.a.csv", b"junk\n", batch_id="a")
    pension.drop_survival_request([usage(1)], cycle=CYCLE, as_of=AS_OF, batch_id="b")
    adapter = adapter_on(root)
    polled = adapter.poll()
    assert polled is not None
    assert polled.output.details["rejected_files"] == 1
    assert [r.reason.value for r in adapter.recent_rejections] == ["bad_header"]


def test_a_file_changed_while_handed_out_is_never_acknowledged(root, pension):
    path = pension.drop_survival_request(
        [usage(i) for i in range(6)], cycle=CYCLE, as_of=AS_OF, batch_id="b1"
    )
    adapter = adapter_on(root, 2, max_records_per_poll=2)
    polled = adapter.poll()
    assert polled is not None
    adapter.acknowledge(polled.source)
    path.write_bytes(path.read_bytes().replace(b"0000000005", b"0000000009"))
    # Read ahead, the change is seen at the end of the file or when the file is to be acknowledged.
    with pytest.raises((MalformedPensionFile, AcknowledgeRefused)) as caught:
        drain(adapter)
    assert not is_transient(caught.value)
    assert not (root / "processed" / path.name).exists()
    # The next poll looks at the file afresh and refuses it whole.
    assert adapter.poll() is None
    assert [r.reason for r in adapter.recent_rejections] == [Reason.CHECKSUM_MISMATCH]
    assert (root / "rejected" / path.name).exists()


def outcomes_message(
    records: tuple[SurvivalOutcomeRecord, ...],
    *,
    chunk_index: int = 0,
    answered_by: Literal["jlis", "hub"] = "jlis",
    message_id: uuid.UUID | None = None,
) -> Decoded:
    payload = SurvivalCheckOutcomes(
        chunk=ChunkInfo(batch_id="b1", chunk_index=chunk_index, chunk_count=2, total_records=4),
        cycle=CYCLE,
        answered_by=answered_by,
        records=records,
    )
    envelope = new_envelope(
        message_type="pension.survival_check.outcomes",
        schema_version=1,
        source="hub",
        destination="pension",
        purpose=Purpose(code="pension.survival_check", legal_basis=SURVIVAL_CHECK_PURPOSE.legal_basis),
        payload=payload_dict(payload),
        message_id=message_id,
    )
    return decode(encode(envelope))


def alive(seq: int) -> SurvivalOutcomeRecord:
    return SurvivalOutcomeRecord(
        record_seq=seq,
        usage_number=usage(seq),
        outcome=SurvivalOutcome.ALIVE,
        actions=(PensionAction.CONTINUE_PAYMENT,),
    )


def test_outcomes_become_an_outcome_file_the_pension_system_reads(root, pension):
    adapter = adapter_on(root)
    output = adapter.from_hub(outcomes_message((alive(1), alive(2))))
    assert output.completed_records == 2
    assert output.details == {"outcome_files_written": 1, "outcome_files_unchanged": 0}
    assert sorted(os.listdir(root / "outbound")) == [
        "survival_outcomes.b1.000000.jlis.csv",
        "survival_outcomes.b1.000000.jlis.csv.manifest.json",
    ]
    rows = pension.read_outcomes("b1")
    assert [(r.record_seq, r.outcome) for r in rows] == [
        (1, SurvivalOutcome.ALIVE),
        (2, SurvivalOutcome.ALIVE),
    ]
    assert pension.completed("b1") == 2


def test_outcome_files_are_idempotent_on_redelivery_and_replay(root, pension):
    adapter = adapter_on(root)
    message = outcomes_message((alive(1), alive(2)))
    adapter.from_hub(message)
    before = {name: (root / "outbound" / name).read_bytes() for name in os.listdir(root / "outbound")}
    redelivered = adapter.from_hub(message)
    replayed = adapter_on(root).from_hub(outcomes_message((alive(1), alive(2)), message_id=uuid.uuid4()))
    for output in (redelivered, replayed):
        assert output.details == {"outcome_files_written": 0, "outcome_files_unchanged": 1}
    after = {name: (root / "outbound" / name).read_bytes() for name in os.listdir(root / "outbound")}
    assert after == before
    rows = pension.read_outcomes("b1")
    assert len(rows) == pension.completed("b1") == 2  # no duplicated effect


def test_an_interrupted_outcome_write_is_completed_by_the_redelivery(root, pension):
    adapter = adapter_on(root)
    message = outcomes_message((alive(1),))
    adapter.from_hub(message)
    manifest = root / "outbound" / "survival_outcomes.b1.000000.jlis.csv.manifest.json"
    manifest.unlink()  # crashed between the data file and its manifest
    assert pension.read_outcomes("b1") == []  # incomplete: invisible to the pension system
    assert adapter.from_hub(message).details["outcome_files_written"] == 1
    assert len(pension.read_outcomes("b1")) == 1


def test_a_different_answer_for_the_same_chunk_is_a_conflict(root):
    adapter = adapter_on(root)
    adapter.from_hub(outcomes_message((alive(1),)))
    with pytest.raises(OutcomeFileConflict):
        adapter.from_hub(outcomes_message((alive(1), alive(2))))


def test_hub_and_jlis_answers_for_one_chunk_are_two_files(root, pension):
    adapter = adapter_on(root)
    no_number = SurvivalOutcomeRecord(
        record_seq=2,
        usage_number=usage(2),
        outcome=SurvivalOutcome.NO_NUMBER,
        actions=(PensionAction.ACQUIRE_NUMBER,),
    )
    adapter.from_hub(outcomes_message((no_number,), answered_by="hub"))
    adapter.from_hub(outcomes_message((alive(1),), answered_by="jlis"))
    adapter.from_hub(outcomes_message((alive(3), alive(4)), chunk_index=1))
    assert sorted(r.record_seq for r in pension.read_outcomes("b1")) == [1, 2, 3, 4]
    assert pension.completed("b1") == 4


def test_outcome_files_are_owner_only(root):
    adapter_on(root).from_hub(outcomes_message((alive(1),)))
    for name in os.listdir(root / "outbound"):
        assert stat.S_IMODE((root / "outbound" / name).stat().st_mode) == 0o600


def test_an_outcome_with_an_individual_number_is_refused_and_nothing_is_written(root):
    number = synthetic_individual_number().reveal()
    fields: dict[str, Any] = {  # unvalidated on purpose: model_construct builds what the contract refuses
        "record_seq": 1,
        "usage_number": usage(1),
        "outcome": SurvivalOutcome.NAME_CHANGED,
        "actions": (PensionAction.REQUEST_NAME_DOCUMENTS,),
        "new_name": number,
    }
    forged = SurvivalOutcomeRecord.model_construct(**fields)  # what the contract would never build
    # On the way in, the contract refuses it (the message is dead-lettered, the error names no value) ...
    with pytest.raises(ValidationFailed) as refused:
        outcomes_message((forged,))
    assert number not in str(refused.value)
    # ... and past the contract, the writer refuses it again (defence in depth).
    message = outcomes_message((alive(1),))
    assert isinstance(message.payload, SurvivalCheckOutcomes)
    smuggled = Decoded(message.envelope, message.payload.model_copy(update={"records": (forged,)}))
    with pytest.raises(IndividualNumberInFile) as caught:
        adapter_on(root).from_hub(smuggled)
    assert number not in str(caught.value)
    assert os.listdir(root / "outbound") == []


def test_other_messages_are_refused(root):
    adapter = adapter_on(root)
    request = SurvivalInquiryRequested(
        chunk=ChunkInfo(batch_id="b1", chunk_index=0, chunk_count=1, total_records=1),
        cycle=CYCLE,
        as_of=AS_OF,
        records=(SurvivalInquiryRecord(record_seq=1, usage_number=usage(1)),),
    )
    envelope = new_envelope(
        message_type="pension.survival_inquiry.requested",
        schema_version=1,
        source="pension",
        actor="federation",
        destination="hub",
        purpose=SURVIVAL_CHECK_PURPOSE,
        payload=payload_dict(request),
    )
    with pytest.raises(UnknownMessageType):
        adapter.from_hub(decode(encode(envelope)))
    misrouted = outcomes_message((alive(1),))
    wrong = Decoded(misrouted.envelope.model_copy(update={"destination": "jlis"}), misrouted.payload)
    with pytest.raises(ValidationFailed):
        adapter.from_hub(wrong)


def test_the_pension_link_is_the_directory_not_the_broker(root):
    file = CounterpartFile(counterpart="pension", name="x", content=b"", correlation_id=str(uuid.uuid4()))
    with pytest.raises(DirectoryLinkOnly):
        adapter_on(root).from_counterpart(file)


def test_a_large_request_round_trips_with_bounded_slices(root, pension):
    pension.drop_survival_request((usage(n) for n in range(30_000)), cycle=CYCLE, as_of=AS_OF, batch_id="big")
    adapter = PensionAdapter(ExchangeDirectory(root), chunk_records=1_000, max_records_per_poll=5_000)
    seen, slices = 0, 0
    for _ in range(100):
        polled = adapter.poll()
        if polled is None:
            break
        assert polled.output.details["records"] <= 5_000
        seen += polled.output.details["records"]
        slices += 1
        adapter.acknowledge(polled.source)
    assert (seen, slices) == (30_000, 6)
    assert os.listdir(root / "inbound") == []

"""The intermediate server adapter: hub messages to files, the simulator's files back to hub messages."""

from __future__ import annotations

import random
import uuid
from datetime import date

import pytest

from adapters.intermediate_server import (
    IntermediateServerAdapter,
    IntermediateServerSimulator,
    IsFileError,
    Municipality,
    file_name,
    inbound_message_id,
    parse_name,
)
from adapters.intermediate_server.wire import CODE_REQUEST, parse
from adapters.pension.messages import read_hub_messages, write_message_file
from contracts.envelope import LegalBasis, Purpose, new_envelope
from contracts.errors import SealError, UnknownMessageType
from contracts.individual_number import synthetic_individual_number
from contracts.link import Adapter, CounterpartFile
from contracts.messages.intermediate_server import (
    DuplicateOperation,
    InfoKind,
    InfoQueryAnswer,
    InfoQueryAnswered,
    IsCodeAcquisitionRecord,
    IsCodeAcquisitionRequest,
    IsCodeAcquisitionResult,
    IsDuplicateRecord,
    IsDuplicateRegister,
    IsDuplicateResult,
    IsError,
    IsInfoQueryRecord,
    IsInfoQueryRequest,
    IsInfoQueryResult,
    IsProvisionNotice,
    PensionDuplicateData,
    PensionKind,
    QueryStatus,
    TableBasis,
)
from contracts.redaction import find_numbers
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.keyring import generate_keyring
from tests.adapter_links import IntermediateServerGateway

PURPOSE = Purpose(
    code="intermediate_server.test", legal_basis=(LegalBasis(law="番号法", article="第19条第8号"),)
)

BASIS = TableBasis(current_item=84, current_article="第86条", legacy_item=59)
KEYRING = generate_keyring()


@pytest.fixture
def adapter() -> IntermediateServerAdapter:
    return IntermediateServerAdapter(HpkeUnsealer(KEYRING.unsealing("intermediate_server")))


def message(message_type: str, payload, message_id: uuid.UUID | None = None) -> Decoded:
    env = new_envelope(
        message_type=message_type,
        schema_version=1,
        source="hub",
        destination="intermediate_server",
        purpose=PURPOSE,
        payload=payload_dict(payload),
        message_id=message_id,
    )
    return decode(encode(env))


def atena(i: int) -> str:
    return f"{200_000_000_000_000 + i:015d}"


def code_request(people: int, recipient: str = "intermediate_server", field_shift: int = 0) -> Decoded:
    mid = uuid.uuid4()
    rng = random.Random(3)
    sealer = HpkeSealer(KEYRING.sealing_for())
    records = tuple(
        IsCodeAcquisitionRecord(
            record_seq=i,
            atena_no=atena(i),
            individual_number=sealer.seal(
                synthetic_individual_number(rng),
                recipient=recipient,
                message_id=mid,
                field=f"records.{i + field_shift}.individual_number",
            ),
        )
        for i in range(people)
    )
    return message(
        "intermediate_server.code_acquisition.request",
        IsCodeAcquisitionRequest(batch_id="b1", records=records),
        mid,
    )


def test_a_code_request_becomes_one_file_with_the_numbers_opened_and_a_result_comes_back(adapter):
    a: Adapter = adapter
    request = code_request(3)
    out = a.from_hub(request)
    (file,) = out.to_counterpart
    assert file.name == file_name("FGQ1", request.envelope.message_id)
    assert file.correlation_id == str(request.envelope.correlation_id)
    header, rows = parse(CODE_REQUEST, file.content)
    assert header.batch_id == "b1"
    assert len(rows) == 3
    assert len(find_numbers(file.content.decode())) == 3, "the wire file alone holds plain numbers"
    assert not find_numbers(file.name)

    sim = IntermediateServerSimulator(seed=2, code_failure_every=0)
    (answer,) = IntermediateServerGateway(sim).exchange(file)
    result = a.from_counterpart(answer)
    (env,) = result.to_hub
    assert env.message_type == "intermediate_server.code_acquisition.result"
    assert env.message_id == inbound_message_id(answer.name)
    assert env.causation_id == request.envelope.message_id
    assert env.correlation_id == request.envelope.correlation_id
    assert a.from_counterpart(answer).to_hub[0].message_id == env.message_id, "redelivery: same id"
    payload = IsCodeAcquisitionResult.model_validate(env.payload)
    assert [r.acquired for r in payload.records] == [True, True, True]
    assert not find_numbers(encode(env).decode())


def test_a_number_sealed_for_someone_else_or_another_field_is_refused(adapter):
    with pytest.raises(SealError):
        adapter.from_hub(code_request(1, recipient="jlis"))
    with pytest.raises(SealError):
        adapter.from_hub(code_request(1, field_shift=1))


def test_queries_go_one_file_per_provider_and_answers_come_back_as_results(adapter):
    sim = IntermediateServerSimulator(
        seed=2,
        code_failure_every=0,
        no_data_every=0,
        municipalities=(Municipality("131016", "千代田区"), Municipality("011002", "札幌市", delay_ticks=1)),
    )
    gateway = IntermediateServerGateway(sim)
    codes = IsCodeAcquisitionResult.model_validate(
        adapter.from_counterpart(gateway.exchange(adapter.from_hub(code_request(2)).to_counterpart[0])[0])
        .to_hub[0]
        .payload
    )

    def query(seq: int, atena_no: str, code: str, provider: str) -> IsInfoQueryRecord:
        return IsInfoQueryRecord(
            record_seq=seq,
            record_id=f"QRY{seq:08d}",
            atena_no=atena_no,
            code=code,
            spi_code="TM00000000000021",
            jimu_code="J084",
            basis=BASIS,
            provider_org_code=provider,
            tax_year=2025,
        )

    first, second = codes.records
    records = (
        query(0, first.atena_no, first.code or "", "011002"),
        query(1, second.atena_no, second.code or "", "131016"),
        query(9, atena(0), "NOTTHECODE", "131016"),
    )
    out = adapter.from_hub(
        message("intermediate_server.info_query.request", IsInfoQueryRequest(batch_id="b2", records=records))
    )
    assert [parse_name(f.name)[2] for f in out.to_counterpart] == ["011002", "131016"]
    results = []
    for file in out.to_counterpart:
        for answer in gateway.exchange(file):
            results.extend(adapter.from_counterpart(answer).to_hub)
    results.extend(e for f in gateway.tick() for e in adapter.from_counterpart(f).to_hub)
    records_back = [r for env in results for r in IsInfoQueryResult.model_validate(env.payload).records]
    by_id = {r.record_id: r for r in records_back}
    assert set(by_id) == {"QRY00000000", "QRY00000001", "QRY00000009"}
    assert by_id["QRY00000009"].error is IsError.CODE_NOT_ACQUIRED
    assert by_id["QRY00000000"].status is QueryStatus.ANSWERED
    assert by_id["QRY00000000"].provider_name == "札幌市"
    assert by_id["QRY00000001"].local_tax is not None
    assert by_id["QRY00000001"].local_tax.tax_year == 2025


def test_a_reception_without_errors_makes_no_message(adapter):
    sim = IntermediateServerSimulator(
        seed=2, code_failure_every=0, municipalities=(Municipality("131016", "x", 3),)
    )
    gateway = IntermediateServerGateway(sim)
    (codes,) = adapter.from_counterpart(
        gateway.exchange(adapter.from_hub(code_request(1)).to_counterpart[0])[0]
    ).to_hub
    code = IsCodeAcquisitionResult.model_validate(codes.payload).records[0].code or ""
    record = IsInfoQueryRecord(
        record_seq=0,
        record_id="QRY00000001",
        atena_no=atena(0),
        code=code,
        spi_code="TM00000000000011",
        jimu_code="J084",
        basis=BASIS,
        provider_org_code="131016",
    )
    (file,) = adapter.from_hub(
        message("intermediate_server.info_query.request", IsInfoQueryRequest(batch_id="b", records=(record,)))
    ).to_counterpart
    (reception,) = gateway.exchange(file)
    output = adapter.from_counterpart(reception)
    assert output.to_hub == ()
    assert output.details == {"accepted": 1}


def test_duplicates_and_notices(adapter):
    sim = IntermediateServerSimulator(seed=2, code_failure_every=0, notice_delay_ticks=1)
    gateway = IntermediateServerGateway(sim)
    adapter.from_counterpart(gateway.exchange(adapter.from_hub(code_request(1)).to_counterpart[0])[0])
    data = PensionDuplicateData(
        pension_kind=PensionKind.DISABILITY,
        annual_amount=900_000,
        suspended=True,
        entitled_from=date(2020, 1, 1),
    )
    rows = tuple(
        IsDuplicateRecord(
            record_seq=i,
            operation=op,
            record_id="DUP0001",
            atena_no=atena(0),
            spi_code="TM00000000000051",
            dataset_item_code="NENKIN01",
            spi_version=1,
            publication_start=data.entitled_from,
            data=None if op is DuplicateOperation.DELETE else data,
        )
        for i, op in enumerate(
            (DuplicateOperation.INSERT, DuplicateOperation.INSERT, DuplicateOperation.DELETE)
        )
    )
    (file,) = adapter.from_hub(
        message("intermediate_server.duplicate.register", IsDuplicateRegister(batch_id="b3", records=rows))
    ).to_counterpart
    (result,) = adapter.from_counterpart(gateway.exchange(file)[0]).to_hub
    payload = IsDuplicateResult.model_validate(result.payload)
    assert [r.error for r in payload.records] == [None, IsError.DUPLICATE_RECORD_ID, None]
    assert all(r.atena_no == atena(0) for r in payload.records)
    (notice_file,) = gateway.tick()
    (notice,) = adapter.from_counterpart(notice_file).to_hub
    assert notice.causation_id is None
    (provided,) = IsProvisionNotice.model_validate(notice.payload).records
    assert provided.record_id == "DUP0001"
    assert provided.basis.current_item in (1, 2, 83)


def test_files_that_are_not_answers_are_refused(adapter):
    request_id = uuid.uuid4()
    back = file_name("SKQ1", request_id, "131016")
    with pytest.raises(IsFileError, match="request file came back"):
        adapter.from_counterpart(CounterpartFile("intermediate_server", back, b"", str(uuid.uuid4())))
    sim = IntermediateServerSimulator(seed=2, code_failure_every=0)
    (answer,) = IntermediateServerGateway(sim).exchange(adapter.from_hub(code_request(1)).to_counterpart[0])
    renamed = CounterpartFile(
        answer.counterpart, file_name("FGR1", uuid.uuid4()), answer.content, answer.correlation_id
    )
    with pytest.raises(IsFileError, match="control line names another request"):
        adapter.from_counterpart(renamed)
    with pytest.raises(IsFileError, match="not from the intermediate server"):
        adapter.from_counterpart(CounterpartFile("jlis", answer.name, answer.content, answer.correlation_id))


def test_other_messages_are_not_for_this_adapter(adapter):
    answered = InfoQueryAnswered(
        answered_by="hub",
        records=(
            InfoQueryAnswer(
                query_ref="r",
                usage_number=UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="1"),
                info_kind=InfoKind.LOCAL_TAX,
                spi_code="TM00000000000021",
                provider_org_code="131016",
                status=QueryStatus.ERROR,
                error=IsError.CODE_NOT_ACQUIRED,
            ),
        ),
    )
    with pytest.raises(UnknownMessageType):
        adapter.from_hub(message("pension.info_query.answered", answered))


def test_the_pension_adapter_writes_hub_answers_as_json_once(tmp_path):
    answered = InfoQueryAnswered(
        answered_by="hub",
        records=(
            InfoQueryAnswer(
                query_ref="r1",
                usage_number=UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value="12"),
                info_kind=InfoKind.LOCAL_TAX,
                spi_code="TM00000000000021",
                provider_org_code="131016",
                status=QueryStatus.ERROR,
                error=IsError.CODE_NOT_ACQUIRED,
            ),
        ),
    )
    env = new_envelope(
        message_type="pension.info_query.answered",
        schema_version=1,
        source="hub",
        destination="pension",
        purpose=PURPOSE,
        payload=payload_dict(answered),
    )
    outbound = tmp_path / "outbound"
    outbound.mkdir(mode=0o700)
    first = write_message_file(outbound, decode(encode(env)))
    second = write_message_file(outbound, decode(encode(env)))
    assert first.details == {"message_files_written": 1, "message_files_unchanged": 0}
    assert second.details == {"message_files_written": 0, "message_files_unchanged": 1}
    (read,) = read_hub_messages(outbound, "pension.info_query.answered")
    assert read.message_id == env.message_id
    (path,) = (outbound / "messages" / "pension.info_query.answered").iterdir()
    assert path.stat().st_mode & 0o077 == 0

"""A running hub for the intermediate server end-to-end tests: hub, adapters and a simulator we can inspect.

The services run as threads on the real broker (the e2e_settings fixture gives each test its own prefix and
data directory); the simulator is built by the test so that its counters and settings are at hand. The
pension system's side reads the JSON files the pension adapter writes, like the demo does.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from pydantic import BaseModel
from tenacity import Retrying, stop_after_delay, wait_fixed

from adapters.intermediate_server import IntermediateServerSimulator
from adapters.pension.messages import read_hub_messages
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.envelope import Envelope, LegalBasis, Purpose, new_envelope
from contracts.messages.intermediate_server import (
    CodeAcquisitionCompleted,
    CodeAcquisitionRecord,
    CodeAcquisitionRequested,
    DuplicateChangeRecord,
    DuplicateOperation,
    InfoKind,
    InfoQueryAnswer,
    InfoQueryAnswered,
    InfoQueryRecord,
    InfoQueryRequested,
    PensionDuplicateData,
    PensionKind,
    TableBasis,
)
from contracts.registry import payload_dict
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.runner import ServiceGroup

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
NUMBER_ACT = "行政手続における特定の個人を識別するための番号の利用等に関する法律"
BASIS_84 = TableBasis(current_item=84, current_article="第86条", legacy_item=59)
RESIDENT, LOCAL_TAX, PENSION = "TM00000000000011", "TM00000000000021", "TM00000000000051"
WAIT_S = 25


ASSOCIATION = "m130001"
"""The 構成組合 the intermediate server tests run on behalf of (事務(9) 情報照会 is a 構成組合's alone)."""


def pension_envelope(message_type: str, payload: Any, actor: str = ASSOCIATION) -> Envelope:
    return new_envelope(
        message_type=message_type,
        schema_version=1,
        source="pension",
        destination="hub",
        purpose=Purpose(
            code="pension.test", legal_basis=(LegalBasis(law=NUMBER_ACT, article="第19条第8号"),)
        ),
        payload=payload_dict(payload),
        actor=actor,
    )


def wait_for(check: Callable[[], T], seconds: float = WAIT_S) -> T:
    """Poll ``check`` until it returns without AssertionError (bounded)."""
    for attempt in Retrying(stop=stop_after_delay(seconds), wait=wait_fixed(0.1), reraise=True):
        with attempt:
            return check()
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Harness:
    hub: LocalDeployment
    simulator: IntermediateServerSimulator
    people: int

    @property
    def outbound(self):
        return self.hub.settings.wire_dir / "pension" / "outbound"

    def usage(self, index: int):
        return self.hub.population(self.people).usage_number(index)

    def messages(self, message_type: str, model: type[M]) -> list[M]:
        return [model.model_validate(env.payload) for env in read_hub_messages(self.outbound, message_type)]

    def acquire_codes(self, indexes: Sequence[int]) -> CodeAcquisitionCompleted:
        batch = f"codes-{uuid.uuid4().hex[:8]}"
        records = tuple(CodeAcquisitionRecord(record_seq=i, usage_number=self.usage(i)) for i in indexes)
        self.hub.publish_as_pension(
            [
                pension_envelope(
                    "pension.code_acquisition.requested",
                    CodeAcquisitionRequested(batch_id=batch, records=records),
                )
            ]
        )

        def done() -> CodeAcquisitionCompleted:
            mine = [
                m
                for m in self.messages("pension.code_acquisition.completed", CodeAcquisitionCompleted)
                if m.batch_id == batch
            ]
            assert sum(len(m.records) for m in mine) >= len(indexes)
            return mine[0]

        return wait_for(done)

    def query(self, records: Sequence[InfoQueryRecord]) -> None:
        payload = InfoQueryRequested(batch_id=f"q-{uuid.uuid4().hex[:8]}", records=tuple(records))
        self.hub.publish_as_pension([pension_envelope("pension.info_query.requested", payload)])

    def answers(self, refs: set[str]) -> dict[str, tuple[str, InfoQueryAnswer]]:
        """Answers by query ref, with who answered; waits until every ref is answered."""

        def done() -> dict[str, tuple[str, InfoQueryAnswer]]:
            found: dict[str, tuple[str, InfoQueryAnswer]] = {
                r.query_ref: (m.answered_by, r)
                for m in self.messages("pension.info_query.answered", InfoQueryAnswered)
                for r in m.records
                if r.query_ref in refs
            }
            assert set(found) == refs, f"answered {sorted(found)} of {sorted(refs)}"
            return found

        return wait_for(done)

    def change(self, records: Sequence[DuplicateChangeRecord]) -> str:
        """Drop the 副本 changes as the pension system does: a ``duplicate_changes`` request file."""
        batch = f"d-{uuid.uuid4().hex[:8]}"
        pension = PensionRequestsSimulator(self.hub.settings.wire_dir / "pension")
        pension.drop_duplicate_changes(records, batch_id=batch, actor=ASSOCIATION)
        return batch


def query_record(
    seq: int,
    ref: str,
    usage,
    *,
    spi: str = LOCAL_TAX,
    provider: str = "131016",
    jimu: str = "J084",
    basis: TableBasis = BASIS_84,
) -> InfoQueryRecord:
    return InfoQueryRecord(
        record_seq=seq,
        query_ref=ref,
        usage_number=usage,
        info_kind=InfoKind.LOCAL_TAX if spi == LOCAL_TAX else InfoKind.RESIDENT_RECORD,
        spi_code=spi,
        jimu_code=jimu,
        basis=basis,
        provider_org_code=provider,
        tax_year=2025 if spi == LOCAL_TAX else None,
    )


def duplicate_record(
    seq: int, usage, record_id: str, op: DuplicateOperation = DuplicateOperation.INSERT
) -> DuplicateChangeRecord:
    return DuplicateChangeRecord(
        record_seq=seq,
        usage_number=usage,
        operation=op,
        record_id=record_id,
        spi_code=PENSION,
        dataset_item_code="NENKIN01",
        spi_version=1,
        publication_start=date(2026, 4, 1),
        data=None
        if op is DuplicateOperation.DELETE
        else PensionDuplicateData(
            pension_kind=PensionKind.RETIREMENT,
            annual_amount=1_500_000,
            suspended=False,
            entitled_from=date(2015, 4, 1),
        ),
    )


@contextmanager
def running(settings, simulator: IntermediateServerSimulator, people: int = 12) -> Iterator[Harness]:
    """The hub, the intermediate server and pension adapters and ``simulator``, running on the broker."""
    hub = local_deployment(settings, configure_logs=False)
    group = ServiceGroup()
    try:
        hub.prepare()
        population = hub.population(people)
        hub.enrol_population(population, people)
        hub.hub_services(group)
        hub.adapter_services("intermediate_server", group)
        hub.adapter_services("pension", group)
        hub.simulator_services("intermediate_server", population, group, simulator=simulator)
        group.start()
        yield Harness(hub, simulator, people)
        assert not group.failures, f"services failed: {sorted(group.failures)}"
    finally:
        group.shutdown()
        hub.close()

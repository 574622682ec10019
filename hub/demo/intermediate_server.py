"""The intermediate server exchanges as demo flows: information queries, 副本 changes, provision notices.

The demo stands in for the pension system. Each flow first asks for the code (符号取得) of its people as the
pension system asks in production, by a ``code_acquisition`` request file in the exchange directory, then
sends its own requests once every code request is answered (people without a code are answered
``code_not_acquired`` by the hub, which counts as completed: the answer reached the pension system). The
information queries go as an ``info_query`` request file too, and the 副本 changes as a
``duplicate_changes`` file, each person's changes together (the adapter never splits them between
messages).

What comes back reaches the pension system the usual way, through the pension adapter, which writes each
answer as a JSON file (:mod:`adapters.pension.messages`); the flows count completion from those files, so a
record counts only once it reached the pension system.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from adapters.intermediate_server import DEMO_MUNICIPALITIES, LOCAL_TAX_SPI, PENSION_SPI, RESIDENT_RECORD_SPI
from adapters.pension.messages import read_hub_messages
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from adapters.pension.wire import InquiryRow
from contracts.ids import random_letters
from contracts.messages.intermediate_server import (
    CodeAcquisitionCompleted,
    CodeStatus,
    DuplicateChangeRecord,
    DuplicateDataRegistered,
    DuplicateOperation,
    InfoKind,
    InfoQueryAnswered,
    InfoQueryRecord,
    PensionDuplicateData,
    PensionKind,
    ProvisionNoticed,
    TableBasis,
)
from contracts.usage_number import UsageNumber
from hub.demo.data import DEMO_ASSOCIATION
from hub.demo.flow import FlowResult

if TYPE_CHECKING:
    from pydantic import BaseModel

    from hub.demo.deployment import LocalDeployment

__all__ = ["DuplicateDataFlow", "FlowResult", "InfoQueryFlow", "ProvisionNoticeFlow"]

QUERY_BASIS: Final = TableBasis(current_item=84, current_article="第86条", legacy_item=59)
"""地共済法による年金である給付の支給 (命令 第2条の表 84の項, 第86条; 別表第二 59の項)."""


class _Inbox:
    """The pension system's side: the hub's answers of one type, each file read once."""

    def __init__(self, outbound: Path, message_type: str, model: type[BaseModel]) -> None:
        self._outbound, self._type, self._model = outbound, message_type, model
        self._seen: dict[str, Any] = {}

    def payloads(self) -> list[Any]:
        for env in read_hub_messages(self._outbound, self._type):
            key = str(env.message_id)
            if key not in self._seen:
                self._seen[key] = self._model.model_validate(env.payload)
        return list(self._seen.values())


class _Flow:
    """Code acquisition for the flow's people, then the flow's own requests."""

    name = ""

    def __init__(self) -> None:
        stamp = f"{datetime.now(UTC):%Y%m%d%H%M%S}"
        self.batch_id = f"{self.name}-{stamp}-{random_letters(4)}"
        self._run = random_letters(6).upper()
        self._hub: LocalDeployment | None = None
        self._usage: list[UsageNumber] = []
        self._codes: _Inbox | None = None
        self._requests_sent = False

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Load the synthetic 個人番号管理ファイル (usage number ↔ number) into the vault."""
        hub.enrol_population(hub.population(records), records)

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Ask for the code of every person of the flow."""
        population = hub.population(records)
        self._hub = hub
        self._usage = [population.usage_number(i) for i in range(records)]
        outbound = hub.settings.wire_dir / "pension" / "outbound"
        self._codes = _Inbox(outbound, "pension.code_acquisition.completed", CodeAcquisitionCompleted)
        self._open(outbound)
        self._pension = PensionRequestsSimulator(hub.settings.wire_dir / "pension")
        self._pension.drop_code_acquisition(
            (InquiryRow(record_seq=i, usage_number=u) for i, u in enumerate(self._usage)),
            batch_id=f"{self.batch_id}-codes",
            actor=DEMO_ASSOCIATION,
        )

    def code_statuses(self) -> dict[int, CodeStatus]:
        """Code statuses answered so far, by person index."""
        statuses: dict[int, CodeStatus] = {}
        for payload in self._codes.payloads() if self._codes else []:
            if payload.batch_id == f"{self.batch_id}-codes":
                statuses.update({r.record_seq: r.status for r in payload.records})
        return statuses

    def _advance(self) -> None:
        if self._requests_sent or self._hub is None:
            return
        statuses = self.code_statuses()
        if len(statuses) < len(self._usage):
            return
        self._requests_sent = True
        self._send(statuses)

    def _send(self, statuses: dict[int, CodeStatus]) -> None:
        """Drop the flow's request file, as the pension system does, on behalf of the demo's 構成組合."""
        raise NotImplementedError

    def _open(self, outbound: Path) -> None:
        raise NotImplementedError


class InfoQueryFlow(_Flow):
    """情報照会: for every person, 住民票関係情報 and 地方税関係情報 from their municipality.

    Sent: two queries per person. Completed: answers (of any status) that reached the pension system.
    """

    name = "info_query"

    def _open(self, outbound: Path) -> None:
        self._answers = _Inbox(outbound, "pension.info_query.answered", InfoQueryAnswered)

    def _send(self, statuses: dict[int, CodeStatus]) -> None:
        """Drop the queries as the pension system does: an ``info_query`` request file (事務(9))."""
        del statuses  # the hub answers a person without a code itself (code_not_acquired)
        self._pension.drop_info_queries(self._queries(), batch_id=self.batch_id, actor=DEMO_ASSOCIATION)

    def _queries(self) -> Iterator[InfoQueryRecord]:
        today = date.today()
        tax_year = today.year if today.month >= 6 else today.year - 1
        seq = 0
        for i, usage in enumerate(self._usage):
            provider = DEMO_MUNICIPALITIES[i % len(DEMO_MUNICIPALITIES)].code
            for kind, spi, year in (
                (InfoKind.RESIDENT_RECORD, RESIDENT_RECORD_SPI, None),
                (InfoKind.LOCAL_TAX, LOCAL_TAX_SPI, tax_year),
            ):
                yield InfoQueryRecord(
                    record_seq=seq,
                    query_ref=f"{self._run}.{i}.{kind.value}",
                    usage_number=usage,
                    info_kind=kind,
                    spi_code=spi,
                    jimu_code="J084",
                    basis=QUERY_BASIS,
                    provider_org_code=provider,
                    tax_year=year,
                )
                seq += 1

    def _mine(self) -> list[Any]:
        prefix = f"{self._run}."
        return [r for p in self._answers.payloads() for r in p.records if r.query_ref.startswith(prefix)]

    def sent(self) -> int:
        """Queries: two per person."""
        return 2 * len(self._usage)

    def completed(self) -> int:
        """Distinct queries answered; sends the queries once every code request was answered."""
        self._advance()
        return len({r.query_ref for r in self._mine()}) if self._requests_sent else 0

    def finish(self) -> FlowResult:
        """Answers by status (or error)."""
        rows = self._mine() if self._requests_sent else []
        outcomes = Counter(r.error.value if r.error else r.status.value for r in rows)
        return FlowResult.counted(self.sent(), [r.query_ref for r in rows], outcomes)


def _pension_data(i: int) -> PensionDuplicateData:
    return PensionDuplicateData(
        pension_kind=(PensionKind.RETIREMENT, PensionKind.DISABILITY, PensionKind.SURVIVOR)[i % 3],
        annual_amount=1_200_000 + (i % 50) * 10_000,
        suspended=i % 17 == 0,
        entitled_from=date(2010 + i % 10, 1 + i % 12, 1),
    )


def _change(
    seq: int, i: int, usage: UsageNumber, record_id: str, op: DuplicateOperation
) -> DuplicateChangeRecord:
    return DuplicateChangeRecord(
        record_seq=seq,
        usage_number=usage,
        operation=op,
        record_id=record_id,
        spi_code=PENSION_SPI,
        dataset_item_code="NENKIN01",
        spi_version=1,
        publication_start=date.today(),
        data=None
        if op is DuplicateOperation.DELETE
        else _pension_data(i + (op is DuplicateOperation.UPDATE)),
    )


class DuplicateDataFlow(_Flow):
    """副本登録: every person's 年金給付関係情報 is inserted, some updated, a few deleted.

    Every tenth insert is sent twice, to show the network's ``duplicate_record_id``.
    Sent: 副本 changes. Completed: results (of any status) that reached the pension system.
    """

    name = "duplicate_data"

    def _open(self, outbound: Path) -> None:
        self._results = _Inbox(outbound, "pension.duplicate_data.registered", DuplicateDataRegistered)
        self._changes = sum(1 + (i % 4 == 0) + (i % 10 == 0) + (i % 25 == 0) for i in range(len(self._usage)))

    def _send(self, statuses: dict[int, CodeStatus]) -> None:
        """Drop the changes as a ``duplicate_changes`` file (副本登録, 事務(10))."""
        del statuses  # the hub answers a person without a code itself (code_not_acquired)
        self._pension.drop_duplicate_changes(self._records(), batch_id=self.batch_id, actor=DEMO_ASSOCIATION)

    def _records(self) -> Iterator[DuplicateChangeRecord]:
        """Each person's changes together, in the order they apply (the file's rule)."""
        seq = 0
        for i, usage in enumerate(self._usage):
            record_id = f"D{self._run}{i:07d}"
            ops = [DuplicateOperation.INSERT]
            ops += [DuplicateOperation.UPDATE] * (i % 4 == 0)
            ops += [DuplicateOperation.INSERT] * (i % 10 == 0)  # a repeated record id: refused
            ops += [DuplicateOperation.DELETE] * (i % 25 == 0)
            for op in ops:
                yield _change(seq, i, usage, record_id, op)
                seq += 1

    def _mine(self) -> list[Any]:
        return [r for p in self._results.payloads() if p.batch_id == self.batch_id for r in p.records]

    def sent(self) -> int:
        """副本 changes."""
        return self._changes if self._usage else 0

    def completed(self) -> int:
        """Distinct changes with a result; sends the changes once every code request was answered."""
        self._advance()
        return len({r.record_seq for r in self._mine()}) if self._requests_sent else 0

    def finish(self) -> FlowResult:
        """Results by status (or error)."""
        rows = self._mine() if self._requests_sent else []
        outcomes = Counter(r.error.value if r.error else r.status.value for r in rows)
        return FlowResult.counted(self.sent(), [r.record_seq for r in rows], outcomes)


class ProvisionNoticeFlow(_Flow):
    """情報提供: the network serves the federation's 副本 to other institutions and notices it.

    副本 records are inserted for every person with a code; the network serves each to another institution
    and notices the federation, which records it (情報提供等記録) and tells the pension system.
    Sent: inserts made (people whose code is held). Completed: provision notices that reached the pension
    system for those records.
    """

    name = "provision_notice"

    def _open(self, outbound: Path) -> None:
        self._notices = _Inbox(outbound, "pension.provision.noticed", ProvisionNoticed)
        self._inserts: int | None = None

    def _send(self, statuses: dict[int, CodeStatus]) -> None:
        """Drop an insert for every person with a code as a ``duplicate_changes`` file."""
        held = (CodeStatus.ACQUIRED, CodeStatus.ALREADY_HELD)
        people = [(i, u) for i, u in enumerate(self._usage) if statuses.get(i) in held]
        self._inserts = len(people)
        if not people:
            return  # no file for nobody (a file needs a row)
        inserts = (_change(i, i, u, f"P{self._run}{i:07d}", DuplicateOperation.INSERT) for i, u in people)
        self._pension.drop_duplicate_changes(inserts, batch_id=self.batch_id, actor=DEMO_ASSOCIATION)

    def _mine(self) -> list[Any]:
        prefix = f"P{self._run}"
        return [r for p in self._notices.payloads() for r in p.records if r.record_id.startswith(prefix)]

    def sent(self) -> int:
        """Inserts made (before the code answers are in: one per person)."""
        return len(self._usage) if self._inserts is None else self._inserts

    def completed(self) -> int:
        """Distinct 副本 records noticed as provided."""
        self._advance()
        return len({r.record_id for r in self._mine()}) if self._requests_sent else 0

    def finish(self) -> FlowResult:
        """Notices by requesting institution."""
        rows = self._mine() if self._requests_sent else []
        outcomes = Counter(r.requester_name for r in rows)
        if self._inserts is not None:
            outcomes["no_code"] = len(self._usage) - self._inserts
        return FlowResult.counted(self.sent(), [r.record_id for r in rows], outcomes)

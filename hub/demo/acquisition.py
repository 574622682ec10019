"""Number acquisition by 基本4情報 (個人番号の取得照会) as a demo flow.

The simulated pension system drops a request file of ``records`` new entitlements (新規裁定) with their
4情報, taken from the register the simulated J-LIS searches (:func:`hub.demo.data.demo_register`): most are
found alone and linked, namesakes asked with three items come back with two candidates, some are not found
(a mistyped birth date, a record without a 住民票コード). Those are held for an operator, and a held record
is complete for the demo: it has its outcome (``held``), and ``renkei vault pending`` lists it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from adapters.jlis import NewEntitlementRegister
from adapters.pension.acquisition import AcquisitionRow
from adapters.pension.simulator_kinds import PensionRequestsSimulator
from contracts.purpose_table import FEDERATION
from hub.demo.data import demo_register
from hub.demo.flow import FlowResult

if TYPE_CHECKING:
    from hub.demo.deployment import LocalDeployment

__all__ = ["AcquisitionFlow", "entitlement_rows"]


def entitlement_rows(register: NewEntitlementRegister, indexes: range) -> Iterator[AcquisitionRow]:
    """The request rows of the register's new entitlements ``indexes`` (``record_seq`` = index + 1)."""
    for index in indexes:
        e = register.entitlement(index)
        yield AcquisitionRow(index + 1, e.usage_number, e.name, e.birth_date, e.address, e.sex)


class AcquisitionFlow:
    """Drops one number acquisition request of ``records`` new entitlements."""

    name = "number_acquisition"

    def __init__(self) -> None:
        self.batch_id = f"acq-{datetime.now(UTC):%Y%m%d%H%M%S%f}"
        self._records = 0
        self._pension: PensionRequestsSimulator | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Nothing to seed: new entitlements are not in the vault yet."""

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Write the request file the way the pension system does (temporary name, manifest last)."""
        self._records = records
        self._pension = PensionRequestsSimulator(hub.settings.wire_dir / "pension")
        rows = entitlement_rows(demo_register(records), range(records))
        self._pension.drop_acquisition_request(
            rows, as_of=date.today(), batch_id=self.batch_id, actor=FEDERATION
        )

    def sent(self) -> int:
        """New entitlements asked about."""
        return self._records

    def completed(self) -> int:
        """New entitlements with an outcome (linked or held)."""
        return self._pension.completed_acquisitions(self.batch_id) if self._pension else 0

    def finish(self) -> FlowResult:
        """Read the outcome files: distinct records, repeated rows, statuses and hold reasons."""
        outcomes: Counter[str] = Counter()
        seen: set[int] = set()
        rows = 0
        for row in self._pension.acquisition_outcomes(self.batch_id) if self._pension else ():
            rows += 1
            seen.add(row.record_seq)
            outcomes[row.status.value if row.hold_reason is None else f"held:{row.hold_reason.value}"] += 1
        return FlowResult(
            sent=self._records, completed=len(seen), duplicates=rows - len(seen), outcomes=dict(outcomes)
        )

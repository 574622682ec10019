"""Claims forwarded to the other implementing bodies (事務 (6), ワンストップサービス) as a demo flow.

The demo stands in for the pension system, as the intermediate server's flows do: it publishes
``pension.claim_forwarding.requested`` straight to the hub's ingress on behalf of a 構成組合
(:data:`hub.demo.data.DEMO_ASSOCIATION`; the federation may not do 事務 (6)), :data:`CLAIMS_PER_MESSAGE`
claims a message. Most claims are one-stop (老齢 特別支給・繰上げ・繰下げ, 遺族 naming the deceased),
each for one or two destinations; one in ten is not (障害, or the 本来支給 claim at 65) and the hub
refuses it at its door.
The hub adds the numbers sealed for ``implementing_bodies``, the adapter writes one file per destination, and
the simulated bodies take each claim or return it (one in ten, :class:`ImplementingBodiesSimulator`).

A claim counts as completed when every answer it is owed reached the pension system as
``pension.claim_forwarding.outcomes``: one per destination for a forwarded claim, one for a refused claim.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from contracts.ids import new_id, random_letters
from contracts.messages.implementing_bodies import (
    ONE_STOP,
    ClaimForwardingOutcomes,
    ClaimForwardingRequested,
    ClaimKind,
    ClaimRequest,
    ImplementingBody,
    ScannedPage,
)
from contracts.purpose_table import default_table
from hub.demo._eltax_common import FlowResult, PensionInbox
from hub.demo.data import DEMO_ASSOCIATION
from hub.demo.flow import pension_request

if TYPE_CHECKING:
    from adapters.jlis import SyntheticPopulation
    from hub.demo.deployment import LocalDeployment

__all__ = ["CLAIMS_PER_MESSAGE", "REQUEST_TYPE", "ClaimForwardingFlow", "claim"]

REQUEST_TYPE: Final = "pension.claim_forwarding.requested"
OUTCOMES_TYPE: Final = "pension.claim_forwarding.outcomes"
CLAIMS_PER_MESSAGE: Final = 100
_DESTINATIONS: Final = (
    (ImplementingBody.JPS,),
    (ImplementingBody.JPS, ImplementingBody.KKR),
    (ImplementingBody.SHIGAKU,),
    (ImplementingBody.LOCAL, ImplementingBody.JPS),
)


def _kind(index: int) -> ClaimKind:
    if index % 10 == 7:
        return ClaimKind.DISABILITY if index % 20 == 7 else ClaimKind.OLD_AGE_AT_65
    return (
        ClaimKind.OLD_AGE_SPECIAL,
        ClaimKind.OLD_AGE_EARLY,
        ClaimKind.OLD_AGE_DEFERRED,
        ClaimKind.SURVIVORS,
    )[index % 4]


def _page(index: int, page: int) -> ScannedPage:
    # The digest of a synthetic page, the same in every run.
    digest = hashlib.sha256(f"renkei.demo.claim/{index}/{page}".encode()).hexdigest()
    return ScannedPage(name=f"claim-{index:06d}-{page}.png", sha256=digest)


def claim(population: SyntheticPopulation, records: int, index: int, received_on: date) -> ClaimRequest:
    """Claim ``index`` of the demo: its kind, destinations and pages follow from the index alone."""
    kind = _kind(index)
    survivor = kind is ClaimKind.SURVIVORS
    return ClaimRequest(
        record_seq=index,
        kind=kind,
        received_on=received_on - timedelta(days=index % 7),
        claimant=population.usage_number(index),
        basic_pension_number=f"{4_000_000_000 + index:010d}",
        deceased=population.usage_number((index + 1) % records) if survivor else None,
        deceased_basic_pension_number=f"{4_000_000_000 + (index + 1) % records:010d}" if survivor else None,
        destinations=_DESTINATIONS[index % len(_DESTINATIONS)],
        pages=tuple(_page(index, p) for p in range(1, 2 + index % 3)),
    )


class ClaimForwardingFlow:
    """Claims a 構成組合 received, forwarded to the other implementing bodies."""

    name = "claim_forwarding"

    def __init__(self) -> None:
        self.batch_id = f"claim-forwarding-{datetime.now(UTC):%Y%m%d%H%M%S}-{random_letters(4)}"
        self._owed: dict[int, int] = {}
        self._inbox: PensionInbox | None = None

    def prepare(self, hub: LocalDeployment, records: int) -> None:
        """Load the synthetic 個人番号管理ファイル (usage number ↔ number) into the vault."""
        hub.enrol_population(hub.population(records), records)

    def start(self, hub: LocalDeployment, records: int) -> None:
        """Publish the claims, :data:`CLAIMS_PER_MESSAGE` a message, as the 構成組合's pension system."""
        population = hub.population(records)
        claims = [claim(population, records, i, date.today()) for i in range(records)]
        # a forwarded claim is owed an answer per destination; a refused one, the hub's one answer
        self._owed = {c.record_seq: len(c.destinations) if c.kind in ONE_STOP else 1 for c in claims}
        purpose = default_table().request_purpose(REQUEST_TYPE)
        envelopes = []
        for start in range(0, records, CLAIMS_PER_MESSAGE):
            part = tuple(claims[start : start + CLAIMS_PER_MESSAGE])
            payload = ClaimForwardingRequested(
                batch_id=f"{self.batch_id}-{start // CLAIMS_PER_MESSAGE:04d}", records=part
            )
            envelopes.append(
                pension_request(REQUEST_TYPE, purpose, payload, actor=DEMO_ASSOCIATION, correlation=new_id())
            )
        self._inbox = PensionInbox(hub, *(e.correlation_id for e in envelopes))
        hub.publish_as_pension(envelopes)

    def outcomes(self) -> list[ClaimForwardingOutcomes]:
        """The outcomes of the flow's claims that reached the pension system so far."""
        if self._inbox is None:
            return []
        found: list[ClaimForwardingOutcomes] = self._inbox.read(OUTCOMES_TYPE, ClaimForwardingOutcomes)
        return found

    def _answers(self) -> list[tuple[int, ImplementingBody | None]]:
        # record_seq is the claim's index in the whole flow: unique across its messages
        return [(r.record_seq, r.destination) for o in self.outcomes() for r in o.outcomes]

    def sent(self) -> int:
        """Claims sent."""
        return len(self._owed)

    def completed(self) -> int:
        """Claims every answer of which reached the pension system."""
        got = Counter(seq for seq, _ in set(self._answers()))
        return sum(1 for seq, owed in self._owed.items() if got[seq] >= owed)

    def finish(self) -> FlowResult:
        """Final counts: claims completed and twice; answers forwarded, returned and refused."""
        answers = self._answers()
        statuses = Counter(r.status.value for o in self.outcomes() for r in o.outcomes)
        result = FlowResult.counted(len(self._owed), answers, statuses)
        result.completed = self.completed()
        return result

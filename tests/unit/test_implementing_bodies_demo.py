"""The claim-forwarding demo flow: its claims, and how it counts a claim complete from its answers."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from contracts.messages.implementing_bodies import (
    ONE_STOP,
    ClaimForwardingOutcomes,
    ClaimOutcome,
    ForwardingStatus,
    ImplementingBody,
)
from contracts.redaction import find_numbers
from hub.demo._eltax_common import PensionInbox
from hub.demo.data import demo_population
from hub.demo.implementing_bodies import ClaimForwardingFlow, claim
from hub.demo.registry import FLOWS


class _Inbox(PensionInbox):
    """The pension system's inbox, holding the outcomes a test gives it."""

    def __init__(self, outcomes: list[ClaimForwardingOutcomes]) -> None:
        self.outcomes = outcomes

    def read(self, message_type: str, model: type[Any]) -> list[ClaimForwardingOutcomes]:
        assert (message_type, model) == ("pension.claim_forwarding.outcomes", ClaimForwardingOutcomes)
        return self.outcomes


def test_the_demo_runs_the_flow_with_every_kind_of_claim():
    assert FLOWS["claim_forwarding"] is ClaimForwardingFlow
    population = demo_population(40)
    claims = [claim(population, 40, i, date(2026, 11, 9)) for i in range(40)]
    kinds = Counter(c.kind for c in claims)
    assert sum(n for k, n in kinds.items() if k not in ONE_STOP) == 4  # one in ten is refused
    assert set(ONE_STOP) <= set(kinds)
    assert {d for c in claims for d in c.destinations} == set(ImplementingBody)
    assert all((c.deceased is not None) == (c.kind.value == "survivors") for c in claims)
    # The pages' digests are fixed synthetic values; none looks like a number to the scanners.
    assert not find_numbers(" ".join(p.sha256 for c in claims for p in c.pages))


def test_a_claim_completes_when_every_answer_it_is_owed_arrived_and_counts_once():
    flow = ClaimForwardingFlow()
    flow._owed = {0: 2, 1: 1}  # claim 0 to two bodies; claim 1 refused by the hub
    jps = ClaimOutcome(record_seq=0, destination=ImplementingBody.JPS, status=ForwardingStatus.FORWARDED)
    kkr = ClaimOutcome(
        record_seq=0, destination=ImplementingBody.KKR, status=ForwardingStatus.RETURNED, reason="R010"
    )
    refused = ClaimOutcome(record_seq=1, status=ForwardingStatus.REFUSED, reason="not_one_stop")
    first = ClaimForwardingOutcomes(batch_id="b", outcomes=(jps, refused))
    flow._inbox = _Inbox([first])
    assert (flow.sent(), flow.completed()) == (2, 1)
    flow._inbox = _Inbox([first, ClaimForwardingOutcomes(batch_id="b", outcomes=(kkr,)), first])
    result = flow.finish()
    assert (result.sent, result.completed, result.duplicates) == (2, 2, 2)
    assert result.outcomes == {"forwarded": 2, "refused": 2, "returned": 1}

"""The other implementing bodies' bad receipts, each refused by their adapter with its reason (in process)."""

from __future__ import annotations

import pytest

from contracts.ids import new_id
from tests.corpus.links import LinkCase, assert_refused_with_its_reason, implementing_bodies_cases
from tests.implementing_bodies_fixtures import Sealing

CASES = list(implementing_bodies_cases(str(new_id())))


@pytest.fixture(scope="module")
def sealing() -> Sealing:
    return Sealing()


def test_the_cases_are_many_and_named_once():
    ids = [c.id for c in CASES]
    assert len(ids) >= 25
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_bad_receipt_is_refused_with_its_reason(sealing: Sealing, case: LinkCase):
    assert_refused_with_its_reason(sealing.adapter().from_counterpart, case)


def test_as_a_control_the_receipt_the_cases_break_is_taken(sealing: Sealing):
    # The cases start from this receipt (head, one claim taken, one returned): unbroken, it is an answer.
    import uuid

    from adapters.implementing_bodies.names import forwarding_file_name, receipt_file_name
    from contracts.link import CounterpartFile
    from contracts.messages.implementing_bodies import ImplementingBody

    forwarding = forwarding_file_name(ImplementingBody.JPS, uuid.uuid4())
    good = f"H,{forwarding},cf-1,1,20261104,1,1\r\nA,0\r\nR,1,pages,R010\r\n".encode()
    file = CounterpartFile("implementing_bodies", receipt_file_name(forwarding), good, str(new_id()))
    (message,) = sealing.adapter().from_counterpart(file).to_hub
    assert message.message_type == "implementing_bodies.receipt"

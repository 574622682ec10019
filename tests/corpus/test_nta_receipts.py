"""The National Tax Agency's bad receipts, each refused by the NTA adapter with its reason (in process).

The cases (``tests.corpus.links.nta_cases``) are fed to :meth:`adapters.nta.NtaAdapter.from_counterpart`
directly: until the deployment names ``nta`` among its lines (docs/adapters.md, steps 4 and 5), the link
cipher has no key for it, so the cases join ``test_readers.py`` and the end-to-end corpus when it does.
"""

from __future__ import annotations

import pytest

from contracts.ids import new_id
from tests.corpus.links import LinkCase, assert_refused_with_its_reason, nta_cases
from tests.nta_fixtures import Sealing

CASES = list(nta_cases(str(new_id())))


@pytest.fixture(scope="module")
def sealing() -> Sealing:
    return Sealing()


def test_the_cases_are_many_and_named_once():
    ids = [c.id for c in CASES]
    assert len(ids) >= 30
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_each_bad_receipt_is_refused_with_its_reason(sealing: Sealing, case: LinkCase):
    assert_refused_with_its_reason(sealing.adapter().from_counterpart, case)

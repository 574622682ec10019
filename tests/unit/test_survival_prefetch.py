"""The survival inquiry's prefetch looks up a batch's J-LIS references at once, for exactly those asked.

The hub's worker runs a prefetcher over a batch of deliveries before their handlers; for single-person
requests the references (J-LIS-scope tokens, recorded on first use) were looked up one message at a time,
about half of the hub's time per request (`renkei bench --phase hub`, py-spy). The prefetch must not
widen what is recorded: a person the purpose check keeps back gets no J-LIS reference.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest

from contracts.envelope import new_envelope
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import (
    JlisSurvivalChangeInquiry,
    SurvivalInquiryRecord,
    SurvivalInquiryRequested,
)
from contracts.purpose_table import FEDERATION, default_table
from contracts.registry import Decoded, decode, encode, payload_dict
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.flows.survival import (
    JLIS_REF_SCOPE,
    handle_survival_request,
    prefetch_survival_requests,
)
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.memory.transport import InMemoryTransport
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Ground, Retention, SubjectId, TokenScope
from hub.settings import Settings
from tests._shared_transport import shared
from tests.handler_context import handler_context

RECIPIENTS = 4
CHILDREN = 2


@pytest.fixture
def hub(tmp_path) -> Iterator[LocalDeployment]:
    deployment = local_deployment(
        Settings(data_dir=tmp_path / "var", exchange_prefix="t", log_json=False),
        transports=shared(InMemoryTransport()),
        configure_logs=False,
    )
    deployment.prepare()
    yield deployment
    deployment.close()


def _people() -> list[tuple[UsageNumber, IndividualNumber, Ground]]:
    import random

    draw = random.Random(23)
    numbers: list[IndividualNumber] = []
    while len(numbers) < RECIPIENTS + CHILDREN:
        n = synthetic_individual_number(draw)
        if n not in numbers:
            numbers.append(n)
    recipients = [
        (
            UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=f"P{i:010d}"),
            Ground("recipient", "jlis"),
        )
        for i in range(1, RECIPIENTS + 1)
    ]
    children = [  # dependants known only from a declaration: J-LIS may not be asked about them
        (UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D{i:011d}"), Ground("dependant", "declaration"))
        for i in range(1, CHILDREN + 1)
    ]
    return [
        (usage, number, ground)
        for (usage, ground), number in zip(recipients + children, numbers, strict=True)
    ]


def _requests(
    people: Sequence[tuple[UsageNumber, IndividualNumber, Ground]],
) -> list[Decoded[SurvivalInquiryRequested]]:
    """One single-person request per person, as the pension adapter sends them in the bench."""
    out = []
    for index, (usage, _, _) in enumerate(people):
        payload = SurvivalInquiryRequested(
            chunk=ChunkInfo(batch_id=f"b{index}", chunk_index=0, chunk_count=1, total_records=1),
            cycle="2026-12",
            as_of=date(2026, 11, 20),
            records=(SurvivalInquiryRecord(record_seq=1, usage_number=usage),),
        )
        envelope = new_envelope(
            message_type="pension.survival_inquiry.requested",
            schema_version=1,
            source="pension",
            destination="hub",
            purpose=default_table().request_purpose("pension.survival_inquiry.requested"),
            payload=payload_dict(payload),
            actor=FEDERATION,
        )
        out.append(decode(encode(envelope)).narrow(SurvivalInquiryRequested))
    return out


def test_one_reference_look_up_per_batch_and_none_for_the_people_kept_back(hub, monkeypatch):
    people = _people()
    with hub.uow_factory()() as uow:
        subjects = uow.vault.enrol([(u, n) for u, n, _ in people], retention=Retention("test"), source="test")
        uow.vault.add_grounds([(subjects[u], g) for u, _, g in people], source="test")
        uow.commit()
    recipients = {subjects[u] for u, _, g in people if g.role == "recipient"}

    calls: Counter[TokenScope] = Counter()
    asked_for: dict[TokenScope, set[SubjectId]] = {}
    original = SqlVault.tokens

    def counting(self: SqlVault, scope: TokenScope, of: Sequence[SubjectId]) -> Any:
        calls[scope] += 1
        asked_for.setdefault(scope, set()).update(of)
        return original(self, scope, of)

    monkeypatch.setattr(SqlVault, "tokens", counting)
    messages = _requests(people)
    with hub.uow_factory()() as uow:
        ctx = handler_context(hub, uow)
        prefetch_survival_requests(messages, ctx)
        assert (calls[JLIS_REF_SCOPE], asked_for.get(JLIS_REF_SCOPE)) == (1, recipients)
        out = [e for m in messages for e in handle_survival_request(m, ctx)]
        refs_now = uow.vault.tokens(JLIS_REF_SCOPE, sorted(recipients))
        uow.commit()

    # The handlers were answered from the prefetch: still one look-up, for the four recipients only.
    assert (calls[JLIS_REF_SCOPE], asked_for[JLIS_REF_SCOPE]) == (1, recipients)
    inquiries = [
        JlisSurvivalChangeInquiry.model_validate(e.payload)
        for e in out
        if e.message_type == "jlis.survival_change.inquiry"
    ]
    assert sorted(r.ref for i in inquiries for r in i.records) == sorted(refs_now.values())
    assert len(inquiries) == RECIPIENTS

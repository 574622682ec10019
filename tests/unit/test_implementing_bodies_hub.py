"""The hub's side of forwarding claims to the other implementing bodies (事務 (6), ワンストップサービス).

Only a 構成組合 may ask (the federation is refused at the worker, dead-lettered and recorded, and the handler
refuses it too); a claim the one-stop service does not cover is refused and recorded, never forwarded; the
numbers are sealed for ``implementing_bodies`` alone, bound to each destination's message.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest

from contracts.envelope import Envelope, new_envelope
from contracts.errors import ActorNotPermitted, PolicyRefused, SealError
from contracts.messages.implementing_bodies import (
    CLAIM_FORWARDING_PURPOSE,
    NOT_ONE_STOP,
    ClaimForwarding,
    ClaimForwardingOutcomes,
    ClaimForwardingRequested,
    ClaimKind,
    ClaimRequest,
    ForwardingReceipt,
    ForwardingStatus,
    ImplementingBody,
    ReturnedClaim,
    ScannedPage,
    claimant_number_field,
    deceased_number_field,
)
from contracts.purpose_table import default_table
from contracts.redaction import find_numbers
from contracts.registry import encode, payload_dict
from contracts.usage_number import UsageNumber
from hub.core.flows.implementing_bodies import handle_claim_forwarding_request, handle_forwarding_receipt
from hub.core.rules.policy import NumberPolicy
from hub.core.runtime.routing import to_outgoing
from hub.infra.audit.query import search
from hub.infra.crypto.sealing import HpkeUnsealer
from hub.ports.audit import AuditAction
from hub.ports.dead_letters import DeadLetterQuery
from tests.eltax_fixtures import certificate, number
from tests.tax_report_hub import dependant, enrolled_hub, run
from tests.unit.test_dlq_fixtures import FlakyHandler, make_env

ASSOCIATION = "m130001"
REQUEST = "pension.claim_forwarding.requested"
PAGE = ScannedPage(name="claim-1.png", sha256=hashlib.sha256(b"page").hexdigest())


@pytest.fixture
def hub(tmp_path):
    yield from enrolled_hub(tmp_path)


def claim(
    seq: int,
    claimant: UsageNumber,
    kind: ClaimKind = ClaimKind.OLD_AGE_SPECIAL,
    destinations: tuple[ImplementingBody, ...] = (ImplementingBody.JPS,),
    deceased: UsageNumber | None = None,
) -> ClaimRequest:
    return ClaimRequest(
        record_seq=seq,
        kind=kind,
        received_on=date(2026, 11, 2),
        claimant=claimant,
        basic_pension_number=f"{1_000_000_000 + seq:010d}",
        deceased=deceased,
        deceased_basic_pension_number=None if deceased is None else "2000000001",
        destinations=destinations,
        pages=(PAGE,),
    )


def request(*claims: ClaimRequest, actor: str = ASSOCIATION) -> Envelope:
    return new_envelope(
        message_type=REQUEST,
        schema_version=1,
        source="pension",
        actor=actor,
        destination="hub",
        purpose=default_table().request_purpose(REQUEST),
        payload=payload_dict(ClaimForwardingRequested(batch_id="cf", records=claims)),
    )


def test_one_forwarding_per_destination_numbers_sealed_for_the_adapter_alone(hub):
    both = (ImplementingBody.JPS, ImplementingBody.KKR)
    out = run(
        hub,
        handle_claim_forwarding_request,
        request(
            claim(0, certificate(0), destinations=both),
            claim(1, certificate(1), ClaimKind.SURVIVORS, (ImplementingBody.KKR,), deceased=certificate(2)),
            claim(2, certificate(9)),  # the vault holds no number: forwarded with the 基礎年金番号 alone
        ),
    )
    assert [(e.message_type, e.destination, e.purpose.code) for e in out] == [
        (
            "implementing_bodies.claim.forwarding",
            "implementing_bodies",
            "implementing_bodies.claim_forwarding",
        )
    ] * 2
    assert all(not find_numbers(encode(e).decode()) for e in out)
    jps, kkr = (ClaimForwarding.model_validate(e.payload) for e in out)
    assert (jps.destination, kkr.destination) == (ImplementingBody.JPS, ImplementingBody.KKR)
    assert (jps.forwarded_by, kkr.forwarded_by) == (ASSOCIATION, ASSOCIATION)
    assert [c.record_seq for c in jps.claims] == [0, 2]
    assert [c.record_seq for c in kkr.claims] == [0, 1]
    ib = HpkeUnsealer(hub.keyring.unsealing("implementing_bodies"))
    field = claimant_number_field(0)
    for env, payload in ((out[0], jps), (out[1], kkr)):
        sealed = payload.claims[0].individual_number
        assert sealed is not None
        assert ib.unseal(sealed, message_id=env.message_id, field=field) == number(0)
    survivor = kkr.claims[1]
    assert survivor.deceased_individual_number is not None
    opened = ib.unseal(
        survivor.deceased_individual_number, message_id=out[1].message_id, field=deceased_number_field(1)
    )
    assert opened == number(2)
    assert jps.claims[1].individual_number is None
    # Sealed for this adapter only, and for each destination's message only.
    first = jps.claims[0].individual_number
    assert first is not None
    for other in ("nta", "jlis", "hub"):
        with pytest.raises(SealError):
            HpkeUnsealer(hub.keyring.unsealing(other)).unseal(
                first, message_id=out[0].message_id, field=field
            )
    with pytest.raises(SealError):
        ib.unseal(first, message_id=out[1].message_id, field=field)
    with hub.engine.connect() as conn:
        enriched = search(conn, action=AuditAction.ENRICHED.value)
    assert sorted(r.details["numbers"] for r in enriched) == [
        "1",
        "3",
    ]  # JPS: 0 (2 has none); KKR: 0, 1 and the deceased


@pytest.mark.parametrize("kind", sorted(NOT_ONE_STOP))
def test_a_claim_the_one_stop_service_does_not_cover_is_refused_and_recorded_never_forwarded(hub, kind):
    env = request(claim(0, certificate(0), kind), claim(1, certificate(1)))
    forwarding, answer = run(hub, handle_claim_forwarding_request, env)
    assert [c.record_seq for c in ClaimForwarding.model_validate(forwarding.payload).claims] == [1]
    assert (answer.message_type, answer.destination) == ("pension.claim_forwarding.outcomes", "pension")
    [outcome] = ClaimForwardingOutcomes.model_validate(answer.payload).outcomes
    assert (outcome.record_seq, outcome.status, outcome.reason) == (
        0,
        ForwardingStatus.REFUSED,
        "not_one_stop",
    )
    assert outcome.message == NOT_ONE_STOP[kind]
    with hub.engine.connect() as conn:
        [refused] = search(conn, message_id=str(env.message_id), action=AuditAction.REFUSED.value)
    assert (refused.outcome, refused.reason, refused.details["kinds"]) == (
        "refused",
        "not_one_stop",
        kind.value,
    )
    assert len(refused.subjects) == 1


def test_only_uncovered_claims_send_nothing_but_the_refusal(hub):
    [answer] = run(
        hub, handle_claim_forwarding_request, request(claim(0, certificate(0), ClaimKind.DISABILITY))
    )
    assert answer.message_type == "pension.claim_forwarding.outcomes"


def test_a_person_held_for_tax_only_is_not_forwarded(hub):
    # dependant(0) is held from a 扶養親族等申告書: the use serves recipients and spouses only.
    forwarding, answer = run(
        hub, handle_claim_forwarding_request, request(claim(0, dependant(0)), claim(1, certificate(1)))
    )
    assert [c.record_seq for c in ClaimForwarding.model_validate(forwarding.payload).claims] == [1]
    [outcome] = ClaimForwardingOutcomes.model_validate(answer.payload).outcomes
    assert (outcome.record_seq, outcome.status, outcome.reason) == (
        0,
        ForwardingStatus.REFUSED,
        "not_permitted",
    )


def test_the_federation_may_not_forward_claims(hub):
    with pytest.raises(ActorNotPermitted, match="構成組合のみ"):
        run(hub, handle_claim_forwarding_request, request(claim(0, certificate(9)), actor="federation"))


def test_the_worker_dead_letters_and_records_a_request_of_the_federation(tmp_path):
    env = make_env(tmp_path, per_service=True)
    handler = FlakyHandler(failures=0)
    by_federation = request(claim(0, certificate(0)), actor="federation")
    by_association = request(claim(0, certificate(0)))
    for envelope in (by_federation, by_association):
        env.mem.for_user("t-adapter-pension").publish([to_outgoing(envelope, env.hub.exchanges)])
    env.run(env.worker({(REQUEST, 1): handler}))
    assert handler.completed == [str(by_association.message_id)]  # the federation's never reached it
    [letter] = env.dead_letters(DeadLetterQuery(message_type=REQUEST, statuses=()))
    assert (letter.failure.reason_code, letter.actor) == ("actor_not_permitted", "federation")
    refused = [r for r in env.records("dead_lettered") if r.message_id == str(by_federation.message_id)]
    assert [r.reason for r in refused] == ["actor_not_permitted"]


def test_without_a_policy_rule_nothing_leaves(hub):
    with pytest.raises(PolicyRefused):
        run(hub, handle_claim_forwarding_request, request(claim(0, certificate(0))), NumberPolicy([]))


def test_a_receipt_becomes_the_pension_systems_outcomes(hub):
    receipt = ForwardingReceipt(
        forwarding="IB-FWD-kkr-" + "a" * 32 + ".csv",
        batch_id="cf",
        destination=ImplementingBody.KKR,
        received_on=date(2026, 11, 4),
        accepted=(0, 2),
        returned=(ReturnedClaim(record_seq=1, field="pages", reason="R010"),),
    )
    env = new_envelope(
        message_type="implementing_bodies.receipt",
        schema_version=1,
        source="implementing_bodies",
        destination="hub",
        purpose=CLAIM_FORWARDING_PURPOSE,
        payload=payload_dict(receipt),
        actor=ASSOCIATION,
    )
    [out] = run(hub, handle_forwarding_receipt, env)
    assert (out.message_type, out.purpose.code) == (
        "pension.claim_forwarding.outcomes",
        "pension.implementing_bodies",
    )
    outcomes = ClaimForwardingOutcomes.model_validate(out.payload)
    assert [(o.record_seq, o.destination, o.status, o.reason) for o in outcomes.outcomes] == [
        (0, ImplementingBody.KKR, ForwardingStatus.FORWARDED, None),
        (2, ImplementingBody.KKR, ForwardingStatus.FORWARDED, None),
        (1, ImplementingBody.KKR, ForwardingStatus.RETURNED, "R010"),
    ]
    with hub.engine.connect() as conn:
        [received] = search(conn, message_id=str(env.message_id), action=AuditAction.RECEIVED.value)
    assert (received.details["accepted"], received.details["returned"]) == ("2", "1")


def test_a_request_names_the_deceased_for_a_survivors_claim_only():
    with pytest.raises(ValueError, match="deceased"):
        claim(0, certificate(0), ClaimKind.SURVIVORS)
    with pytest.raises(ValueError, match="deceased"):
        claim(0, certificate(0), deceased=certificate(1))
    with pytest.raises(ValueError, match="once"):
        claim(0, certificate(0), destinations=(ImplementingBody.JPS, ImplementingBody.JPS))


def test_the_table_says_only_a_member_association_does_jimu_6():
    table = default_table()
    jimu = table.request_jimu(REQUEST)
    assert jimu is not None
    assert jimu.no == 6
    assert table.may_do("federation", 6) is not None
    assert table.may_do(ASSOCIATION, 6) is None

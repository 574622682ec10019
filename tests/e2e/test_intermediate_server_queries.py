"""情報照会 end to end on the real broker: codes, late answers, every error of the network or the hub."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from adapters.intermediate_server import (
    DEMO_MUNICIPALITIES,
    IntermediateServerSimulator,
    Municipality,
    Permission,
)
from contracts.messages.intermediate_server import (
    CodeStatus,
    InfoQueryRequested,
    IsError,
    QueryStatus,
    TableBasis,
)
from hub.infra.db.tables.audit import access_records, provision_records
from hub.ports.dead_letters import DeadLetterQuery
from tests.e2e.is_harness import LOCAL_TAX, RESIDENT, pension_envelope, query_record, running, wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.timeout(60)]


def simulator(**kw) -> IntermediateServerSimulator:
    options = {"seed": 7, "code_failure_every": 0, "no_data_every": 0, **kw}
    return IntermediateServerSimulator(**options)


def test_codes_then_late_answers_matched_by_record_id(e2e_settings):
    slow = (
        Municipality("271004", "大阪市", delay_ticks=3),
        Municipality("131016", "千代田区", delay_ticks=0),
    )
    sim = simulator(municipalities=slow)
    with running(e2e_settings, sim) as h:
        codes = h.acquire_codes([0, 1, 2])
        assert {r.status for r in codes.records} == {CodeStatus.ACQUIRED}
        again = h.acquire_codes([0])
        assert again.answered_by == "hub"
        assert again.records[0].status is CodeStatus.ALREADY_HELD
        assert sim.codes_issued == 3, "the hub asks the network once per person"

        h.query(
            [
                query_record(0, "late-tax", h.usage(0), provider="271004"),
                query_record(1, "late-household", h.usage(1), spi=RESIDENT, provider="271004"),
                query_record(2, "at-once", h.usage(2), provider="131016"),
            ]
        )
        answers = h.answers({"late-tax", "late-household", "at-once"})
        assert sim.late_released >= 1, "the 大阪市 answers were held and released on later ticks"
        for ref, (by, answer) in answers.items():
            assert by == "intermediate_server"
            assert answer.status is QueryStatus.ANSWERED, ref
            assert answer.provided_at is not None
        assert answers["late-tax"][1].local_tax is not None
        assert answers["late-tax"][1].local_tax.tax_year == 2025
        assert answers["late-household"][1].resident_record is not None
        assert answers["late-tax"][1].usage_number == h.usage(0)

        # Each answer was matched to its query by the record identification number the hub gave it.
        with h.hub.uow_factory()() as uow:
            record_ids = [a.record_id for _, a in answers.values() if a.record_id is not None]
            assert len(record_ids) == len(answers), "every answer carries the record id it was matched by"
            pending = uow.pending_queries.get(record_ids)
        assert {p.query_ref for p in pending.values()} == set(answers)
        assert all(p.status.value == "answered" and p.settled_at is not None for p in pending.values())
        assert all(answers[p.query_ref][1].record_id == p.record_id for p in pending.values())


def test_code_not_acquired_is_answered_by_the_hub_without_asking(e2e_settings):
    sim = simulator()
    with running(e2e_settings, sim) as h:
        h.query([query_record(0, "no-code", h.usage(3))])
        by, answer = h.answers({"no-code"})["no-code"]
    assert by == "hub"
    assert answer.error is IsError.CODE_NOT_ACQUIRED
    assert "符号が未取得" in (answer.message_ja or "")
    assert sim.queries_received == 0


def test_code_not_acquired_from_the_network(e2e_settings):
    sim = simulator()
    with running(e2e_settings, sim) as h:
        h.acquire_codes([4])
        sim.forget_codes()  # the network lost its registration; the hub still holds a code
        h.query([query_record(0, "forgotten", h.usage(4))])
        by, answer = h.answers({"forgotten"})["forgotten"]
    assert by == "intermediate_server"
    assert answer.status is QueryStatus.ERROR
    assert answer.error is IsError.CODE_NOT_ACQUIRED
    assert sim.refusals[IsError.CODE_NOT_ACQUIRED] == 1


def test_a_query_outside_the_table_is_refused_before_it_leaves(e2e_settings):
    sim = simulator()
    with running(e2e_settings, sim) as h:
        h.acquire_codes([5])
        outside = [
            query_record(0, "unknown-item", h.usage(5), spi="TM00000000000002"),
            query_record(
                1,
                "wrong-legacy",
                h.usage(5),
                basis=TableBasis(current_item=84, current_article="第86条", legacy_item=35),
            ),
            query_record(
                2,
                "item-85-to-a-city",
                h.usage(5),
                jimu="J085",
                basis=TableBasis(current_item=85, current_article="第87条", legacy_item=60),
            ),
        ]
        h.query(outside)
        answers = h.answers({r.query_ref for r in outside})

        def dead_lettered():
            with h.hub.uow_factory()() as uow:
                found = uow.dead_letters.find(DeadLetterQuery(message_type="hub.info_query.refused"))
            assert found
            return found

        letters = wait_for(dead_lettered)
        with h.hub.engine.connect() as conn:
            refused = (
                conn.execute(select(access_records.c.reason).where(access_records.c.action == "refused"))
                .scalars()
                .all()
            )
    for by, answer in answers.values():
        assert by == "hub"
        assert answer.error is IsError.QUERY_NOT_PERMITTED
    assert sim.queries_received == 0, "no query reached the network"
    assert sim.files_received == 1, "only the code acquisition file reached the network"
    assert letters[0].failure.reason_code == "policy_refused"
    assert refused.count("policy_refused") == 3


def test_the_network_enforces_its_own_permission_table(e2e_settings):
    # The hub's table allows J058; this network does not: its refusal comes back as the network's error.
    sim = simulator(permissions=[Permission("J084", 84, "第86条", 59, frozenset({LOCAL_TAX, RESIDENT}))])
    with running(e2e_settings, sim) as h:
        h.acquire_codes([6])
        basis = TableBasis(current_item=58, current_article="第60条", legacy_item=35)
        h.query([query_record(0, "j058", h.usage(6), jimu="J058", basis=basis)])
        by, answer = h.answers({"j058"})["j058"]
    assert by == "intermediate_server"
    assert answer.error is IsError.QUERY_NOT_PERMITTED
    assert sim.refusals[IsError.QUERY_NOT_PERMITTED] == 1
    assert sim.queries_received == 1


def test_provider_unavailable_is_retried_later_and_answered(e2e_settings):
    down = Municipality("401307", "福岡市", delay_ticks=0, outage_deliveries=2)
    sim = simulator(municipalities=(down,))
    with running(e2e_settings, sim) as h:  # e2e_settings retries 3 times, after 200 and 500 ms
        h.acquire_codes([7])
        h.query([query_record(0, "after-outage", h.usage(7), provider="401307")])
        by, answer = h.answers({"after-outage"})["after-outage"]
    assert by == "intermediate_server"
    assert answer.status is QueryStatus.ANSWERED
    assert sim.refusals[IsError.PROVIDER_UNAVAILABLE] == 2
    assert sim.queries_received == 3, "the same query file arrived three times: two refused, one answered"


def test_no_data(e2e_settings):
    sim = simulator(no_data_every=1)
    with running(e2e_settings, sim) as h:
        h.acquire_codes([8])
        h.query([query_record(0, "nothing", h.usage(8), provider=DEMO_MUNICIPALITIES[1].code)])
        by, answer = h.answers({"nothing"})["nothing"]
    assert by == "intermediate_server"
    assert answer.status is QueryStatus.NO_DATA
    assert answer.local_tax is None
    assert answer.error is None
    assert answer.message_ja == "該当する特定個人情報が存在しません。"


def test_a_query_of_a_member_association_names_it_as_the_requester(e2e_settings):
    # 番号法 第23条: the 情報提供等の記録 names the body that actually queried, the 構成組合 on
    # whose behalf the query ran (事務(9) is a 構成組合's alone), not the federation.
    sim = simulator()
    with running(e2e_settings, sim) as h:
        h.acquire_codes([3])
        h.query([query_record(0, "by-a-member", h.usage(3), provider="131016")])
        answers = h.answers({"by-a-member"})
        assert answers["by-a-member"][1].status is QueryStatus.ANSWERED
        with h.hub.engine.connect() as conn:
            requesters = set(
                conn.execute(
                    select(provision_records.c.requester).where(provision_records.c.role == "requester")
                ).scalars()
            )
    assert requesters == {"東京都市町村職員共済組合（m130001）"}


def test_a_query_of_the_federation_is_refused_as_not_its_jimu(e2e_settings):
    sim = simulator()
    with running(e2e_settings, sim) as h:
        h.acquire_codes([4])
        payload = InfoQueryRequested(
            batch_id="by-the-federation",
            records=(query_record(0, "federation-asks", h.usage(4), provider="131016"),),
        )
        h.hub.publish_as_pension(
            [pension_envelope("pension.info_query.requested", payload, actor="federation")]
        )

        def dead_lettered():
            with h.hub.uow_factory()() as uow:
                found = uow.dead_letters.find(DeadLetterQuery(message_type="pension.info_query.requested"))
            assert found
            return found

        [letter] = wait_for(dead_lettered)
        with h.hub.engine.connect() as conn:
            refused = conn.execute(
                select(access_records.c.reason, access_records.c.details).where(
                    access_records.c.action == "dead_lettered", access_records.c.outcome == "refused"
                )
            ).all()
    assert letter.failure.reason_code == "actor_not_permitted"
    assert letter.actor == "federation"  # the claim the pension system made, kept with its dead letter
    assert [r.reason for r in refused] == ["actor_not_permitted"]
    assert "構成組合のみ" in refused[0].details
    assert sim.queries_received == 0

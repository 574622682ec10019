"""The purpose table and its enforcement: every number knows why it is held, and is used only for that.

* The survival inquiry for a dependant-only person (a child held only from a 扶養親族等申告書) is answered
  ``not_permitted``; the number is never sealed, the access record names the rule (the issue's first case).
* The table: a property over every (use, held-under, role) triple and actor, and the hub's check
  (:func:`hub.core.flows.purpose.screen`) agreeing with it on a real vault for every pair.
* docs/legal-basis.md is the table's, generated.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import Envelope, new_envelope
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.messages.common import ChunkInfo
from contracts.messages.survival import (
    JlisSurvivalChangeInquiry,
    SurvivalCheckOutcomes,
    SurvivalInquiryRecord,
    SurvivalInquiryRequested,
    SurvivalOutcome,
)
from contracts.purpose_table import FEDERATION, RefusalReason, default_table, load_table
from contracts.registry import decode, encode, payload_dict
from contracts.sealing import Sealer
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.flows.purpose import screen
from hub.core.flows.survival import handle_survival_request
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.crypto.sealing import HpkeSealer
from hub.infra.db.tables.audit import access_records
from hub.infra.memory.transport import InMemoryTransport
from hub.legal_basis_doc import render
from hub.ports.vault import Ground, Retention, SubjectId
from hub.settings import Settings
from tests._shared_transport import shared
from tests.handler_context import handler_context

DOC = Path(__file__).resolve().parents[2] / "docs" / "legal-basis.md"
TABLE = default_table()
ASSOCIATION = "m130001"
HELD = [*TABLE.held_under, None]  # None: a person whose number is not obtained yet


# -- the document ----------------------------------------------------------------------------------------


def test_docs_legal_basis_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8") == render(TABLE), (
        "docs/legal-basis.md differs from contracts/purpose_table.toml: "
        "run `renkei contracts legal-basis --write docs/legal-basis.md`"
    )


def test_a_change_to_the_table_shows_in_the_document(tmp_path):
    text = Path(TABLE_PATH()).read_text(encoding="utf-8").replace("J-LIS 生存異動照会", "J-LIS 生存確認")
    changed = tmp_path / "table.toml"
    changed.write_text(text, encoding="utf-8")
    assert render(load_table(changed)) != DOC.read_text(encoding="utf-8")


def TABLE_PATH() -> Path:  # noqa: N802 - reads like the constant it stands for
    return Path(__file__).resolve().parents[2] / "contracts" / "purpose_table.toml"


# -- the seed's facts, as the table states them ----------------------------------------------------------


def test_the_seeds_split_of_jimu():
    only_association = {j.no for j in TABLE.jimu.values() if j.association and not j.federation}
    only_federation = {j.no for j in TABLE.jimu.values() if j.federation and not j.association}
    assert only_association == {2, 6, 9}
    assert only_federation == {4, 5, 7}


def test_the_seeds_legal_bases_are_all_in_the_table():
    items = {b.item for b in TABLE.bases.values()}
    assert {"別表第一 19の項", "別表第一 74の項", "別表第一 77の9の項"} <= items
    legacy = " ".join(b.legacy or "" for b in TABLE.bases.values())
    for old in (
        "別表第二 35の項",
        "別表第二 59の項",
        "別表第二 60の項",
        "第19条第7号",
        "第9条第3項",
        "第203条の5",
    ):
        assert old in legacy, old
    articles = {(b.law.short, b.article) for b in TABLE.bases.values()}
    for law, article in [
        ("所得税法", "第203条の2"),
        ("所得税法", "第203条の3"),
        ("所得税法", "第203条の4"),
        ("所得税法", "第203条の6"),  # the seed's 第203条の5 (2019 numbering), as its legacy above
        ("所得税法", "第226条第3項"),
        ("所得税法", "第228条の4"),
        ("地方税法", "第317条の6"),
        ("地方税法", "第321条の7の2"),
        ("地方税法", "第321条の7の3"),
        ("地方税法", "第321条の7の4"),
        ("地方税法", "第321条の7の5"),
        ("番号法", "第9条第4項"),
        ("番号法", "第19条第8号"),
    ]:
        assert (law, article) in articles, (law, article)
    assert {b.status for b in TABLE.bases.values()} == {"verified", "inferred"}
    for b in TABLE.bases.values():
        if b.status == "verified":
            assert "https://" in b.source, b.code


def test_four_usage_kinds_name_the_seeds_four_roles():
    assert {k.value for k in UsageNumberKind} >= {"same_address"}
    assert [TABLE.roles[r].name for r in TABLE.roles] == [
        "年金受給権者",
        "年金受給権者と同一住所の者",
        "加給年金額対象配偶者",
        "扶養控除対象者",
    ]
    assert TABLE.role_of_kind(UsageNumberKind.SAME_ADDRESS) == "same_address"
    # 同一住所の者 has uses of its own (the network), and J-LIS is not one of them.
    same = {u.code for u in TABLE.uses.values() if "same_address" in u.permits}
    assert same == {
        "intermediate_server.code_acquisition",
        "intermediate_server.info_query.58",
        "intermediate_server.info_query.84",
    }


# -- the property: every (use, held under, role), every actor ----------------------------------------------


def _expected(use: str, actor: str, role: str, held: str | None) -> RefusalReason | None:
    u = TABLE.use(use)
    allowed_actor = u.jimu.allows(TABLE.actors[actor])
    if not allowed_actor:
        return RefusalReason.ACTOR_NOT_PERMITTED
    if role not in u.permits:
        return RefusalReason.ROLE_NOT_PERMITTED
    if not u.allows(role, held):
        return RefusalReason.BASIS_NOT_PERMITTED
    return None


@settings(max_examples=400, deadline=None)
@given(
    use=st.sampled_from(sorted(TABLE.uses)),
    actor=st.sampled_from(sorted(TABLE.actors)),
    role=st.sampled_from(sorted(TABLE.roles)),
    held=st.sampled_from(HELD),
    extra=st.lists(st.tuples(st.sampled_from(sorted(TABLE.roles)), st.sampled_from(HELD)), max_size=2),
)
def test_the_check_allows_exactly_what_the_table_permits(use, actor, role, held, extra):
    grounds = [(role, held), *extra]
    refusal = TABLE.check(use, actor=actor, grounds=grounds)
    reasons = [_expected(use, actor, r, h) for r, h in grounds]
    if None in reasons:
        assert refusal is None
    else:
        assert refusal is not None
        assert refusal.use == use
        assert refusal.rule == f"purpose_table:{use}"
        if RefusalReason.ACTOR_NOT_PERMITTED in reasons:
            assert refusal.reason is RefusalReason.ACTOR_NOT_PERMITTED
        elif RefusalReason.BASIS_NOT_PERMITTED in reasons:
            assert refusal.reason is RefusalReason.BASIS_NOT_PERMITTED
        else:
            assert refusal.reason is RefusalReason.ROLE_NOT_PERMITTED


def test_every_pair_is_decided_and_unknown_actors_and_no_grounds_are_refused():
    seen = 0
    for use, role, held in itertools.product(TABLE.uses, TABLE.roles, HELD):
        actor = FEDERATION if TABLE.use(use).jimu.federation else ASSOCIATION
        refusal = TABLE.check(use, actor=actor, grounds=[(role, held)])
        assert (refusal is None) == TABLE.use(use).allows(role, held)
        seen += 1
    assert seen == len(TABLE.uses) * len(TABLE.roles) * len(HELD)
    nobody = TABLE.check("jlis.survival_change", actor="nobody", grounds=[("recipient", "jlis")])
    assert nobody is not None
    assert nobody.reason is RefusalReason.ACTOR_NOT_PERMITTED
    assert TABLE.check("jlis.survival_change", actor=None, grounds=[("recipient", "jlis")]) is not None
    empty = TABLE.check("jlis.survival_change", actor=FEDERATION, grounds=[])
    assert empty is not None
    assert empty.reason is RefusalReason.NO_RECORDED_BASIS


def test_a_dependant_may_never_be_asked_about_at_jlis():
    for actor in TABLE.actors:
        for use in ("jlis.survival_change", "jlis.number_acquisition"):
            assert TABLE.check(use, actor=actor, grounds=[("dependant", "declaration")]) is not None


# -- the hub's check on a real vault: every pair -----------------------------------------------------------


@pytest.fixture
def hub(tmp_path) -> Iterator[LocalDeployment]:
    settings_ = Settings(data_dir=tmp_path / "var", exchange_prefix="t", log_json=False)
    deployment = local_deployment(settings_, transports=shared(InMemoryTransport()), configure_logs=False)
    deployment.prepare()
    yield deployment
    deployment.close()


class _SpySealer:
    """Seals as the real sealer does, and remembers which numbers it was given."""

    def __init__(self, inner: Sealer) -> None:
        self.inner = inner
        self.sealed: list[IndividualNumber] = []

    def seal(self, number: IndividualNumber, **kwargs: Any) -> str:
        self.sealed.append(number)
        return self.inner.seal(number, **kwargs)


def _numbers(count: int) -> list[IndividualNumber]:
    import random

    draw = random.Random(17)
    found: list[IndividualNumber] = []
    while len(found) < count:
        n = synthetic_individual_number(draw)
        if n not in found:
            found.append(n)
    return found


def _envelope(actor: str, records: list[SurvivalInquiryRecord]) -> Envelope:
    payload = SurvivalInquiryRequested(
        chunk=ChunkInfo(batch_id="b", chunk_index=0, chunk_count=1, total_records=len(records)),
        cycle="2026-12",
        as_of=date(2026, 11, 20),
        records=tuple(records),
    )
    return new_envelope(
        message_type="pension.survival_inquiry.requested",
        schema_version=1,
        source="pension",
        destination="hub",
        purpose=TABLE.request_purpose("pension.survival_inquiry.requested"),
        payload=payload_dict(payload),
        actor=actor,
    )


def test_the_survival_inquiry_never_seals_a_dependant_only_number(hub):
    recipient = UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value="P0000000001")
    child = UsageNumber(kind=UsageNumberKind.DEPENDANT, value="D00000000012")
    recipient_number, child_number = _numbers(2)
    with hub.uow_factory()() as uow:
        subjects = uow.vault.enrol(
            [(recipient, recipient_number), (child, child_number)], retention=Retention("test"), source="test"
        )
        uow.vault.add_grounds(
            [
                (subjects[recipient], Ground("recipient", "jlis")),
                (subjects[child], Ground("dependant", "declaration")),
            ],
            source="test",
        )
        uow.commit()
    request = _envelope(
        FEDERATION,
        [
            SurvivalInquiryRecord(record_seq=1, usage_number=recipient),
            SurvivalInquiryRecord(record_seq=2, usage_number=child),
        ],
    )
    sealer = _SpySealer(HpkeSealer(hub.keyring.sealing_for()))
    with hub.uow_factory()() as uow:
        ctx = handler_context(hub, uow, sealer=sealer)
        out = handle_survival_request(decode(encode(request)).narrow(SurvivalInquiryRequested), ctx)
        uow.commit()
    assert sealer.sealed == [recipient_number]  # the child's number is never sealed
    by_type = {e.message_type: e for e in out}
    inquiry = JlisSurvivalChangeInquiry.model_validate(by_type["jlis.survival_change.inquiry"].payload)
    assert [r.record_seq for r in inquiry.records] == [1]
    hub_answer = SurvivalCheckOutcomes.model_validate(by_type["pension.survival_check.outcomes"].payload)
    [refused] = hub_answer.records
    assert (refused.record_seq, refused.usage_number) == (2, child)
    assert refused.outcome is SurvivalOutcome.NOT_PERMITTED
    assert refused.not_permitted_reason is RefusalReason.ROLE_NOT_PERMITTED
    assert [a.value for a in refused.actions] == ["review_purpose"]
    assert all(e.actor == FEDERATION for e in out)
    with hub.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(access_records.select()).mappings()]
    [record] = [r for r in rows if r["action"] == "refused"]
    details = json.loads(record["details"])
    assert record["outcome"] == "refused"
    assert record["reason"] == "not_permitted"
    assert details["rule"] == "purpose_table:jlis.survival_change"
    assert details["refusal"] == "role_not_permitted"
    assert details["on_behalf_of"] == FEDERATION


def test_the_hubs_check_agrees_with_the_table_on_a_real_vault_for_every_pair(hub):
    pairs = [(role, held) for role in TABLE.roles for held in TABLE.held_under]
    numbers = _numbers(len(pairs))
    with hub.uow_factory()() as uow:
        links = [
            (UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"G{i:010d}"), n)
            for i, n in enumerate(numbers)
        ]
        subjects = uow.vault.enrol(links, retention=Retention("test"), source="test")
        held_by = {subjects[u]: pair for (u, _), pair in zip(links, pairs, strict=True)}
        uow.vault.add_grounds([(s, Ground(*pair)) for s, pair in held_by.items()], source="test")
        uow.commit()
    with hub.uow_factory()() as uow:
        for use, actor in itertools.product(TABLE.uses, (FEDERATION, ASSOCIATION)):
            env = _envelope(actor, [SurvivalInquiryRecord(record_seq=0, usage_number=links[0][0])])
            ctx = handler_context(hub, uow, actor="t")
            screening = screen(ctx, env, use=use, subjects=list(held_by))
            for subject, (role, held) in held_by.items():
                want = TABLE.check(use, actor=actor, grounds=[(role, held)])
                got = screening.refused.get(SubjectId(subject))
                assert (got is None) == (want is None), (use, actor, role, held)
                if want is not None and got is not None:
                    assert got.reason is want.reason

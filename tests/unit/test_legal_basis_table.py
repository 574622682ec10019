"""The legal-basis table: what it allows, what it refuses and why, and a malformed table refusing to load."""

from __future__ import annotations

import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import ConfigurationError, PolicyRefused
from contracts.messages.intermediate_server import TableBasis
from hub.bootstrap.common import load_legal_basis_table
from hub.core.flows.intermediate_common import query_record_id
from hub.core.rules.legal_basis import MUNICIPALITY, LegalBasisRefused, LegalBasisTable

TABLE = Path(__file__).resolve().parents[2] / "contracts" / "purpose_table.toml"
RESIDENT, TAX = "TM00000000000011", "TM00000000000021"
B58 = TableBasis(current_item=58, current_article="第60条", legacy_item=35)
B84 = TableBasis(current_item=84, current_article="第86条", legacy_item=59)
B85 = TableBasis(current_item=85, current_article="第87条", legacy_item=60)


@pytest.fixture(scope="module")
def table() -> LegalBasisTable:
    return load_legal_basis_table()


@pytest.mark.parametrize(("jimu", "basis"), [("J058", B58), ("J084", B84)])
@pytest.mark.parametrize("spi", [RESIDENT, TAX])
def test_a_member_may_ask_a_municipality_for_resident_and_tax_information(table, jimu, basis, spi):
    permission = table.check_query(jimu_code=jimu, basis=basis, provider_org_code="131016", spi_code=spi)
    assert permission.provider_kind == MUNICIPALITY
    # The law's requester: 共済組合等; which actor may query at all (事務(9), 構成組合 only) is the use's.
    assert "地方公務員共済組合" in permission.rule.requester
    assert permission.rule.use == f"intermediate_server.info_query.{basis.current_item}"
    assert permission.basis_current.endswith(f"{basis.current_item}の項（{basis.current_article}）")
    assert permission.basis_legacy == f"番号法 別表第二 {basis.legacy_item}の項"
    assert permission.spi.code == spi


def test_item_85_asks_the_compensation_fund_not_a_municipality(table):
    ok = table.check_query(
        jimu_code="J085", basis=B85, provider_org_code="KIKIN1", spi_code="TM00000000000031"
    )
    assert ok.provider_kind == "地方公務員災害補償基金"
    with pytest.raises(LegalBasisRefused, match="does not allow asking a 市町村長"):
        table.check_query(jimu_code="J085", basis=B85, provider_org_code="131016", spi_code=TAX)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"spi_code": "TM00000000000002"}, "not in the legal-basis table"),
        ({"provider_org_code": "ZZZZZZ"}, "of no kind the table knows"),
        ({"jimu_code": "J999"}, "no row allows"),
        (
            {"basis": TableBasis(current_item=84, current_article="第60条", legacy_item=59)},
            "not detailed in 第60条",
        ),
        (
            {"basis": TableBasis(current_item=84, current_article="第86条", legacy_item=35)},
            "別表第二 item 35",
        ),
        ({"basis": TableBasis(current_item=84, current_article="第86条")}, "別表第二 item None"),
        ({"spi_code": "TM00000000000051"}, "does not allow asking a 市町村長 for TM00000000000051"),
        ({"jimu_code": "J058"}, "no row allows"),  # J058 with item 84
    ],
)
def test_anything_else_is_refused_naming_the_condition(table, kwargs, reason):
    query = {"jimu_code": "J084", "basis": B84, "provider_org_code": "131016", "spi_code": TAX, **kwargs}
    with pytest.raises(LegalBasisRefused, match=reason) as info:
        table.check_query(**query)
    assert isinstance(info.value, PolicyRefused)
    assert info.value.code == "policy_refused"


def test_an_empty_table_refuses_everything():
    with pytest.raises(LegalBasisRefused):
        LegalBasisTable.empty().check_query(
            jimu_code="J084", basis=B84, provider_org_code="131016", spi_code=TAX
        )


def test_a_six_digit_code_is_a_municipality_and_others_come_from_the_table(table):
    assert table.provider_kind("011002") == MUNICIPALITY
    assert table.provider_kind("MHLW01") == "厚生労働大臣"
    assert table.provider_kind("０１１００２") is None


def test_provision_rows_complete_the_legacy_numbering(table):
    assert table.provide_rule(1, "TM00000000000051").legacy_item == 1
    assert table.provide_rule(83, "TM00000000000051").legacy_item is None
    assert table.provide_rule(84, "TM00000000000051") is None


def test_the_seeds_26_provision_items_are_rows_with_their_dataset(table):
    legacy = sorted(r.legacy_item for r in table.provides if r.legacy_item is not None)
    assert legacy == [
        1,
        2,
        3,
        4,
        6,
        9,
        12,
        15,
        25,
        26,
        34,
        39,
        57,
        58,
        62,
        66,
        68,
        72,
        81,
        85,
        92,
        94,
        106,
        110,
        114,
        120,
    ]
    assert all(r.dataset and r.spi_codes == {"TM00000000000051"} for r in table.provides)
    # No public source names them: every row says so.
    assert {r.status for r in table.provides} == {"inferred"}


def _table() -> dict[str, Any]:
    return tomllib.loads(TABLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.pop("requester"), r"\[requester\]"),
        (lambda d: d["query"][0].pop("jimu_code"), "query\\[0\\] needs a text 'jimu_code'"),
        (lambda d: d["query"][0].update(spi_codes=["TM99999999999999"]), "unknown spi codes"),
        (lambda d: d["query"][0].update(current_item=0), "'current_item' between 1 and 300"),
        (lambda d: d["query"][0].update(legacy_item="59"), "'legacy_item' between 1 and 300"),
        (lambda d: d["provide"][3].pop("legacy_item"), "needs current_item or legacy_item"),
        (lambda d: d["spi"][0].update(code="TM123"), "not TM \\+ 14 digits"),
        (lambda d: d.update(query={"a": 1}), "must be tables"),
    ],
)
def test_a_malformed_table_does_not_load(damage, message):
    data = _table()
    damage(data)
    with pytest.raises(ConfigurationError, match=message):
        LegalBasisTable.from_mapping(data)


def test_the_table_in_the_repository_loads_whole():
    table = LegalBasisTable.from_mapping(_table())
    assert len(table) == 4
    assert len(table.provides) == 27
    assert table.requester == "全国市町村職員共済組合連合会"


def test_query_record_ids_are_deterministic_and_never_shaped_like_numbers():
    cause = uuid.UUID(int=12345)
    ids = {query_record_id(cause, seq) for seq in range(2_000)}
    assert len(ids) == 2_000
    assert query_record_id(cause, 7) == query_record_id(cause, 7)
    assert all(len(i) == 32 and i.isalnum() and i.upper() == i for i in ids)

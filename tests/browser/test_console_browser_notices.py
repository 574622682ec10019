"""In Chromium: what the core reports (a replay's outcome, a verification problem) in the page's language.

A world of its own (this module's ``served``): replaying a group and changing a stored record alter it.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from hub.infra.db.tables.audit import access_records
from tests.console_fixtures import password

pytestmark = pytest.mark.e2e

NEEDS_JA = "本文に個人番号を含むため、二者承認が必要です"
NEEDS_EN = "its body carries numbers: it needs a second person"


def _sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("名前").fill(name)
    page.get_by_label("パスワード").fill(password(name))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{url}/flows")


def test_a_group_replay_reports_each_outcome_in_japanese_then_english(served, page):
    _sign_in(page, served.url, "olga")
    page.goto(f"{served.url}/dead-letters")
    page.get_by_test_id("groups-table").get_by_role("link").first.click()
    page.get_by_label("理由（アクセス記録に残ります）").fill("J-LIS fixed the rejected file")
    page.get_by_role("button", name="グループを再送").click()
    results = page.get_by_test_id("action-results")
    skipped = results.locator('tr:has(td[data-outcome="skipped"])')
    assert skipped.count() >= 1
    for text in skipped.all_inner_texts():
        assert NEEDS_JA in text, text
    assert "second person" not in page.content()

    page.goto(f"{served.url}/dead-letters?lang=en")
    page.get_by_test_id("groups-table").get_by_role("link").first.click()
    page.get_by_label("Reason (goes to the access record)").first.fill("J-LIS fixed the rejected file")
    page.get_by_role("button", name="Replay group").click()
    skipped = page.get_by_test_id("action-results").locator('tr:has(td[data-outcome="skipped"])')
    assert skipped.count() >= 1
    for text in skipped.all_inner_texts():
        assert NEEDS_EN in text, text


def test_a_changed_record_is_reported_in_japanese_then_english(served, page):
    world = served.world
    with world.hub.engine.begin() as conn:
        chain_id, seq = conn.execute(
            select(access_records.c.chain_id, access_records.c.seq).order_by(access_records.c.at).limit(1)
        ).one()
        conn.execute(
            update(access_records)
            .where(access_records.c.chain_id == chain_id, access_records.c.seq == seq)
            .values(reason="changed afterwards")
        )
    _sign_in(page, served.url, "aki")
    page.get_by_role("link", name="監査", exact=True).click()
    page.get_by_role("link", name="今すぐ検証").click()
    assert page.get_by_test_id("verify-status").inner_text() == "検証できず"
    problem = page.get_by_test_id("verify-problem").first.inner_text()
    assert re.fullmatch(
        r"チェーン [a-z]{26} の記録 \d+：記録またはチェックポイントが改変されています", problem
    )

    page.goto(f"{served.url}/audit/verify?lang=en")
    assert page.get_by_test_id("verify-status").inner_text() == "NOT verified"
    english = page.get_by_test_id("verify-problem").first.inner_text()
    assert english.startswith(f"chain {chain_id} seq {seq}: ")

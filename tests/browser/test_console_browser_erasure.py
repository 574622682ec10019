"""In Chromium: a dead letter retention erased says what was destroyed in Japanese, then in English.

A world of its own (this module's ``served``): the archive's retention erases one of its dead letters.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.retention.jobs import dead_letter_archive_job
from tests.console_fixtures import password

pytestmark = pytest.mark.e2e


def test_an_erased_dead_letter_says_what_was_destroyed_in_japanese_then_english(served, page):
    world = served.world
    dead_letter = world.dead_letters["saitama"]  # two sealed numbers in its body
    sealed = len(world.sealed[dead_letter])
    now = datetime.now(UTC)
    with world.hub.engine.begin() as conn:
        conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == dead_letter)
            .values(status="discarded", discarded_at=now - timedelta(days=40), discard_reason="sent again")
        )
        outcome = dead_letter_archive_job(conn, now.date(), dry_run=False, actor="test:retention", now=now)
    assert outcome.results[0].done == 1
    day = now.date().isoformat()

    page.goto(f"{served.url}/login")
    page.get_by_label("名前").fill("vic")
    page.get_by_label("パスワード").fill(password("vic"))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{served.url}/flows")
    page.goto(f"{served.url}/dead-letters?status=discarded")
    page.get_by_role("link", name=f"#{dead_letter}", exact=True).click()

    erased = page.get_by_test_id("erased").inner_text()
    assert erased.startswith("保存期間終了により消去済み（"), erased
    assert f"{day}、再送または破棄から 30 日が過ぎたため、封緘済みの値 {sealed} 件を破棄しました" in erased
    assert not re.search(r"[A-Za-z]{4,}", erased.replace("[erased]", "")), erased  # no English left
    assert page.locator("html").get_attribute("lang") == "ja"

    page.get_by_test_id("languages").get_by_role("link", name="English").click()
    erased_en = page.get_by_test_id("erased").inner_text()
    english = f"retention {day}: {sealed} sealed value(s) destroyed, 30 days after replay or discard."
    assert english in erased_en
    assert "破棄" not in erased_en

    page.get_by_test_id("languages").get_by_role("link", name="日本語").click()
    assert "封緘済みの値" in page.get_by_test_id("erased").inner_text()

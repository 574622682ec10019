"""The console in headless Chromium: sign-in, flows, four-eyes replay and reveal, a refused reveal.

The pages are checked in Japanese, the console's language (every label below is the catalog's text); the
first test also switches to English and back.

Set ``RENKEI_CONSOLE_SCREENSHOTS=docs/console`` to write the screenshots of ``docs/console.md``; by default
they go to the test's temporary directory.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from contracts.redaction import find_numbers
from tests.console_fixtures import password

pytestmark = pytest.mark.e2e


def _shot(page, tmp_path: Path, name: str) -> None:
    directory = Path(os.environ.get("RENKEI_CONSOLE_SCREENSHOTS") or tmp_path)
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def _sign_in(page, url: str, name: str) -> None:
    page.goto(f"{url}/")
    assert page.url.endswith("/login")
    page.get_by_label("名前").fill(name)
    page.get_by_label("パスワード").fill(password(name))
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{url}/flows")


def _clean(page) -> None:
    assert not find_numbers(page.content())


def test_sign_in_and_the_flows_view(served, page, tmp_path):
    page.goto(f"{served.url}/login")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "ログイン"
    _shot(page, tmp_path, "sign-in")
    page.get_by_label("名前").fill("vic")
    page.get_by_label("パスワード").fill("not the password")
    page.get_by_role("button", name="ログイン").click()
    assert "名前またはパスワードが違います" in page.get_by_role("alert").inner_text()
    _sign_in(page, served.url, "vic")
    assert page.get_by_test_id("who").inner_text() == "vic · viewer · federation"
    table = page.get_by_test_id("flows-table")
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert "survival_inquiry" in rows.first.inner_text()
    assert page.locator("svg.chart").count() == 3
    assert page.locator("svg.chart title").first.text_content() == "フロー別・1分あたりの完了件数"
    assert page.locator("h1").inner_text() == "フロー"
    nav = page.get_by_role("navigation", name="メインメニュー")
    assert nav.get_by_role("link").all_inner_texts() == ["フロー", "デッドレター", "稼働状況"]
    assert "時刻はUTC" in page.locator("footer").inner_text()
    # A viewer's navigation has no trace and no audit, and the audit page refuses it.
    assert page.get_by_role("link", name="監査", exact=True).count() == 0
    _clean(page)
    _shot(page, tmp_path, "flows")
    response = page.goto(f"{served.url}/audit")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "権限がありません"
    assert "連合会のコンソール管理者に依頼してください" in page.get_by_test_id("hint").inner_text()
    assert served.world.records("refused")[-1]["actor"] == "console:vic"


def test_the_language_switch_shows_english_and_back(served, page):
    _sign_in(page, served.url, "vic")
    page.get_by_test_id("languages").get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Flows"
    assert page.locator("svg.chart title").first.text_content().startswith("Messages completed")
    # The choice is kept (a cookie) from page to page.
    page.get_by_role("link", name="Dead letters", exact=True).click()
    assert page.locator("h1").inner_text() == "Dead letters"
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_test_id("languages").get_by_role("link", name="日本語").click()
    assert page.url.startswith(f"{served.url}/dead-letters")
    assert page.locator("h1").inner_text() == "デッドレター"
    assert page.locator("html").get_attribute("lang") == "ja"


def _sign_out(page, url: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/login")


def test_replay_from_the_dead_letter_view(served, page, tmp_path):
    # The body carries sealed numbers: olga asks, otto approves on the approvals page, olga replays.
    world = served.world
    target = world.dead_letters["saitama"]
    _sign_in(page, served.url, "olga")
    page.get_by_role("link", name="デッドレター", exact=True).click()
    page.wait_for_url(f"{served.url}/dead-letters")
    groups = page.get_by_test_id("groups-table")
    assert "GatewayRejected at jlis.from_hub" in groups.inner_text()
    groups.get_by_role("link").first.click()
    _clean(page)
    _shot(page, tmp_path, "dead-letters")
    page.get_by_role("link", name=f"#{target}", exact=True).click()
    body = page.get_by_test_id("body").inner_text()
    assert "⟨sealed for hub · #1⟩" in body
    _clean(page)
    _shot(page, tmp_path, "dead-letter")
    page.get_by_label("理由（10文字以上・アクセス記録に残ります）").fill("J-LIS fixed the rejected file")
    page.get_by_test_id("request-replay").click()
    approval = page.get_by_test_id("approval-id").inner_text()
    assert "承認待ち" in page.locator("h1").inner_text()
    _shot(page, tmp_path, "approval-requested")
    # Nothing was replayed yet, and olga cannot approve her own request.
    assert not world.records("replayed")
    page.goto(f"{served.url}/approvals")
    assert page.get_by_test_id(f"approve-{approval}").count() == 0
    assert "他の人の承認を待っています" in page.get_by_test_id("approvals-table").inner_text()

    _sign_out(page, served.url)
    _sign_in(page, served.url, "otto")
    page.get_by_role("link", name="承認", exact=True).click()
    page.wait_for_url(f"{served.url}/approvals")
    _clean(page)
    _shot(page, tmp_path, "approvals")
    page.get_by_label("コメント").fill("障害票を確認")
    page.get_by_test_id(f"approve-{approval}").click()
    assert "承認済み" in page.locator("h1").inner_text()

    _sign_out(page, served.url)
    _sign_in(page, served.url, "olga")
    page.goto(f"{served.url}/approvals")
    page.get_by_test_id("mine").get_by_role("link").first.click()
    page.wait_for_url(f"{served.url}/dead-letters/{target}")
    page.get_by_test_id("run-approved").click()
    results = page.get_by_test_id("action-results")
    assert "再送済み" in results.inner_text()
    assert results.locator("td[data-outcome]").first.get_attribute("data-outcome") == "replayed"
    _shot(page, tmp_path, "replayed")
    replayed = world.records("replayed")
    assert replayed[-1]["actor"] == "operator:olga@console"
    assert replayed[-1]["reason"] == "J-LIS fixed the rejected file"
    assert json.loads(replayed[-1]["details"])["approved_by"] == "otto"  # both people on the record
    assert world.transport.queue_depth(world.hub.names.adapter_queue("jlis"))[0] >= 1


def test_a_reveal_by_an_operator_is_refused_and_recorded(served, page, tmp_path):
    world = served.world
    target = world.dead_letters["chiba"]
    _sign_in(page, served.url, "olga")
    page.goto(f"{served.url}/dead-letters/{target}")
    assert "あなたの役割では開示できません" in page.content()
    page.get_by_label("理由（10文字以上）", exact=True).fill("just curious about this one")
    page.get_by_test_id("reveal").click()
    assert "権限がありません" in page.locator("h1").inner_text()
    assert "あなたの役割（operator）では" in page.get_by_test_id("error").inner_text()
    _clean(page)
    _shot(page, tmp_path, "reveal-refused")
    refused = world.records("refused")[-1]
    assert refused["actor"] == "console:olga"
    assert "reveal_number" in refused["reason"]
    assert not world.records("revealed")


def test_trace_audit_and_health_views(served, page, tmp_path):
    world = served.world
    _sign_in(page, served.url, "ada")
    page.get_by_role("link", name="追跡", exact=True).click()
    page.get_by_role("link", name=world.correlations["chiba"]).click()
    assert page.get_by_test_id("trace-table").locator("tbody tr").count() == 5
    _clean(page)
    _shot(page, tmp_path, "trace")
    page.get_by_role("link", name="監査", exact=True).click()
    page.get_by_role("link", name="今すぐ検証").click()
    assert page.get_by_test_id("verify-status").inner_text() in ("検証済み", "検証できず")
    page.get_by_role("link", name="アクセス記録へ").click()
    _clean(page)
    _shot(page, tmp_path, "audit")
    page.get_by_role("link", name="稼働状況", exact=True).click()
    assert page.get_by_test_id("health-status").inner_text() in ("正常", "注意", "異常")
    _clean(page)
    _shot(page, tmp_path, "health")


def test_a_reveal_needs_a_second_admin_in_the_browser(served, page, tmp_path):
    world = served.world
    target = world.dead_letters["chiba"]
    _sign_in(page, served.url, "ada")
    page.goto(f"{served.url}/dead-letters/{target}")
    page.get_by_label("理由（10文字以上）", exact=True).fill("the pensioner asked which number we hold")
    page.get_by_test_id("reveal").click()
    approval = page.get_by_test_id("approval-id").inner_text()
    _clean(page)
    page.goto(f"{served.url}/dead-letters/{target}")
    assert page.get_by_test_id("reveal-approved").count() == 0  # not approved yet

    _sign_out(page, served.url)
    _sign_in(page, served.url, "ben")
    page.goto(f"{served.url}/approvals")
    page.get_by_test_id(f"approve-{approval}").click()
    assert "承認済み" in page.locator("h1").inner_text()

    _sign_out(page, served.url)
    _sign_in(page, served.url, "ada")
    page.goto(f"{served.url}/dead-letters/{target}")
    page.get_by_test_id("reveal-approved").click()
    spans = find_numbers(page.content())
    assert [page.content()[a:b] for a, b in spans] == [world.sealed[target][0]]
    details = json.loads(world.records("revealed")[-1]["details"])
    assert (details["requested_by"], details["approved_by"]) == ("ada", "ben")

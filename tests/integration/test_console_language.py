"""The console's pages speak Japanese by default and English on request; the JSON API stays as it is.

Errors are raised once, in English (what the API answers and the access record keeps), and shown
translated on a page, with what to do next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.console.i18n import COOKIE
from hub.console.pages import number
from tests.console_fixtures import ConsoleWorld, make_world, sign_in, token

FOOTER_JA = "この画面に個人番号は表示されません"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    world = make_world(Path(tmp_path_factory.mktemp("console-language")))
    yield world
    world.hub.close()


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)">', html)
    assert found, html[:200]
    return found.group(1)


def test_japanese_by_default_english_when_chosen_and_remembered(world: ConsoleWorld) -> None:
    with TestClient(world.app) as client:
        page = client.get("/login")
        assert _lang(page.text) == "ja"
        assert "<h1>ログイン</h1>" in page.text
        assert FOOTER_JA in page.text
        assert "時刻はUTCです" in page.text
        assert COOKIE not in page.headers.get("set-cookie", "")  # nothing chosen, nothing stored

        english = client.get("/login?lang=en")
        assert _lang(english.text) == "en"
        assert "<h1>Sign in</h1>" in english.text
        assert f"{COOKIE}=en" in english.headers["set-cookie"]
        assert _lang(client.get("/login").text) == "en"  # the cookie keeps the choice
        assert _lang(client.get("/login?lang=xx").text) == "en"  # an unknown language changes nothing

        sign_in(client, "olga")
        flows = client.get("/flows?lang=ja")
        assert _lang(flows.text) == "ja"
        assert '<a href="/dead-letters">デッドレター</a>' in flows.text
        assert 'href="/flows?lang=en"' in flows.text  # the switch keeps the page


def test_an_error_is_english_in_the_api_and_japanese_on_the_page(world: ConsoleWorld) -> None:
    with TestClient(world.app) as client:
        sign_in(client, "olga")
        client.cookies.set(COOKIE, "ja")
        api = client.get("/api/dead-letters/999999")
        assert api.status_code == 404
        assert api.json() == {"detail": "no dead letter 999999"}

        page = client.get("/dead-letters/999999")
        assert page.status_code == 404
        assert "<h1>見つかりません</h1>" in page.text
        assert "デッドレター 999999 はありません" in page.text
        assert "一覧に戻って選び直してください" in page.text  # what to do next
        assert "no dead letter" not in page.text

        english = client.get("/dead-letters/999999?lang=en")
        assert "<h1>Not found</h1>" in english.text
        assert "no dead letter 999999" in english.text

        elsewhere = client.get("/%2Felsewhere.example/x?lang=ja")  # the path //elsewhere.example/x
        assert "//elsewhere.example" not in elsewhere.text  # the switch never links to another site
        unknown = client.get("/no/such/page?lang=ja")
        assert unknown.status_code == 404
        assert "見つかりません" in unknown.text
        assert "Not Found" not in unknown.text


def test_a_refusal_is_recorded_in_english_and_shown_in_japanese(world: ConsoleWorld) -> None:
    with TestClient(world.app) as client:
        api = client.get("/api/audit/records", headers=token("vic"))
        assert api.status_code == 403
        assert api.json() == {"detail": "Your role (viewer) may not do this."}
        sign_in(client, "vic")
        page = client.get("/audit")
        assert page.status_code == 403
        assert "<h1>権限がありません</h1>" in page.text
        assert "あなたの役割（viewer）では、この操作はできません。" in page.text
        assert "連合会のコンソール管理者に依頼してください" in page.text
        assert world.records("refused")[-1]["reason"] == "role viewer may not view_audit"


def test_a_form_error_names_the_field_in_japanese_never_the_input(world: ConsoleWorld) -> None:
    with TestClient(world.app) as client:
        csrf = sign_in(client, "olga")
        dl = world.dead_letters["unread"]
        form = {"operation": "discard", "reason": "zq", "ids": str(dl), "csrf": csrf, "rate": "500"}
        page = client.post("/dead-letters/actions", data=form)
        assert page.status_code == 422
        assert "<h1>入力内容を確認してください</h1>" in page.text
        assert "理由：3 文字以上で入力してください" in page.text
        assert "速度：100 以下にしてください" in page.text
        assert "zq" not in page.text
        api = client.post(
            "/api/dead-letters/discard", json={"ids": [dl], "reason": "zq"}, headers=token("olga")
        )
        assert api.status_code == 422
        assert {p["type"] for p in api.json()["detail"]} == {"string_too_short"}  # the API's own shape


def test_counts_carry_thousands_separators() -> None:
    assert number(1234567) == "1,234,567"
    assert number(0) == "0"
    assert number(2.5) == "2.5"
    assert number(1234.5) == "1,234.5"
    assert number(0.333) == "0.33"
    assert number(None) == ""

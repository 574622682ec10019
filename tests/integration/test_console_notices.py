"""What the hub's core says to a person (four eyes, replay outcomes, the verification) is Japanese on a page.

The core raises and reports these in English, once (hub.core.operator.notices): the JSON API, the CLI and
the access record keep that English unchanged; a page shows it from the catalog by its code, in the page's
language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.dead_letters import dead_letters
from tests.console_fixtures import ConsoleWorld, make_world, sign_in, token

OWN_EN = "a request is approved by another person than its requester (four eyes)"
OWN_JA = "依頼は依頼者以外の人が承認します（二者承認）。自分の依頼は承認できません"
NEEDS_EN = "its body carries numbers: it needs a second person"
NEEDS_JA = "本文に個人番号を含むため、二者承認が必要です"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    world = make_world(Path(tmp_path_factory.mktemp("console-notices")))
    yield world
    world.hub.close()


def _error(html: str) -> str:
    found = re.search(r'data-testid="error">(.*?)</p>', html, re.S)
    assert found, html[-800:]
    return found.group(1)


def test_a_four_eyes_refusal_is_english_in_the_api_and_the_record_japanese_on_the_page(
    world: ConsoleWorld,
) -> None:
    body = {
        "action": "replay_dead_letters",
        "ids": [world.dead_letters["chiba"]],
        "reason": "replay after fix",
    }
    with TestClient(world.app) as client:
        made = client.post("/api/approvals", json=body, headers=token("olga"))
        assert made.status_code == 200, made.text
        approval_id = made.json()["approval_id"]

        api = client.post(
            f"/api/approvals/{approval_id}/decide", json={"approve": True}, headers=token("olga")
        )
        assert api.status_code == 409
        assert api.json() == {"detail": OWN_EN}  # the JSON API as it always was

        csrf = sign_in(client, "olga")
        form = {"decision": "approve", "csrf": csrf}
        page = client.post(f"/approvals/{approval_id}/decide?lang=ja", data=form)
        assert page.status_code == 409
        assert _error(page.text) == OWN_JA
        assert "another person" not in page.text

        english = client.post(f"/approvals/{approval_id}/decide?lang=en", data=form)
        assert english.status_code == 409
        assert _error(english.text) == OWN_EN

    refused = [r for r in world.records("approved") if r["outcome"] == "refused"]
    assert refused
    assert {r["reason"] for r in refused} == {OWN_EN}  # the access record keeps the English


def test_a_replay_outcome_is_english_in_the_api_japanese_on_the_page(world: ConsoleWorld) -> None:
    dead_letter = world.dead_letters["saitama"]  # its body carries sealed numbers: four eyes
    with TestClient(world.app) as client:
        api = client.post(
            "/api/dead-letters/replay",
            json={"ids": [dead_letter], "reason": "replay after fix", "limit": 1, "rate": 1},
            headers=token("olga"),
        )
        assert api.status_code == 200, api.text
        [result] = api.json()["results"]
        assert result["outcome"] == "skipped"
        assert result["detail"].startswith(NEEDS_EN)

        csrf = sign_in(client, "olga")
        form = {
            "operation": "replay",
            "ids": str(dead_letter),
            "reason": "replay after fix",
            "limit": "1",
            "rate": "1",
            "csrf": csrf,
        }
        page = client.post("/dead-letters/actions?lang=ja", data=form)
        assert page.status_code == 200
        row = re.search(r'<table data-testid="action-results">.*?</table>', page.text, re.S)
        assert row, page.text[-800:]
        assert NEEDS_JA in row.group(0)
        assert "second person" not in page.text

        english = client.post("/dead-letters/actions?lang=en", data=form)
        assert NEEDS_EN in english.text
        assert NEEDS_JA not in english.text


@pytest.fixture
def tampered(tmp_path: Path) -> Iterator[ConsoleWorld]:
    """A world whose access record had one stored value changed after it was written."""
    world = make_world(tmp_path)
    with world.hub.engine.begin() as conn:
        chain_id, seq = conn.execute(
            select(access_records.c.chain_id, access_records.c.seq).order_by(access_records.c.at).limit(1)
        ).one()
        conn.execute(
            update(access_records)
            .where(access_records.c.chain_id == chain_id, access_records.c.seq == seq)
            .values(reason="changed afterwards")
        )
    world.hub.engine.dispose()
    yield world
    world.hub.close()


def test_an_audit_verify_problem_is_english_in_the_api_japanese_on_the_page(tampered: ConsoleWorld) -> None:
    with TestClient(tampered.app) as client:
        api = client.get("/api/audit/verify", headers=token("aki"))
        assert api.status_code == 200
        assert api.json()["ok"] is False
        problems = api.json()["problems"]
        modified = next(p for p in problems if p.startswith("chain "))  # the verifier's English, unchanged

        sign_in(client, "aki")
        page = client.get("/audit/verify?lang=ja")
        shown = re.findall(r'data-testid="verify-problem">(.*?)</p>', page.text)
        assert len(shown) == len(problems)
        assert re.fullmatch(
            r"チェーン [a-z]{26} の記録 \d+：記録またはチェックポイントが改変されています", shown[0]
        )
        words = [re.sub(r"チェーン \S+ ", "", text) for text in shown]  # a chain id is letters
        assert not any(re.search(r"[A-Za-z]{3,}", text) for text in words), shown  # no English left

        english = client.get("/audit/verify?lang=en")
        shown_en = re.findall(r'data-testid="verify-problem">(.*?)</p>', english.text)
        assert shown_en[0] == modified.replace("'", "&#39;")

        audit = client.get("/audit?lang=ja")  # the audit page shows the last verification the same way
        assert shown[0] in audit.text


def test_the_api_description_stays_english_whatever_the_page_language(world: ConsoleWorld) -> None:
    """The OpenAPI document is the scripts' contract: one document, English, like the API it describes."""
    with TestClient(world.app) as client:
        ja = client.get("/openapi.json?lang=ja", headers=token("vic"))
        en = client.get("/openapi.json?lang=en", headers=token("vic"))
        assert ja.status_code == en.status_code == 200
        assert ja.content == en.content
        assert ja.json()["info"]["title"] == "renkei console API"
        docs = client.get("/api/docs?lang=ja", headers=token("vic"))
        assert '<html lang="en">' in docs.text  # says what language it is in, for a reader's tools


def test_a_dead_letters_failure_is_named_in_japanese_its_recorded_text_kept(world: ConsoleWorld) -> None:
    dead_letter = world.dead_letters["unread"]
    with world.hub.engine.begin() as conn:
        conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == dead_letter)
            .values(reason_code="validation_failed")
        )
    with TestClient(world.app) as client:
        sign_in(client, "vic")
        page = client.get(f"/dead-letters/{dead_letter}?lang=ja")
        reason = re.search(r'data-testid="reason">(.*?)</dd>', page.text)
        assert reason, page.text[-800:]
        assert reason.group(1).startswith('項目の検査で不合格 (validation_failed): <span lang="en">')
        listed = client.get("/dead-letters?lang=ja")
        assert '<td title="validation_failed">項目の検査で不合格</td>' in listed.text
        english = client.get(f"/dead-letters/{dead_letter}?lang=en")
        assert "does not validate (validation_failed): " in english.text
        api = client.get(f"/api/dead-letters/{dead_letter}", headers=token("vic"))
        assert api.json()["reason_code"] == "validation_failed"  # the API keeps the code

"""What was left in English on the Japanese pages: a dead letter's erasure note, adapters' failure codes, the
recorded failure text's lead, and the verification's chain ids.

* The erasure note retention writes is a notice (code and values): Japanese on a Japanese page, the English
  sentence with ``?lang=en`` and in the JSON API, as it always was. A note stored as text before it was a
  notice, and not recognisable, stays as it is, marked English.
* An adapter's own failure code is named in Japanese, the code beside it, like the hierarchy's codes.
* A dead letter's recorded failure text (evidence, in English) comes after the name of its code; a code with
  no name is said to be one, in the page's language, before the code and the text.
* The verification's findings name a chain by its whole id, in either language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hub.infra.db.tables.dead_letters import dead_letters
from hub.infra.retention.jobs import dead_letter_archive_job
from tests.console_fixtures import ConsoleWorld, make_world, sign_in, token


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    world = make_world(Path(tmp_path_factory.mktemp("console-left-in-english")))
    yield world
    world.hub.close()


def _dd(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)</dd>', html, re.S)
    assert found, html[-800:]
    return found.group(1)


# -- the erasure note ------------------------------------------------------------------------------------


def test_an_erasure_note_is_japanese_on_the_page_and_the_sentence_it_was_in_the_api(
    world: ConsoleWorld,
) -> None:
    dead_letter = world.dead_letters["saitama"]  # its body holds two sealed numbers
    sealed = len(world.sealed[dead_letter])
    now = datetime.now(UTC)
    with world.hub.engine.begin() as conn:  # discarded long ago: the archive's retention destroys its values
        conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == dead_letter)
            .values(status="discarded", discarded_at=now - timedelta(days=40), discard_reason="old")
        )
        outcome = dead_letter_archive_job(conn, now.date(), dry_run=False, actor="test:retention", now=now)
    assert outcome.results[0].done == 1
    day = now.date().isoformat()
    english = f"retention {day}: {sealed} sealed value(s) destroyed, 30 days after replay or discard"
    with TestClient(world.app) as client:
        api = client.get(f"/api/dead-letters/{dead_letter}", headers=token("vic"))
        assert api.status_code == 200
        assert api.json()["erasure_note"] == english  # the JSON API says what it said before

        sign_in(client, "vic")
        page = _dd(client.get(f"/dead-letters/{dead_letter}").text, "erased")  # Japanese by default
        assert page.startswith("保存期間終了により消去済み（")
        japanese = f"{day}、再送または破棄から 30 日が過ぎたため、封緘済みの値 {sealed} 件を破棄しました"
        assert japanese in page, page
        assert "sealed value" not in page
        assert not re.search(r"[A-Za-z]{4,}", page.replace("[erased]", "")), page  # no English left

        shown_en = _dd(client.get(f"/dead-letters/{dead_letter}?lang=en").text, "erased")
        assert f"{english}." in shown_en
        assert "破棄" not in shown_en


def test_a_note_stored_before_it_was_a_notice_is_kept_as_it_is_and_marked_english(
    world: ConsoleWorld,
) -> None:
    dead_letter = world.dead_letters["chiba"]
    legacy = "retention: 1 sealed value(s) destroyed by hand"  # not a sentence retention wrote: kept
    with world.hub.engine.begin() as conn:
        conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == dead_letter)
            .values(erased_at=datetime.now(UTC), erasure_note=legacy)
        )
    with TestClient(world.app) as client:
        sign_in(client, "vic")
        page = _dd(client.get(f"/dead-letters/{dead_letter}?lang=ja").text, "erased")
        assert f'<span lang="en">{legacy}</span>' in page
        assert page.startswith("保存期間終了により消去済み（")
        api = client.get(f"/api/dead-letters/{dead_letter}", headers=token("vic"))
        assert api.json()["erasure_note"] == legacy

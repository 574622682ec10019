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
from sqlalchemy import select, update

from adapters.jlis.errors import JlisWireError
from adapters.pension.errors import MalformedPensionFile, Reason
from contracts.errors import RenkeiError
from hub.infra.db.tables.audit import access_records
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


# -- adapters' failure codes and the recorded failure text -------------------------------------------------


@pytest.mark.parametrize(
    ("error", "japanese", "english"),
    [
        (
            JlisWireError("must be 8 digits", record_no=3, field="birth_date"),
            "J-LISファイルのレイアウト違反",
            "J-LIS file layout broken",
        ),
        (
            MalformedPensionFile("does not match its manifest", reason=Reason.CHECKSUM_MISMATCH),
            "年金給付システムのファイル：チェックサム不一致（不完全または変更あり）",
            "pension file: checksum mismatch (incomplete or changed)",
        ),
    ],
    ids=["jlis", "pension"],
)
def test_an_adapters_failure_code_is_named_in_japanese_the_code_beside_it(
    world: ConsoleWorld, error: RenkeiError, japanese: str, english: str
) -> None:
    code, text = error.code, str(error)  # what the adapter dead-letters the message with
    dead_letter = world.dead_letters["unread"]
    with world.hub.engine.begin() as conn:
        conn.execute(
            update(dead_letters)
            .where(dead_letters.c.id == dead_letter)
            .values(reason_code=code, reason_text=text)
        )
    with TestClient(world.app) as client:
        sign_in(client, "vic")
        reason = _dd(client.get(f"/dead-letters/{dead_letter}").text, "reason")
        assert reason == f'{japanese} ({code}): <span lang="en">{text}</span>'  # the name leads, text kept
        listed = client.get("/dead-letters?lang=ja").text
        assert f'<td title="{code}">{japanese}</td>' in listed

        reason_en = _dd(client.get(f"/dead-letters/{dead_letter}?lang=en").text, "reason")
        assert reason_en == f'{english} ({code}): <span lang="en">{text}</span>'
        api = client.get(f"/api/dead-letters/{dead_letter}", headers=token("vic")).json()
        assert (api["reason_code"], api["reason_text"]) == (code, text)  # the API keeps code and text


def test_a_code_without_a_name_is_said_to_be_one_before_the_recorded_text(world: ConsoleWorld) -> None:
    dead_letter = world.dead_letters["legacy"]  # failed as gateway_rejected, a code no part of renkei has
    with TestClient(world.app) as client:
        sign_in(client, "ada")
        reason = _dd(client.get(f"/dead-letters/{dead_letter}?lang=ja").text, "reason")
        recorded = '<span lang="en">J-LIS refused the file</span>'
        assert reason == f"登録のない失敗コード (gateway_rejected): {recorded}"
        reason_en = _dd(client.get(f"/dead-letters/{dead_letter}?lang=en").text, "reason")
        assert reason_en.startswith("unregistered failure code (gateway_rejected): ")


# -- the verification's chain ids ----------------------------------------------------------------------


def test_a_verification_finding_names_its_chain_whole_in_either_language(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    try:
        with world.hub.engine.begin() as conn:
            chain_id, seq = conn.execute(
                select(access_records.c.chain_id, access_records.c.seq).order_by(access_records.c.at).limit(1)
            ).one()
            conn.execute(
                update(access_records)
                .where(access_records.c.chain_id == chain_id, access_records.c.seq == seq)
                .values(reason="changed afterwards")
            )
        assert re.fullmatch(r"[a-z]{26}", chain_id)  # letters only: it cannot hold a number
        with TestClient(world.app) as client:
            sign_in(client, "aki")
            finding = r'data-testid="verify-problem">(.*?)</p>'
            ja = re.findall(finding, client.get("/audit/verify").text)
            assert f"チェーン {chain_id} の記録 {seq}：" in ja[0]
            en = re.findall(finding, client.get("/audit/verify?lang=en").text)
            assert en[0].startswith(f"chain {chain_id} seq {seq}: ")
            api = client.get("/api/audit/verify", headers=token("aki")).json()
            assert any(p.startswith(f"chain {chain_id} seq {seq}: ") for p in api["problems"])
    finally:
        world.hub.close()

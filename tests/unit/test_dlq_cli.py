"""``renkei dlq`` on an SQLite store: list, groups, show (always redacted), discard, dry-run replay."""

from __future__ import annotations

import getpass
import json
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import update
from typer.testing import CliRunner

from contracts.individual_number import synthetic_individual_number
from contracts.redaction import REDACTED, find_numbers
from hub.cli import dlq
from hub.cli.audit import app as audit_app
from hub.infra.db.tables.dead_letters import dead_letters as table
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry, make_env

runner = CliRunner()


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path)
    for _ in range(2):
        env.send(inquiry())
    env.send_raw(b"not json")
    env.run(env.worker({INQUIRY: FlakyHandler()}))
    yield env
    env.hub.close()


def invoke(env, *args: str, app=dlq.app):
    return runner.invoke(app, list(args), obj=env.settings)


def lines(result: Result) -> list[dict[str, Any]]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_list_shows_pending_dead_letters_and_filters_them(env):
    every = lines(invoke(env, "list", "--json"))
    assert len(every) == 3
    assert {d["reason_code"] for d in every} == {"injected", "undecodable"}
    garbage = lines(invoke(env, "list", "--json", "--type", "garbage"))
    assert [d["stage"] for d in garbage] == ["decode"]
    group = every[0]["fingerprint"]
    assert {d["fingerprint"] for d in lines(invoke(env, "list", "--json", "--group", group))} == {group}
    assert len(lines(invoke(env, "list", "--json", "--source", "hub.ingress"))) == 3
    assert lines(invoke(env, "list", "--json", "--source", "adapter.jlis")) == []
    assert lines(invoke(env, "list", "--json", "--until", "2000-01-01T00:00")) == []
    assert len(lines(invoke(env, "list", "--json", "--since", "2000-01-01T00:00+09:00"))) == 3
    table = invoke(env, "list")
    assert table.exit_code == 0
    assert "3 dead letter(s)" in table.stdout


def test_groups_count_by_fingerprint(env):
    groups = lines(invoke(env, "groups", "--json"))
    assert sorted(g["count"] for g in groups) == [1, 2]
    assert {g["label"] for g in groups} == {
        "injected at handle on pension.survival_inquiry.requested",
        "undecodable at decode on unknown",  # "garbage" is no type the hub knows: not in the label
    }
    assert invoke(env, "groups").exit_code == 0


def test_show_never_prints_a_number_even_if_the_store_held_one(env):
    number = synthetic_individual_number().reveal()
    dead = env.dead_letters()[0]
    with env.hub.engine.begin() as conn:  # as if a row were written before redaction existed
        conn.execute(update(table).where(table.c.id == dead.id).values(body=f'{{"n": "{number}"}}'.encode()))
    for args in (("show", str(dead.id)), ("show", str(dead.id), "--json")):
        result = invoke(env, *args)
        assert result.exit_code == 0, result.output
        assert number not in result.stdout
        assert not find_numbers(result.stdout)
        assert REDACTED in result.stdout
    assert invoke(env, "show", "999").exit_code == 1


def test_show_says_when_retention_destroyed_part_of_a_body(env):
    dead = env.dead_letters()[0]
    with env.hub.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == dead.id)
            .values(
                body=b'{"payload": {"records": [{"n": "[erased]"}]}}',
                erased_at=dead.received_at,
                erasure_note="retention 2031-03-01: 1 sealed value(s) destroyed",
            )
        )
    [shown] = lines(invoke(env, "show", str(dead.id), "--json"))
    assert shown["erased"] is True
    assert shown["erasure_note"].endswith("1 sealed value(s) destroyed")
    text = invoke(env, "show", str(dead.id))
    assert "ERASED" in text.stdout
    assert "cannot be replayed" in text.stdout
    other = invoke(env, "show", str(env.dead_letters()[1].id))
    assert "ERASED" not in other.stdout


def test_show_says_a_stored_erasure_notice_as_the_sentence_retention_wrote(env):
    """Retention stores its note as a code and values; the CLI says the English sentence it always said."""
    dead = env.dead_letters()[0]
    with env.hub.engine.begin() as conn:
        conn.execute(
            update(table)
            .where(table.c.id == dead.id)
            .values(
                erased_at=dead.received_at,
                erasure_code="erasure.archived",
                erasure_params=json.dumps({"date": "2031-03-01", "sealed": 2, "days": 30}),
            )
        )
    sentence = "retention 2031-03-01: 2 sealed value(s) destroyed, 30 days after replay or discard"
    [shown] = lines(invoke(env, "show", str(dead.id), "--json"))
    assert shown["erasure_note"] == sentence
    text = invoke(env, "show", str(dead.id))
    assert sentence in " ".join(text.stdout.split())


def test_discard_archives_with_the_operator_and_is_found_in_the_access_record(env, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "tester")  # the module hub.cli.dlq asks
    [garbage] = lines(invoke(env, "list", "--json", "--type", "garbage"))
    [report] = lines(invoke(env, "discard", str(garbage["id"]), "--reason", "sender bug", "--json"))
    assert report["counts"] == {"discarded": 1}
    assert report["operator"] == "tester"
    assert lines(invoke(env, "list", "--json", "--type", "garbage")) == []
    [archived] = lines(invoke(env, "list", "--json", "--status", "discarded"))
    assert (archived["discard_reason"], archived["last_operator"]) == ("sender bug", "tester")
    [record] = lines(invoke(env, "search", "--action", "discarded", "--json", app=audit_app))
    assert (record["actor"], record["reason"]) == ("operator:tester", "sender bug")


def test_replay_dry_run_lists_what_it_would_replay_and_changes_nothing(env):
    [report] = lines(
        invoke(
            env, "replay", "--type", INQUIRY[0], "--reason", "look", "--dry-run", "--operator", "al", "--json"
        )
    )
    assert report["counts"] == {"would_replay": 2}
    assert len(lines(invoke(env, "list", "--json"))) == 3
    assert env.mem.ready(env.names.ingress_queue) == []


def test_replay_and_discard_need_a_selection_and_a_reason(env):
    assert invoke(env, "replay", "--reason", "everything?").exit_code == 2
    assert invoke(env, "discard", "--reason", "everything?").exit_code == 2
    assert invoke(env, "replay", "1").exit_code == 2  # no --reason
    assert invoke(env, "discard", "1", "--reason", "  ").exit_code == 2
    assert invoke(env, "list", "--since", "yesterday").exit_code == 2

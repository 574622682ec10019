"""The console's gates: sign-in, roles, CSRF, association scope, refusals recorded, reveal fail-closed."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from contracts.errors import AuditWriteFailed, ConfigurationError
from contracts.ids import new_id
from contracts.redaction import find_numbers
from hub.console.users import load_users
from hub.infra.crypto.sealing import HpkeSealer
from tests.console_fixtures import (
    CHIBA,
    ConsoleWorld,
    _dead_letter,
    _inquiry_body,
    approved,
    console_world,
    session,
    sign_in,
    token,
)

__all__ = ["console_world"]

ROLE_MATRIX = [
    # (method, path template, json body, roles allowed)
    ("GET", "/api/flows", None, {"ada", "olga", "aki", "vic"}),
    ("GET", "/api/health", None, {"ada", "olga", "aki", "vic"}),
    ("GET", "/api/dead-letters", None, {"ada", "olga", "aki", "vic"}),
    ("GET", "/api/trace/{chiba}", None, {"ada", "olga", "aki"}),
    ("GET", "/api/audit/records", None, {"ada", "aki"}),
    ("GET", "/api/audit/verify", None, {"ada", "aki"}),
    ("POST", "/api/dead-letters/discard", {"ids": [999], "reason": "nothing"}, {"ada", "olga"}),
    (
        "POST",
        "/api/approvals",
        {
            "action": "reveal_number",
            "dead_letter_id": "{dl}",
            "sealed_index": 1,
            "reason": "a reason long enough",
        },
        {"ada"},
    ),
]


def _fill(path: str, world: ConsoleWorld) -> str:
    return path.format(chiba=world.correlations["chiba"], dl=world.dead_letters["chiba"])


def _fill_body(body: dict[str, object] | None, world: ConsoleWorld) -> dict[str, object] | None:
    if body is None:
        return None
    return {k: world.dead_letters["chiba"] if v == "{dl}" else v for k, v in body.items()}


@pytest.mark.parametrize(("method", "path", "body", "allowed"), ROLE_MATRIX)
def test_every_api_call_checks_the_role_and_records_refusals(console_world, method, path, body, allowed):
    world = console_world
    with TestClient(world.app) as client:
        for name in ("ada", "olga", "aki", "vic"):
            before = len(world.records("refused"))
            # A session for everyone: an admin has no bearer token.
            headers = session(client, name)
            response = client.request(
                method, _fill(path, world), json=_fill_body(body, world), headers=headers
            )
            refusals = [r for r in world.records("refused")[before:] if r["actor"] == f"console:{name}"]
            if name in allowed:
                assert response.status_code < 400, (name, response.text)
                assert not refusals
            else:
                assert response.status_code == 403, (name, response.text)
                assert len(refusals) == 1
                assert refusals[0]["outcome"] == "refused"
                assert "may not" in refusals[0]["reason"]


def test_without_credentials_the_api_says_401_and_pages_send_to_sign_in(console_world):
    with TestClient(console_world.app) as client:
        assert client.get("/api/flows").status_code == 401
        assert client.get("/api/flows", headers={"Authorization": "Bearer wrong"}).status_code == 401
        page = client.get("/dead-letters", follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login?next=/dead-letters")
        assert client.get("/metrics").status_code == 401


def test_sign_in_with_password_and_failed_sign_ins_are_recorded(console_world):
    world = console_world
    with TestClient(world.app) as client:
        bad = client.post("/login", data={"name": "olga", "password": "not her password"})
        assert bad.status_code == 401
        refused = world.records("refused")
        assert refused[-1]["actor"] == "console:olga"
        assert "sign-in failed" in refused[-1]["reason"]
        unknown = client.post("/login", data={"name": "nobody-123456", "password": "x"})
        assert unknown.status_code == 401
        assert world.records("refused")[-1]["actor"] == "console:anonymous"  # a typed password stays out
        sign_in(client, "olga")
        page = client.get("/flows")
        assert page.status_code == 200
        assert "olga · operator · federation" in page.text
        assert page.headers["cache-control"] == "no-store"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        client.post("/logout")
        assert client.get("/flows", follow_redirects=False).status_code == 303


def test_sign_in_locks_a_name_after_five_failures(console_world):
    with TestClient(console_world.app) as client:
        wrong = {"name": "vic", "password": "wrong"}
        codes = [client.post("/login", data=wrong).status_code for _ in range(6)]
        assert codes == [401] * 5 + [429]


def test_a_form_without_its_csrf_token_is_refused_and_recorded(console_world):
    world = console_world
    with TestClient(world.app) as client:
        csrf = sign_in(client, "olga")
        dl = world.dead_letters["unread"]  # its body carries no number (sealed or plain): no second person
        form = {"operation": "discard", "reason": "duplicate of a fixed batch", "ids": str(dl)}
        assert client.post("/dead-letters/actions", data=form).status_code == 403
        assert world.records("refused")[-1]["reason"] == "missing or wrong CSRF token"
        done = client.post("/dead-letters/actions", data={**form, "csrf": csrf})
        assert done.status_code == 200
        assert 'data-outcome="discarded">破棄済み<' in done.text
        discarded = world.records("discarded")
        assert discarded[-1]["actor"] == "operator:olga@console"
        assert discarded[-1]["reason"] == "duplicate of a fixed batch"


def test_replay_from_the_api_publishes_and_records_before(console_world):
    world = console_world
    queue = world.hub.names.adapter_queue("jlis")
    with TestClient(world.app) as client:
        dl = world.dead_letters["saitama"]
        body = {"ids": [dl], "reason": "J-LIS fixed its side", "rate": 5, "limit": 5}
        # Its body carries sealed numbers: alone, an operator replays nothing.
        alone = client.post("/api/dead-letters/replay", json=body, headers=token("olga"))
        assert alone.status_code == 200, alone.text
        assert alone.json()["counts"] == {"skipped": 1}
        assert "second person" in alone.json()["results"][0]["detail"]
        assert world.transport.queue_depth(queue)[0] == 0
        approval = approved(
            client,
            {"action": "replay_dead_letters", "ids": [dl], "reason": "J-LIS fixed its side, replay it"},
            requester="olga",
            approver="otto",
        )
        response = client.post(
            "/api/dead-letters/replay", json={**body, "approval_id": approval}, headers=token("olga")
        )
        assert response.status_code == 200, response.text
        assert response.json()["counts"] == {"replayed": 1}
        assert world.transport.queue_depth(queue)[0] == 1
        replayed = world.records("replayed")
        assert replayed[-1]["actor"] == "operator:olga@console"
        assert replayed[-1]["destination"] == queue
        assert '"approved_by":"otto"' in replayed[-1]["details"]
        assert '"requested_by":"olga"' in replayed[-1]["details"]
        again = client.get(f"/api/dead-letters/{dl}", headers=token("olga")).json()
        assert again["status"] == "replayed"
        once = client.post(
            "/api/dead-letters/replay", json={**body, "approval_id": approval}, headers=token("olga")
        )
        assert once.status_code == 403  # a request is used once
        too_slow = client.post(
            "/api/dead-letters/replay",
            json={"group": "abcdefghijklmnop", "reason": "all of them", "rate": 1, "limit": 500},
            headers=token("olga"),
        )
        assert too_slow.status_code == 200  # limit / rate over 60 s: capped, and the report says so
        assert too_slow.json()["error"].startswith("limited to 60")


def test_an_association_sees_only_its_members(console_world):
    world = console_world
    with TestClient(world.app) as client:
        ids = {d["id"] for d in client.get("/api/dead-letters", headers=token("chiba-op")).json()}
        assert ids == {world.dead_letters["chiba"], world.dead_letters["legacy"]}
        every = {d["id"] for d in client.get("/api/dead-letters", headers=token("olga")).json()}
        assert every == set(world.dead_letters.values())
        groups = client.get("/api/dead-letters/groups", headers=token("chiba-op")).json()
        assert groups[0]["count"] == 2
        records = client.get("/api/audit/records?limit=500", headers=token("chiba-aud")).json()["records"]
        assert records
        assert {r["correlation_id"] for r in records} == {world.correlations["chiba"]}
        mixed = client.get("/api/audit/records?limit=500", headers=token("aki")).json()["records"]
        assert world.correlations["mixed"] in {r["correlation_id"] for r in mixed}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/dead-letters/{saitama_dl}", None),
        ("GET", "/api/dead-letters/{unread_dl}", None),
        ("GET", "/api/trace/{saitama}", None),
        ("GET", "/api/trace/{mixed}", None),
        ("POST", "/api/dead-letters/replay", {"ids": ["{saitama_dl}"], "reason": "not ours"}),
        (
            "POST",
            "/api/approvals",
            {
                "action": "reveal_number",
                "dead_letter_id": "{saitama_dl}",
                "sealed_index": 1,
                "reason": "curious about it",
            },
        ),
        ("GET", "/metrics", None),
    ],
)
def test_out_of_scope_is_refused_and_recorded(console_world, method, path, body):
    world = console_world
    values = {
        "saitama_dl": world.dead_letters["saitama"],
        "unread_dl": world.dead_letters["unread"],
        "saitama": world.correlations["saitama"],
        "mixed": world.correlations["mixed"],
    }
    if body and "ids" in body:
        body = {**body, "ids": [values["saitama_dl"]]}
    if body and "dead_letter_id" in body:
        body = {**body, "dead_letter_id": values["saitama_dl"]}
    name = "chiba-admin" if "approvals" in path else "chiba-op"
    with TestClient(world.app) as client:
        headers = session(client, name) if name == "chiba-admin" else token(name)
        response = client.request(method, path.format(**values), json=body, headers=headers)
        assert response.status_code == 403, response.text
        last = world.records("refused")[-1]
        assert last["actor"] == f"console:{name}"
        assert last["reason"] == f"scope: outside association {CHIBA}"
    assert not world.records("revealed")
    assert not world.records("replayed")


def _reveal_request(dl: int, index: int = 2) -> dict[str, object]:
    return {
        "action": "reveal_number",
        "dead_letter_id": dl,
        "sealed_index": index,
        "reason": "pensioner asked which number we hold",
    }


def test_an_admin_reveals_one_number_approved_by_another_recorded_first(console_world):
    world = console_world
    dl = world.dead_letters["chiba"]
    with TestClient(world.app) as client:
        detail = client.get(f"/api/dead-letters/{dl}", headers=token("olga")).json()
        assert [s["index"] for s in detail["sealed"]] == [1, 2]
        assert not find_numbers(str(detail))
        approval = approved(client, _reveal_request(dl), requester="chiba-admin", approver="ben")
        headers = session(client, "chiba-admin")
        response = client.post(
            f"/api/dead-letters/{dl}/reveal",
            json={"sealed_index": 2, "approval_id": approval},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["number"] == world.sealed[dl][1]
        assert response.headers["cache-control"] == "no-store"
        again = client.post(
            f"/api/dead-letters/{dl}/reveal",
            json={"sealed_index": 2, "approval_id": approval},
            headers=headers,
        )
        assert again.status_code == 403  # used once
    revealed = world.records("revealed")
    assert len(revealed) == 1
    assert revealed[0]["actor"] == "console:chiba-admin"
    assert revealed[0]["reason"] == "pensioner asked which number we hold"
    assert '"approved_by":"ben"' in revealed[0]["details"]
    assert '"requested_by":"chiba-admin"' in revealed[0]["details"]
    assert world.sealed[dl][1] not in str(revealed[0])
    assert [r["reason"] for r in world.records("approved")] == ["ok"]


def test_a_request_is_never_approved_by_its_requester_nor_an_association_for_a_reveal(console_world):
    world = console_world
    dl = world.dead_letters["chiba"]
    with TestClient(world.app) as client:
        made = client.post("/api/approvals", json=_reveal_request(dl), headers=session(client, "chiba-admin"))
        approval = made.json()["approval_id"]
        own = client.post(
            f"/api/approvals/{approval}/decide",
            json={"approve": True},
            headers=session(client, "chiba-admin"),
        )
        assert own.status_code == 409
        assert "another person" in own.json()["detail"]
        unapproved = client.post(
            f"/api/dead-letters/{dl}/reveal",
            json={"sealed_index": 2, "approval_id": approval},
            headers=session(client, "chiba-admin"),
        )
        assert unapproved.status_code == 403
        assert "approved by a second person" in unapproved.json()["detail"]
        decided = client.post(
            f"/api/approvals/{approval}/decide", json={"approve": True}, headers=session(client, "ada")
        )
        assert decided.status_code == 200
        stolen = client.post(
            f"/api/dead-letters/{dl}/reveal",
            json={"sealed_index": 2, "approval_id": approval},
            headers=session(client, "ben"),
        )
        assert stolen.status_code == 403  # only the requester carries it out
        assert "only they may carry it out" in stolen.json()["detail"]
    assert not world.records("revealed")
    refusals = [r for r in world.records("approved") if r["outcome"] == "refused"]
    assert refusals
    assert "another person" in refusals[0]["reason"]


def test_a_reveal_is_refused_when_its_record_cannot_be_written(console_world, monkeypatch):
    world = console_world
    state = world.app.state.console
    dl = world.dead_letters["chiba"]
    with TestClient(world.app) as client:
        approval = approved(client, _reveal_request(dl, 1), requester="ada", approver="ben")

        def broken(_records):
            raise AuditWriteFailed("the access record could not be committed")

        monkeypatch.setattr(state, "record", broken)
        response = client.post(
            f"/api/dead-letters/{dl}/reveal",
            json={"sealed_index": 1, "approval_id": approval},
            headers=session(client, "ada"),
        )
    assert response.status_code == 503
    assert not find_numbers(response.text)
    assert world.sealed[dl][0] not in response.text
    assert not world.records("revealed")


def test_a_reveal_needs_an_admin_a_reason_and_a_number_that_is_there(console_world):
    world = console_world
    dl = world.dead_letters["chiba"]
    with TestClient(world.app) as client:
        operator = client.post("/api/approvals", json=_reveal_request(dl, 1), headers=token("olga"))
        assert operator.status_code == 403
        short = client.post(
            "/api/approvals", json={**_reveal_request(dl, 1), "reason": "why"}, headers=session(client, "ada")
        )
        assert short.status_code == 422
        # A number that is not there is refused when asked, before anyone approves.
        missing = client.post("/api/approvals", json=_reveal_request(dl, 9), headers=session(client, "ada"))
        assert missing.status_code == 404, missing.text
        assert "no sealed number #9" in missing.text
    assert not world.records("revealed")
    assert not world.records("requested")


def test_a_person_reveals_at_most_the_daily_limit(tmp_path):
    from tests.console_fixtures import make_world

    world = make_world(tmp_path, reveals_per_day=1)
    try:
        dl = world.dead_letters["chiba"]
        with TestClient(world.app) as client:
            first = approved(client, _reveal_request(dl, 1), requester="ada", approver="ben")
            done = client.post(
                f"/api/dead-letters/{dl}/reveal",
                json={"sealed_index": 1, "approval_id": first},
                headers=session(client, "ada"),
            )
            assert done.status_code == 200
            second = client.post(
                "/api/approvals", json=_reveal_request(dl, 2), headers=session(client, "ada")
            )
            assert second.status_code == 409
            assert "daily limit of 1" in second.json()["detail"]
        assert len(world.records("revealed")) == 1
        assert world.records("requested")[-1]["reason"] == "daily_reveal_limit"
    finally:
        world.hub.close()


def test_an_admin_with_a_bearer_token_stops_the_console_at_start(tmp_path):
    users = tmp_path / "users.toml"
    users.write_text(
        '[[users]]\nname = "root"\nrole = "admin"\norg = "federation"\n'
        'token_hash = "sha256:' + "0" * 64 + '"\n'
    )
    users.chmod(0o600)
    with pytest.raises(ConfigurationError, match="bearer tokens cannot carry the admin role"):
        load_users(users)


def test_no_users_file_no_console(tmp_path):
    with pytest.raises(ConfigurationError, match="RENKEI_CONSOLE_USERS_FILE"):
        load_users(None)
    loose = tmp_path / "users.toml"
    loose.write_text('[[users]]\nname = "a"\nrole = "admin"\norg = "federation"\ntoken_hash = "sha256:x"\n')
    loose.chmod(0o666)
    with pytest.raises(ConfigurationError, match="writable by others"):
        load_users(loose)
    loose.chmod(0o600)
    with pytest.raises(ConfigurationError, match="token_hash"):
        load_users(loose)


def test_a_number_sealed_for_an_adapter_is_not_revealed_by_the_console(console_world):
    # Least privilege: the console holds the hub's private key, never a counterpart adapter's. A dead letter
    # holding a number sealed for J-LIS is shown as sealed, and refused (409) with the reason, nothing shown.
    world = console_world
    message_id = new_id()
    sealer = HpkeSealer(world.hub.keyring.sealing_for(["jlis"]))
    dl = _dead_letter(
        world.hub,
        key="dl-for-jlis",
        body=_inquiry_body(sealer, message_id, [world.numbers[4]], recipient="jlis"),
        correlation=world.correlations["chiba"],
        message_id=str(message_id),
        headers={"x-renkei-failure-reason": "refused"},
    )
    with TestClient(world.app) as client:
        detail = client.get(f"/api/dead-letters/{dl}", headers=session(client, "ada")).json()
        assert [s["recipient"] for s in detail["sealed"]] == ["jlis"]
        # Refused when asked, before anyone approves: the request would be of no use (and cost a reveal).
        asked = client.post(
            "/api/approvals",
            json={
                "action": "reveal_number",
                "dead_letter_id": dl,
                "sealed_index": 1,
                "reason": "which number did we send to J-LIS",
            },
            headers=session(client, "ada"),
        )
        assert asked.status_code == 409, asked.text
        assert "sealed for jlis" in asked.text
        assert world.numbers[4].reveal() not in asked.text
    assert not world.records("revealed")
    assert not world.records("requested")

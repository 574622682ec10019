"""No page and no API response holds a valid Individual Number, for any role, except one admin reveal.

The world's dead letters hold sealed numbers, and one legacy row a plain number in its body and a header:
every page and call is fetched as every user, and each answer is scanned with the leak scanner. The number
guard must not have had to step in either (it counts what it scrubs): the pages redact by themselves.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from contracts.redaction import find_numbers
from tests.console_fixtures import USERS, ConsoleWorld, approved, console_world, session, sign_in, token

__all__ = ["console_world"]


def _api_paths(world: ConsoleWorld) -> list[str]:
    paths = [
        "/api/flows",
        "/api/flows?window_minutes=1440",
        "/api/health",
        "/api/dead-letters",
        "/api/dead-letters?status=replayed",
        "/api/dead-letters/groups",
        "/api/audit/records?limit=500",
        "/api/audit/verify",
        "/api/approvals?status=all",
        "/metrics",
        "/openapi.json",
    ]
    paths += [f"/api/dead-letters/{i}" for i in world.dead_letters.values()]
    paths += [f"/api/trace/{c}" for c in world.correlations.values()]
    return paths


def _pages(world: ConsoleWorld) -> list[str]:
    pages = ["/flows", "/flows?window=1440", "/dead-letters", "/trace", "/audit", "/audit/verify", "/health"]
    pages += ["/approvals", "/approvals?status=all"]
    pages += [f"/dead-letters/{i}" for i in world.dead_letters.values()]
    pages += [f"/trace?correlation_id={c}" for c in world.correlations.values()]
    pages += ["/dead-letters?group=abcdefghijklmnop", "/login"]
    return pages


def _assert_clean(text: str, where: str) -> None:
    assert not find_numbers(text), f"a number in {where}"


def test_no_response_holds_a_number_for_any_role(console_world):
    world = console_world
    world.app.state.console.sampler.sample()
    fetched = 0
    with TestClient(world.app) as client:
        for name, _role, _org in USERS:
            # An admin calls the API from a session (a bearer token cannot carry the admin role).
            headers = session(client, name) if _role == "admin" else token(name)
            for path in _api_paths(world):
                response = client.get(path, headers=headers)
                assert response.status_code in (200, 403, 404), (name, path, response.status_code)
                _assert_clean(response.text, f"{path} as {name}")
                _assert_clean(str(response.headers), f"headers of {path} as {name}")
                fetched += 1
            client.cookies.clear()
            sign_in(client, name)
            for path in _pages(world):
                response = client.get(path)
                assert response.status_code in (200, 403, 404), (name, path, response.status_code)
                _assert_clean(response.text, f"{path} as {name}")
                fetched += 1
            client.post("/logout")
            client.cookies.clear()
    assert fetched == len(USERS) * (len(_api_paths(world)) + len(_pages(world)))
    assert world.app.state.console.guard_hits == 0


def test_the_one_reveal_shows_its_number_and_nothing_else_does(console_world):
    world = console_world
    dl = world.dead_letters["chiba"]
    reason = "the pensioner asked which number we hold"
    with TestClient(world.app) as client:
        request = {"action": "reveal_number", "dead_letter_id": dl, "sealed_index": 1, "reason": reason}
        approval = approved(client, request, requester="ada", approver="ben")
        csrf = sign_in(client, "ada")
        page = client.get(f"/dead-letters/{dl}")
        _assert_clean(page.text, "the dead letter page")
        assert "⟨sealed for hub · #1⟩" in page.text
        assert approval in page.text  # the approved request, ready to carry out
        revealed = client.post(
            f"/dead-letters/{dl}/reveal", data={"csrf": csrf, "sealed_index": "1", "approval_id": approval}
        )
        assert revealed.status_code == 200
        spans = find_numbers(revealed.text)
        assert [revealed.text[s:e] for s, e in spans] == [world.sealed[dl][0]]
        after = client.get(f"/dead-letters/{dl}")
        _assert_clean(after.text, "the page after the reveal")
        audit = client.get("/audit?action=revealed")
        _assert_clean(audit.text, "the audit page")
        assert reason in audit.text
    assert world.app.state.console.guard_hits == 0


def test_the_guard_scrubs_what_a_page_forgot(console_world):
    from hub.console.guard import scrub

    number = console_world.numbers[5].reveal()
    text, hits = scrub(f"a {number} and {number}")
    assert hits == 2
    assert not find_numbers(text)
    kept, hits = scrub(f"only {number}", allowed=number)
    assert hits == 0
    assert number in kept

"""The console loads nothing from elsewhere: a strict Content-Security-Policy everywhere, API docs signed in.

``/api/docs`` runs Swagger UI from the pinned ``fastapi-offline`` package's files, served by the console
itself; its policy adds only ``script-src 'self'`` and ``connect-src 'self'``. ``/openapi.json`` and the docs
answer 401 without credentials.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from tests.console_fixtures import ConsoleWorld, make_world, sign_in, token


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleWorld]:
    world = make_world(Path(tmp_path_factory.mktemp("console-docs")))
    yield world
    world.hub.close()


def concrete(path: str, world: ConsoleWorld) -> str:
    """A route's path with its parameters filled in from the seeded world."""
    dead_letter = str(next(iter(world.dead_letters.values())))
    correlation = next(iter(world.correlations.values()))
    path = path.replace("{dead_letter_id}", dead_letter).replace("{correlation_id}", correlation)
    return re.sub(r"\{[^}]+\}", "1", path)


def assert_strict(policy: str | None, where: str) -> None:
    assert policy, f"no Content-Security-Policy on {where}"
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["default-src"] == "'none'", where
    assert directives["frame-ancestors"] == "'none'", where
    for name, sources in directives.items():
        assert "unsafe" not in sources, f"{where}: {name} {sources}"
        assert "http" not in sources, f"{where}: {name} allows elsewhere: {sources}"
        assert "*" not in sources, f"{where}: {name} allows elsewhere: {sources}"
        assert set(sources.split()) <= {"'self'", "'none'", "data:"}, f"{where}: {name} {sources}"


def every_route(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every route of the app with its full path, through included routers (FastAPI wraps them)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from every_route(included.routes, prefix + (getattr(context, "prefix", "") or ""))
        else:
            yield prefix + getattr(route, "path", ""), route


def test_every_route_carries_the_strict_policy(world: ConsoleWorld) -> None:
    client = TestClient(world.app)
    sign_in(client, "ada")
    checked = 0
    for full, route in every_route(world.app.routes):
        if isinstance(route, APIRoute) and "GET" in (route.methods or set()):
            path = concrete(full, world)
        elif isinstance(route, Mount):
            path = f"{full}/" + ("console.css" if full == "/static" else "swagger-ui.css")
        else:
            continue
        response = client.get(path, follow_redirects=False)
        assert response.status_code < 500, path
        assert_strict(response.headers.get("content-security-policy"), path)
        checked += 1
    assert checked >= 20
    # Errors too.
    assert_strict(client.get("/no/such/page").headers.get("content-security-policy"), "a 404")


@pytest.mark.parametrize("path", ["/openapi.json", "/api/docs"])
def test_the_api_description_and_its_docs_need_a_sign_in(world: ConsoleWorld, path: str) -> None:
    client = TestClient(world.app)
    refused = client.get(path, follow_redirects=False)
    assert refused.status_code == 401
    assert "paths" not in refused.text
    assert client.get(path, headers=token("vic")).status_code == 200  # any role may read them
    sign_in(client, "vic")
    assert client.get(path).status_code == 200


def test_the_docs_page_loads_only_the_consoles_own_files(world: ConsoleWorld) -> None:
    client = TestClient(world.app)
    page = client.get("/api/docs", headers=token("vic"))
    assert page.status_code == 200
    assert "<script>" not in page.text  # no inline script: the policy would block it anyway
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources
    for source in sources:
        assert source.startswith("/"), source  # nothing from another origin
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert len(asset.content) > 100, source
    assert client.get("/openapi.json", headers=token("vic")).json()["info"]["title"] == "renkei console API"

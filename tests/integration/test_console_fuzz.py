"""Fuzzing the console's JSON API from its OpenAPI description (schemathesis), signed in as an admin.

Bounded: at most 25 examples per operation, no deadline (SQLite on a shared machine). Every answer must
match the schema, carry no server error, and hold no Individual Number. An admin has no bearer token (it
cannot carry the admin role): the fuzzer sends the session cookie and CSRF header of a signed-in admin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from contracts.redaction import find_numbers
from tests.console_fixtures import make_world, sign_in


@pytest.fixture(scope="module")
def fuzz_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    world = make_world(Path(tmp_path_factory.mktemp("console-fuzz")))
    world.app.state.console.sampler.sample()
    yield world
    world.hub.close()


@pytest.mark.slow
def test_api_conforms_to_its_openapi_description(fuzz_world):
    # The description needs a sign-in like everything else (the loader passes the headers on).
    client = TestClient(fuzz_world.app)
    csrf = sign_in(client, "ada")
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    admin = {"Cookie": cookie, "X-CSRF-Token": csrf}
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_world.app, headers=admin)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # every operation of the description loads
        operations.append(result.ok())
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call_and_validate(headers=admin)
            assert response.status_code < 500 or response.status_code == 503
            assert not find_numbers(response.text) or "/reveal" in case.path

        run()

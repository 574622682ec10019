"""Broker log-in per service: addresses with the service's own user, passwords kept owner-only.

Also ``renkei topology users``' way to the management API, against a small fake of it on 127.0.0.1.
"""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypedDict

import pytest

from contracts.errors import ConfigurationError
from hub.infra.broker.credentials import (
    broker_login,
    password_path,
    sender_identities,
    service_password,
    url_user,
    url_vhost,
)
from hub.infra.broker.definitions import broker_users, password_matches
from hub.infra.broker.users import (
    ManagementApi,
    apply_definitions,
    apply_users,
    delete_users,
    users_document,
)
from hub.settings import BrokerIdentity, BrokerSettings, Environment, Settings

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


class ProductionBase(TypedDict):
    """The settings of a production deployment that every case here shares."""

    environment: Environment
    key_file: Path
    exchange_prefix: str


def settings(tmp_path: Path, **broker: Any) -> Settings:
    return Settings(
        amqp_url=URL, data_dir=tmp_path / "var", exchange_prefix="p", broker=BrokerSettings(**broker)
    )


def test_development_defaults_to_per_service_identity_like_production(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert s.broker.identity is None  # not chosen: the default
    assert s.broker_identity is BrokerIdentity.PER_SERVICE
    login = broker_login(s, "hub")
    assert (login.user, login.shared) == ("p-hub", False)
    assert password_path(s, "hub").exists()
    assert sender_identities(s).shared_users == frozenset()


def test_shared_development_log_in_is_the_urls_own_and_proves_nobody(tmp_path: Path) -> None:
    s = settings(tmp_path, identity=BrokerIdentity.SHARED)
    login = broker_login(s, "adapter-jlis")
    assert (login.user, login.addresses, login.shared) == ("guest", (URL,), True)
    assert "guest:guest" not in repr(login)  # the addresses hold the password
    assert sender_identities(s).shared_users == frozenset({"guest"})


def test_per_service_development_passwords_are_generated_once_owner_only(tmp_path: Path) -> None:
    s = settings(tmp_path, identity=BrokerIdentity.PER_SERVICE)
    login = broker_login(s, "adapter-pension")
    path = password_path(s, "adapter-pension")
    password = path.read_text().strip()
    assert login.user == "p-adapter-pension"
    assert login.addresses == (f"amqp://p-adapter-pension:{password}@127.0.0.1:5672/%2F",)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert broker_login(s, "adapter-pension") == login  # kept, not made anew
    assert broker_login(s, "hub").addresses != login.addresses  # one password per service
    assert url_user(login.addresses[0]) == "p-adapter-pension"
    assert url_vhost(login.addresses[0]) == "/"
    assert sender_identities(s).shared_users == frozenset()


def test_processes_starting_together_get_one_whole_password(tmp_path: Path) -> None:
    # `renkei run` of several services at once: each may be the one to generate a password first.
    s = settings(tmp_path, identity=BrokerIdentity.PER_SERVICE)
    seen: list[str] = []
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        seen.append(service_password(s, "operator"))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(seen) == 8
    assert len(set(seen)) == 1
    assert seen[0]
    assert [p.name for p in password_path(s, "operator").parent.iterdir()] == ["operator.password"]


def test_production_reads_each_services_password_file_and_refuses_one_open_to_others(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hub").write_text("s3cret/hub\n")
    (secrets / "hub").chmod(0o600)
    s = Settings(
        environment=Environment.PRODUCTION,
        key_file=tmp_path / "keyring.json",
        amqp_url="amqps://amqp.internal:5671/renkei",
        exchange_prefix="renkei",
        broker=BrokerSettings(password_file=str(secrets / "{service}")),
    )
    assert broker_login(s, "hub").addresses == ("amqps://renkei-hub:s3cret%2Fhub@amqp.internal:5671/renkei",)
    (secrets / "hub").chmod(0o644)
    with pytest.raises(ConfigurationError, match="open to others"):
        broker_login(s, "hub")
    with pytest.raises(ConfigurationError, match="cannot read"):
        broker_login(s, "operator")


def test_production_without_a_password_file_needs_the_services_own_user_in_the_url(tmp_path: Path) -> None:
    base = ProductionBase(
        environment=Environment.PRODUCTION, key_file=tmp_path / "k.json", exchange_prefix="renkei"
    )
    right = Settings(amqp_url="amqp://renkei-hub:pw@amqp:5672/renkei", **base)
    assert broker_login(right, "hub").user == "renkei-hub"
    with pytest.raises(ConfigurationError, match="logs in as renkei-hub, not as renkei-adapter-jlis"):
        broker_login(right, "adapter-jlis")
    with pytest.raises(ValueError, match="per_service"):
        Settings(amqp_url=URL, broker=BrokerSettings(identity=BrokerIdentity.SHARED), **base)


def test_unknown_services_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown broker service 'mallory'"):
        broker_login(settings(tmp_path), "mallory")
    with pytest.raises(ConfigurationError, match="no broker password"):
        service_password(settings(tmp_path), "hub", create=False)


def test_the_users_document_holds_hashes_of_the_generated_passwords_and_no_topology(tmp_path: Path) -> None:
    s = settings(tmp_path, identity=BrokerIdentity.PER_SERVICE)
    document = users_document(s)
    assert {u["name"] for u in document["users"]} == {u.name for u in broker_users("p")}
    hub = next(u for u in document["users"] if u["name"] == "p-hub")
    assert password_matches(password_path(s, "hub").read_text().strip(), hub["password_hash"])
    assert document["queues"] == document["exchanges"] == document["bindings"] == []
    assert {p["vhost"] for p in document["permissions"]} == {"/"}
    assert password_path(s, "hub").read_text().strip() not in json.dumps(document)


class _FakeManagement(BaseHTTPRequestHandler):
    calls: ClassVar[list[tuple[str, str, object, str]]] = []

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.calls.append((self.command, self.path, body, self.headers.get("authorization", "")))
        missing = self.command == "DELETE" and self.path.endswith("p-operator")
        self.send_response(404 if missing else 204)
        self.end_headers()

    do_PUT = do_DELETE = do_POST = _handle  # noqa: N815 - http.server's naming

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def management() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeManagement)
    _FakeManagement.calls = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://admin:pw@127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_users_are_applied_and_deleted_through_the_management_api(tmp_path: Path, management: str) -> None:
    s = settings(tmp_path, identity=BrokerIdentity.PER_SERVICE, management_url=management)
    users = apply_users(s)
    calls = _FakeManagement.calls
    assert calls[0][:2] == ("PUT", "/api/vhosts/%2F")
    puts = {path: body for method, path, body, _ in calls if method == "PUT"}
    hub = puts["/api/users/p-hub"]
    assert isinstance(hub, dict)
    assert hub["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    assert "password" not in hub  # only the hash leaves the machine
    assert puts["/api/permissions/%2F/p-hub"] == {
        "configure": "^$",
        "write": next(u.write for u in users if u.role == "hub"),
        "read": next(u.read for u in users if u.role == "hub"),
    }
    assert {auth for *_, auth in calls} == {"Basic YWRtaW46cHc="}
    _FakeManagement.calls = []
    delete_users(s)  # the operator's 404 (already gone) is fine
    assert [p for m, p, *_ in _FakeManagement.calls if m == "DELETE"] == [
        f"/api/users/{u.name}" for u in users
    ]


def test_the_whole_definitions_go_through_the_management_api_too(tmp_path: Path, management: str) -> None:
    s = settings(tmp_path, identity=BrokerIdentity.PER_SERVICE, management_url=management)
    apply_definitions(s)
    calls = [(method, path) for method, path, *_ in _FakeManagement.calls]
    bodies = {path: body for _, path, body, _ in _FakeManagement.calls}
    assert ("PUT", "/api/users/p-console") in calls
    assert ("PUT", "/api/exchanges/%2F/p.ingress") in calls
    retry = bodies["/api/queues/%2F/p.retry.1000ms"]
    assert isinstance(retry, dict)
    assert retry["arguments"]["x-dead-letter-exchange"] == ""  # what the operator may not create itself
    assert ("POST", "/api/bindings/%2F/e/p.ingress/q/p.hub.ingress") in calls
    assert calls.index(("PUT", "/api/users/p-hub")) < calls.index(("PUT", "/api/queues/%2F/p.hub.ingress"))


def test_the_management_api_must_be_http(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="http"):
        ManagementApi("ftp://x").apply({"vhosts": [{"name": "/"}], "users": [], "permissions": []})

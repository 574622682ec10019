"""The broker identity of a run: per-service by default (users created in development), shared on request.

Nothing here talks to a broker: the users go to a recording admin (or a fake ``rabbitmqctl`` on ``PATH``),
and a transport is only built, never connected (pika connects on first use).
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import ConfigurationError
from hub.bootstrap.broker_identity import IdentityInForce, establish_identity, topology_declarer
from hub.bootstrap.transports import pika_transports
from hub.infra.broker.credentials import password_path, sender_identities
from hub.infra.broker.definitions import broker_users, password_matches
from hub.infra.broker.topology import renkei_topology
from hub.infra.broker.users import Rabbitmqctl
from hub.settings import BrokerIdentity, BrokerSettings, Environment, Settings

URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


class RecordingAdmin:
    """A broker admin that keeps the documents it is given (or refuses, like a CLI without the cookie)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.documents: list[dict[str, Any]] = []
        self.refuse = refuse

    def apply(self, document: dict[str, Any]) -> None:
        if self.refuse:
            raise ConfigurationError(self.refuse)
        self.documents.append(document)

    def delete(self, users: Sequence[str]) -> None:
        raise AssertionError("nothing is deleted here")


def settings(tmp_path: Path, identity: BrokerIdentity | None = None, **values: Any) -> Settings:
    return Settings(
        amqp_url=URL,
        data_dir=tmp_path / "var",
        exchange_prefix="p",
        broker=BrokerSettings(identity=identity),
        **values,
    )


def test_development_creates_every_services_user_and_runs_per_service(tmp_path: Path) -> None:
    admin = RecordingAdmin()
    pinned, identity = establish_identity(settings(tmp_path), create_users=True, admin=admin)

    assert identity == IdentityInForce(BrokerIdentity.PER_SERVICE, users_created=True)
    assert pinned.broker.identity is BrokerIdentity.PER_SERVICE  # explicit now, for child processes too
    [document] = admin.documents
    assert {u["name"] for u in document["users"]} == {u.name for u in broker_users("p")}
    assert "p-console" in {u["name"] for u in document["users"]}
    hub = next(u for u in document["users"] if u["name"] == "p-hub")
    path = password_path(pinned, "hub")
    assert password_matches(
        path.read_text().strip(), hub["password_hash"]
    )  # the password it will log in with
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The whole definitions document, as production imports it: the retry tiers' first declaration needs
    # write on the default exchange, which no service user, the operator included, has.
    topology = renkei_topology("p", pinned.retry)
    assert {q["name"] for q in document["queues"]} == {q.name for q in topology.queues}
    assert {q["vhost"] for q in document["queues"]} == {"/"}  # the AMQP URL's
    assert sender_identities(pinned).shared_users == frozenset()


def test_where_users_cannot_be_created_the_default_falls_back_to_shared_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    admin = RecordingAdmin(refuse="rabbitmqctl import_definitions failed: unable to perform an operation")
    with caplog.at_level(logging.WARNING):
        shared, identity = establish_identity(settings(tmp_path), create_users=True, admin=admin)

    assert identity.mode is BrokerIdentity.SHARED
    assert identity.fallback is not None
    assert "could not be created" in identity.fallback
    assert "fallback" in identity.describe()
    assert shared.broker_identity is BrokerIdentity.SHARED
    assert sender_identities(shared).shared_users == frozenset({"guest"})
    assert any("per-service broker identity not possible" in r.getMessage() for r in caplog.records)
    assert identity.as_json({"hub": "guest"})["mode"] == "shared"


def test_asking_for_per_service_explicitly_fails_with_what_to_do(tmp_path: Path) -> None:
    admin = RecordingAdmin(refuse="rabbitmqctl is not installed here")
    with pytest.raises(ConfigurationError, match="RENKEI_BROKER_MANAGEMENT_URL") as refused:
        establish_identity(settings(tmp_path, BrokerIdentity.PER_SERVICE), create_users=True, admin=admin)
    assert "RENKEI_BROKER_IDENTITY=shared" in str(refused.value)


def test_shared_on_request_creates_nothing(tmp_path: Path) -> None:
    admin = RecordingAdmin()
    same, identity = establish_identity(
        settings(tmp_path, BrokerIdentity.SHARED), create_users=True, admin=admin
    )
    assert (identity.mode, identity.users_created, identity.fallback) == (BrokerIdentity.SHARED, False, None)
    assert admin.documents == []
    assert not (tmp_path / "var" / "broker").exists()  # no password generated either
    assert same.broker_identity is BrokerIdentity.SHARED


def test_production_and_processes_that_prepare_nothing_create_no_users(tmp_path: Path) -> None:
    admin = RecordingAdmin()
    production = settings(
        tmp_path,
        environment=Environment.PRODUCTION,
        key_file=tmp_path / "keyring.json",
    )
    _, identity = establish_identity(production, create_users=True, admin=admin)
    assert identity == IdentityInForce(BrokerIdentity.PER_SERVICE)
    _, identity = establish_identity(settings(tmp_path), create_users=False, admin=admin)
    assert identity == IdentityInForce(BrokerIdentity.PER_SERVICE)
    assert admin.documents == []


def test_the_operator_declares_the_topology_in_development_and_nobody_else_does(tmp_path: Path) -> None:
    assert topology_declarer(settings(tmp_path), "adapter-jlis") == "operator"
    assert topology_declarer(settings(tmp_path, BrokerIdentity.SHARED), "adapter-jlis") == "adapter-jlis"
    production = settings(tmp_path, environment=Environment.PRODUCTION, key_file=tmp_path / "k.json")
    assert topology_declarer(production, "console") == "console"


def test_each_service_and_the_console_log_in_as_themselves(tmp_path: Path) -> None:
    s = settings(tmp_path, BrokerIdentity.PER_SERVICE)
    transports = pika_transports(s)
    made = [transports(service, "test") for service in ("console", "hub", "adapter-jlis", "console")]
    try:
        assert [t.user for t in made] == ["p-console", "p-hub", "p-adapter-jlis", "p-console"]
        assert transports.logins == {"adapter-jlis": "p-adapter-jlis", "console": "p-console", "hub": "p-hub"}
    finally:
        for transport in made:
            transport.close()
    shared = pika_transports(settings(tmp_path, BrokerIdentity.SHARED))
    shared("console", "test").close()
    assert shared.logins == {"console": "guest"}


FAKE_CTL = """#!/bin/sh
echo "$@" >> "{log}"
case "$*" in
  *eval*) printf '%s\\n' "{answer}" ;;
  *delete_user*nobody*) echo "Error: no_such_user" >&2; exit 69 ;;
esac
"""


def fake_rabbitmqctl(tmp_path: Path, answer: str) -> tuple[Rabbitmqctl, Path]:
    log = tmp_path / "calls.log"
    script = tmp_path / "rabbitmqctl"
    script.write_text(FAKE_CTL.format(log=log, answer=answer.replace('"', '\\"')))
    script.chmod(0o755)
    return Rabbitmqctl(command=str(script), node="rabbit@here", env=dict(os.environ)), log


def test_users_are_deleted_in_one_cli_call(tmp_path: Path) -> None:
    ctl, log = fake_rabbitmqctl(tmp_path, '[ok,{error,{no_such_user,<<"p-console">>}}]')
    ctl.delete(["p-hub", "p-console"])
    [call] = log.read_text().splitlines()
    assert call.startswith("-q -n rabbit@here eval ")
    assert '<<"p-hub">>' in call
    assert '<<"p-console">>' in call


def test_users_are_deleted_one_by_one_when_the_bulk_call_does_not_answer_as_expected(tmp_path: Path) -> None:
    ctl, log = fake_rabbitmqctl(tmp_path, "[{'EXIT',{undef,[]}}]")
    ctl.delete(["p-hub", "nobody"])  # a missing user is fine
    calls = log.read_text().splitlines()
    assert [c.split()[3:] for c in calls[1:]] == [["delete_user", "p-hub"], ["delete_user", "nobody"]]

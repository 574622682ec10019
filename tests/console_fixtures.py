"""A small world for the console's tests: a hub on SQLite and the in-memory broker, users, data, dead letters.

Two associations, ``chiba`` (千葉県市町村職員共済組合, actor ``m120006``) and ``saitama``
(埼玉県市町村職員共済組合, ``m110001``), with ten synthetic pensioners each; three correlations (one per
association, and one of the federation touching both) written to the access record as the hub would, with the
actors the hub recorded; four dead letters (chiba's and saitama's, each with sealed numbers, one that failed
before it could be read, and a legacy row of chiba's whose body still holds a plain number, to prove the
console redacts on display). Every user's password is ``pw-<name>-long-enough``; every user but the admins has
the API token ``tok-<name>`` (a bearer token cannot carry the admin role). ``ben`` is a second federation
admin, who approves reveals.

Import what you use: ``from tests.console_fixtures import ConsoleWorld, console_world``.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from contracts.ids import new_id
from contracts.individual_number import IndividualNumber
from hub.console.app import create_app
from hub.console.sessions import COOKIE
from hub.console.users import hash_password, hash_token, load_users
from hub.demo.data import demo_population
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.crypto.sealing import HpkeSealer
from hub.infra.db.engine import make_engine
from hub.infra.db.tables.audit import access_records
from hub.infra.keys.keyring import generate_keyring
from hub.infra.memory.transport import InMemoryTransport
from hub.infra.stores.associations import load_members
from hub.ports.actors import MessageActor
from hub.ports.audit import AccessRecord, AuditAction
from hub.ports.dead_letters import DeadLetterEntry, Failure, FailureOrigin
from hub.ports.vault import SubjectId, TokenScope
from hub.settings import ApprovalSettings, ConsoleSettings, Settings
from tests._shared_transport import shared

__all__ = [
    "CHIBA",
    "SAITAMA",
    "USERS",
    "ConsoleWorld",
    "approved",
    "console_world",
    "make_world",
    "session",
    "sign_in",
    "token",
]

CHIBA = "m120006"
SAITAMA = "m110001"
USERS = (
    ("ada", "admin", "federation"),
    ("ben", "admin", "federation"),
    ("olga", "operator", "federation"),
    ("otto", "operator", "federation"),
    ("aki", "auditor", "federation"),
    ("vic", "viewer", "federation"),
    ("chiba-admin", "admin", CHIBA),
    ("chiba-op", "operator", CHIBA),
    ("chiba-aud", "auditor", CHIBA),
    ("chiba-view", "viewer", CHIBA),
)
PEOPLE = 20
_AUDIT = TokenScope("audit")


def password(name: str) -> str:
    return f"pw-{name}-long-enough"


def token(name: str) -> dict[str, str]:
    """Headers that authenticate as ``name`` with its API token."""
    return {"Authorization": f"Bearer tok-{name}"}


@dataclass
class ConsoleWorld:
    """What the tests get: the hub, the app, the broker and the ids of what was seeded."""

    hub: LocalDeployment
    app: FastAPI
    transport: InMemoryTransport
    numbers: dict[int, IndividualNumber]
    correlations: dict[str, str] = field(default_factory=dict)
    dead_letters: dict[str, int] = field(default_factory=dict)
    sealed: dict[int, list[str]] = field(default_factory=dict)
    """dead letter id → the digits of its sealed numbers, in body order (what a reveal must return)."""

    def records(self, action: str | None = None) -> list[dict[str, object]]:
        """Access records as dicts (``action`` filters)."""
        query = select(access_records)
        if action is not None:
            query = query.where(access_records.c.action == action)
        with self.hub.engine.connect() as conn:
            return [dict(row) for row in conn.execute(query.order_by(access_records.c.at)).mappings()]


@functools.cache
def _hash(name: str) -> str:
    # Argon2id takes most of a second here; hash each test user once per run.
    return hash_password(password(name))


def _users_file(directory: Path) -> Path:
    path = directory / "users.toml"
    entries = []
    for name, role, org in USERS:
        token_line = "" if role == "admin" else f'token_hash = "{hash_token("tok-" + name)}"\n'
        entries.append(
            f'[[users]]\nname = "{name}"\nrole = "{role}"\norg = "{org}"\n'
            f'password_hash = "{_hash(name)}"\n{token_line}'
        )
    path.write_text("\n".join(entries), encoding="utf-8")
    path.chmod(0o600)
    return path


def _flow(
    hub: LocalDeployment, correlation: uuid.UUID, tokens: list[str], start: datetime, actor: str
) -> None:
    """The access records of one survival inquiry round trip, as the hub writes them (with its actors)."""
    cid = str(correlation)
    request, inquiry, result, outcomes = (str(new_id()) for _ in range(4))
    base: dict[str, Any] = {
        "correlation_id": cid,
        "actor": "hub:test",
        "subjects": tuple(tokens),
        "details": {"on_behalf_of": actor},
    }
    steps = [
        (0, AuditAction.RECEIVED, request, "pension.survival_inquiry.requested", "pension", "hub"),
        (1, AuditAction.ENRICHED, inquiry, "jlis.survival_change.inquiry", "hub", "jlis"),
        (1, AuditAction.ROUTED, inquiry, "jlis.survival_change.inquiry", "hub", "jlis"),
        (4, AuditAction.RECEIVED, result, "jlis.survival_change.result", "jlis", "hub"),
        (5, AuditAction.ROUTED, outcomes, "pension.survival_check.outcomes", "hub", "pension"),
    ]
    records = [
        AccessRecord(
            action=action,
            message_id=mid,
            message_type=mtype,
            source=src,
            destination=dst,
            purpose="pension.survival_check",
            at=start + timedelta(seconds=offset),
            **base,
        )
        for offset, action, mid, mtype, src, dst in steps
    ]
    with hub.uow_factory()() as uow:
        uow.audit.append(records)
        uow.actors.record([MessageActor(m, cid, actor) for m in (request, inquiry, result, outcomes)])
        uow.commit()


def _inquiry_body(
    sealer: HpkeSealer, message_id: uuid.UUID, numbers: list[IndividualNumber], recipient: str = "hub"
) -> bytes:
    """A J-LIS answer holding numbers sealed for the hub (what the console may reveal), or, with
    ``recipient="jlis"``, an inquiry holding numbers sealed for the J-LIS adapter (which it may not)."""
    records = []
    for seq, number in enumerate(numbers, start=7):
        sealed = sealer.seal(
            number, recipient=recipient, message_id=message_id, field=f"records.{seq}.individual_number"
        )
        records.append({"record_seq": seq, "ref": f"ref_{seq}_abcdefgh", "individual_number": sealed})
    to_hub = recipient == "hub"
    envelope = {
        "message_id": str(message_id),
        "correlation_id": str(new_id()),
        "message_type": "jlis.number_acquisition.result" if to_hub else "jlis.survival_change.inquiry",
        "schema_version": 1,
        "source": "jlis" if to_hub else "hub",
        "destination": "hub" if to_hub else "jlis",
        "payload": {"cycle": "2026-12", "records": records},
    }
    return json.dumps(envelope).encode()


def _dead_letter(
    hub: LocalDeployment,
    *,
    key: str,
    body: bytes,
    correlation: str | None,
    message_id: str | None,
    headers: dict[str, str],
    actor: str | None = None,
) -> int:
    now = datetime.now(UTC)
    entry = DeadLetterEntry(
        death_key=key.ljust(20, "x"),
        message_key=message_id or f"body:{key}",
        message_id=message_id,
        correlation_id=correlation,
        message_type="jlis.survival_change.inquiry",
        failure=Failure(
            reason_code="gateway_rejected",
            reason_text="J-LIS refused the file",
            exception_type="GatewayRejected",
            stage="jlis.from_hub",
            source_queue=hub.names.adapter_queue("jlis"),
            attempts=1,
            failed_at=now,
            origin=FailureOrigin.HOST,
        ),
        fingerprint="abcdefghijklmnop",
        group_label="GatewayRejected at jlis.from_hub on jlis.survival_change.inquiry",
        headers=headers,
        body=body,
        body_redacted=False,
        actor=actor,
    )
    with hub.uow_factory()() as uow:
        dead_letter_id, _ = uow.dead_letters.add(entry)
        uow.commit()
    return dead_letter_id


def make_world(directory: Path, *, start_sampler: bool = False, reveals_per_day: int = 10) -> ConsoleWorld:
    """Build the world under ``directory`` (its own SQLite file, keys and users)."""
    settings = Settings(
        data_dir=directory,
        exchange_prefix="ct",
        console=ConsoleSettings(users_file=_users_file(directory)),
        approval=ApprovalSettings(reveals_per_day=reveals_per_day),
    )
    transport = InMemoryTransport()
    keyring = generate_keyring()
    hub = local_deployment(
        settings,
        transports=shared(transport),
        engine=make_engine(f"sqlite:///{directory / 'console.db'}"),
        keyring=keyring,
        configure_logs=False,
    )
    hub.prepare()
    population = demo_population(PEOPLE)
    hub.enrol_population(population, PEOPLE)
    numbers = {i: population.individual_number(i) for i in range(PEOPLE)}
    with hub.uow_factory()() as uow:
        members = [(population.usage_number(i), CHIBA if i < 10 else SAITAMA) for i in range(PEOPLE)]
        load_members(uow.connection, uow.vault, members)
        subjects = uow.vault.subjects_by_usage([population.usage_number(i) for i in range(PEOPLE)])
        tokens = uow.vault.tokens(_AUDIT, list(subjects.values()))
        uow.commit()
    token_of = {i: tokens[SubjectId(subjects[population.usage_number(i)])] for i in range(PEOPLE)}
    app = create_app(
        hub.console(),
        load_users(settings.console.users_file),
        transport=transport,
        start_sampler=start_sampler,
    )
    world = ConsoleWorld(hub=hub, app=app, transport=transport, numbers=numbers)
    start = datetime.now(UTC) - timedelta(minutes=3)
    groups = {
        "chiba": (range(0, 10), CHIBA),
        "saitama": (range(10, 20), SAITAMA),
        "mixed": ((0, 15), "federation"),  # the federation's flow, touching both associations' people
    }
    for name, (people, actor) in groups.items():
        correlation = new_id()
        world.correlations[name] = str(correlation)
        _flow(hub, correlation, [token_of[i] for i in people], start, actor)
    sealer = HpkeSealer(keyring.sealing_for())
    for name, people, actor in (("chiba", (1, 2), CHIBA), ("saitama", (11, 12), SAITAMA)):
        message_id = new_id()
        chosen = [numbers[i] for i in people]
        dead_letter_id = _dead_letter(
            hub,
            key=f"dl-{name}",
            body=_inquiry_body(sealer, message_id, chosen),
            correlation=world.correlations[name],
            message_id=str(message_id),
            headers={"x-renkei-failure-reason": "refused"},
            actor=actor,
        )
        world.dead_letters[name] = dead_letter_id
        world.sealed[dead_letter_id] = [n.reveal() for n in chosen]
    world.dead_letters["unread"] = _dead_letter(
        hub, key="dl-unread", body=b"\xff\xfe not json", correlation=None, message_id=None, headers={}
    )
    legacy = numbers[3].reveal()  # a row stored before redaction existed: the console must still hide it
    world.dead_letters["legacy"] = _dead_letter(
        hub,
        key="dl-legacy",
        body=json.dumps({"note": f"number {legacy} in clear"}).encode(),
        correlation=world.correlations["chiba"],
        message_id=str(new_id()),
        headers={"x-note": f"held {legacy}"},
        actor=CHIBA,
    )
    world.hub.engine.dispose()
    return world


@pytest.fixture
def console_world(tmp_path: Path) -> Iterator[ConsoleWorld]:
    """A fresh world per test."""
    world = make_world(tmp_path)
    yield world
    world.hub.close()


def sign_in(client: TestClient, name: str) -> str:
    """Sign ``client`` in as ``name``; returns the CSRF token of the session."""
    response = client.post("/login", data={"name": name, "password": password(name)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    cookie = client.cookies.get(COOKIE)
    assert cookie
    app = client.app
    assert isinstance(app, FastAPI)
    state = app.state.console
    session = state.sessions.read(cookie)
    assert session is not None
    return str(state.sessions.csrf(session))


def session(client: TestClient, name: str) -> dict[str, str]:
    """Sign ``client`` in as ``name``; returns the headers an API call of that session sends (CSRF token).

    The way an admin calls the API: admins have no bearer token.
    """
    client.cookies.clear()
    return {"X-CSRF-Token": sign_in(client, name)}


def approved(client: TestClient, body: dict[str, object], *, requester: str, approver: str) -> str:
    """A request of ``requester`` approved by ``approver`` (both signed in in turn); returns its id.

    Leaves ``client`` signed in as the requester.
    """
    made = client.post("/api/approvals", json=body, headers=session(client, requester))
    assert made.status_code == 200, made.text
    approval_id = str(made.json()["approval_id"])
    decided = client.post(
        f"/api/approvals/{approval_id}/decide",
        json={"approve": True, "note": "ok"},
        headers=session(client, approver),
    )
    assert decided.status_code == 200, decided.text
    session(client, requester)
    return approval_id

"""The composition roots: each role connects only as its own service, through the one factory, and closes
what it opened; the hub worker says who signs audit checkpoints; ``run --help`` lists every adapter and
simulator (in-memory broker, SQLite in a temp dir)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hub.bootstrap.adapters import ADAPTER_SPECS, build_adapter_host
from hub.bootstrap.hub_worker import HubWorkerRoot, worker_checkpoint_signer
from hub.bootstrap.simulators import SIMULATOR_SPECS, build_simulator_host
from hub.cli.main import app
from hub.demo.data import demo_population, demo_world
from hub.demo.deployment import local_deployment
from hub.infra.crypto.signing import Ed25519Signer
from hub.infra.db.engine import make_engine
from hub.infra.keys.keyring import generate_keyring
from hub.infra.keys.service_keys import adapter_keys_from, hub_keys_from, simulator_keys_from
from hub.infra.memory.transport import InMemoryTransport
from hub.settings import Environment, Settings
from tests._shared_transport import shared

KEYRING = generate_keyring()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var", exchange_prefix="t", log_json=False)


@pytest.mark.parametrize("name", list(ADAPTER_SPECS))
def test_an_adapter_host_connects_only_as_its_service_and_closes_every_connection(settings, name) -> None:
    made: list[Any] = []
    spec = ADAPTER_SPECS[name]
    group = build_adapter_host(
        spec, settings, adapter_keys_from(KEYRING, name), shared(InMemoryTransport(), made)
    )
    assert {t.service for t in made} == {f"adapter-{name}"}
    expected = (
        {"from-hub"} | ({"link"} if spec.link else set()) | ({"poller"} if spec.polls_directory else set())
    )
    assert {t.role for t in made} == expected
    assert not any(t.closed for t in made)
    group.shutdown()
    assert all(t.closed for t in made)


@pytest.mark.parametrize("name", list(SIMULATOR_SPECS))
def test_a_simulator_host_connects_only_as_its_service_and_closes_every_connection(settings, name) -> None:
    made: list[Any] = []
    world = demo_world(demo_population(10))
    link = simulator_keys_from(KEYRING, name)
    group = build_simulator_host(
        SIMULATOR_SPECS[name], settings, link, shared(InMemoryTransport(), made), world
    )
    assert {t.service for t in made} == {f"simulator-{name}"}
    assert ("tick" in {t.role for t in made}) == (name == "intermediate_server")  # it lets time pass
    group.shutdown()
    assert made
    assert all(t.closed for t in made)


def test_a_simulator_refuses_another_counterparts_line(settings) -> None:
    from contracts.errors import ConfigurationError

    world = demo_world(demo_population(10))
    with pytest.raises(ConfigurationError, match="link key of eltax"):
        build_simulator_host(
            SIMULATOR_SPECS["jlis"],
            settings,
            simulator_keys_from(KEYRING, "eltax"),
            shared(InMemoryTransport()),
            world,
        )


def _hub_services(settings: Settings, made: list[Any]) -> Any:
    engine = make_engine(f"sqlite:///{settings.data_dir / 'hub.db'}")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    root = HubWorkerRoot(
        settings,
        hub_keys_from(KEYRING),
        shared(InMemoryTransport(), made),
        engine=engine,
        signer=worker_checkpoint_signer(settings),
    )
    return root, root.services()


def test_the_hub_worker_connects_only_as_the_hub_and_closes_every_connection(settings) -> None:
    made: list[Any] = []
    _, group = _hub_services(settings, made)
    assert {t.service for t in made} == {"hub"}
    assert {t.role for t in made} == {"ingress", "dead-letters", "metrics"}
    group.shutdown()
    assert all(t.closed for t in made)


def test_in_production_the_hub_worker_signs_no_checkpoint_unless_a_key_is_named(tmp_path, caplog) -> None:
    production = Settings(
        data_dir=tmp_path / "var", environment=Environment.PRODUCTION, key_file=tmp_path / "unused.json"
    )
    assert worker_checkpoint_signer(production) is None
    with caplog.at_level(logging.INFO, logger="hub.bootstrap.hub_worker"):
        root, group = _hub_services(production, [])
    assert root.checkpointer is None
    assert "audit-checkpoint" not in {t.name for t in group.threads}
    assert "renkei audit checkpoint" in caplog.text
    assert not (tmp_path / "var" / "keys").exists()  # nothing generated in production


def test_a_hub_worker_given_a_signing_key_signs_checkpoints_and_says_so(tmp_path, caplog) -> None:
    key = tmp_path / "audit.pem"
    key.write_bytes(Ed25519Signer.generate().private_pem())
    key.chmod(0o600)
    production = Settings(
        data_dir=tmp_path / "var",
        environment=Environment.PRODUCTION,
        key_file=tmp_path / "unused.json",
        audit_signing_key_file=key,
    )
    with caplog.at_level(logging.INFO, logger="hub.bootstrap.hub_worker"):
        root, group = _hub_services(production, [])
    assert root.checkpointer is not None
    assert "audit-checkpoint" in {t.name for t in group.threads}
    assert "signed by this hub worker" in caplog.text
    development = Settings(data_dir=tmp_path / "dev")
    assert worker_checkpoint_signer(development) is not None  # development generates one, as before
    assert development.audit_key_path.exists()


def test_the_dead_letter_depth_closes_the_connection_it_opened(settings) -> None:
    made: list[Any] = []
    deployment = local_deployment(
        settings, transports=shared(InMemoryTransport(), made), keyring=KEYRING, configure_logs=False
    )
    try:
        deployment.prepare()
        for _ in range(3):
            assert deployment.dead_letter_depth() == 0
        assert made
        assert all(t.closed for t in made), [(t.service, t.role) for t in made if not t.closed]
    finally:
        deployment.close()


@pytest.mark.parametrize(("command", "names"), [("adapter", ADAPTER_SPECS), ("simulator", SIMULATOR_SPECS)])
def test_run_help_lists_every_adapter_and_simulator(command, names) -> None:
    result = CliRunner().invoke(app, ["run", command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name in names:
        assert name in result.output
    unknown = CliRunner().invoke(app, ["run", command, "nobody"])
    assert unknown.exit_code == 2
    assert "choose one of" in unknown.output

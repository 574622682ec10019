"""`renkei keys`: init, show (an adapter lists no vault key nor another's), rotate, rewrap, retire."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contracts.individual_number import synthetic_individual_number
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.cli.main import app
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.keys.keyring import KeyKind, KeyName, read_keyring_file, save_keyring
from hub.infra.keys.keyring_files import deployment_keyring
from hub.infra.keys.needs import KEY_NEEDS
from hub.infra.keys.service_keys import adapter_keys, hub_keys
from hub.infra.service_names import SERVICE_NAMES, ServiceName
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Retention
from hub.settings import Environment, Settings

ADAPTERS = (
    "adapter-jlis",
    "adapter-intermediate_server",
    "adapter-eltax",
    "adapter-nta",
    "adapter-implementing_bodies",
    "adapter-pension",
)
VAULT = {"kek", "blind_index", "token_root"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


def run(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["keys", *args], obj=settings)
    return result.exit_code, result.output


def test_init_writes_one_owner_only_keyring_per_service(settings: Settings) -> None:
    code, out = run(settings, "init", "--json")
    assert code == 0, out
    assert set(json.loads(out)["written"]) == set(SERVICE_NAMES)
    for service in SERVICE_NAMES:
        path = settings.keyring_path_of(service)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = json.loads(run(settings, "init", "--json")[1])
    assert again["written"] == {}
    assert set(again["kept"]) == set(SERVICE_NAMES)


def test_production_init_writes_only_a_set_to_install(tmp_path: Path) -> None:
    production = Settings(environment=Environment.PRODUCTION, key_dir=tmp_path / "keys")
    code, out = run(production, "init")
    assert code == 2
    assert "never generates keys where services read them" in out
    assert not (tmp_path / "keys").exists()
    code, out = run(production, "init", "--out", str(tmp_path / "ceremony"), "--json")
    assert code == 0, out
    assert read_keyring_file(tmp_path / "ceremony" / "hub" / "keyring.json").service == "hub"
    assert run(production, "init", "--out", str(tmp_path / "ceremony"))[0] == 2  # never overwrites


@pytest.mark.parametrize("service", ADAPTERS)
def test_show_lists_an_adapters_keys_none_of_the_vaults_nor_anothers_and_no_material(
    settings: Settings, service: ServiceName
) -> None:
    code, out = run(settings, "show", service, "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["service"] == service
    assert shown["not_allowed"] == []
    assert shown["missing"] == []
    own = service.removeprefix("adapter-")
    kinds = {k["kind"] for k in shown["keys"]}
    assert not kinds & VAULT, f"{service} lists vault keys"
    for key in shown["keys"]:
        if key["kind"] == "seal_public":
            assert key["owner"] == "hub"  # the only public key an adapter holds: whom it seals for
        else:
            assert key["owner"] == own, f"{service} lists {key['name']}"
    needs = KEY_NEEDS[service]
    assert {k["owner"] for k in shown["keys"] if k["kind"] == "seal_private"} == set(needs.unseals)
    ring = read_keyring_file(settings.keyring_path_of(service))
    for _, version in ring.key_ids():
        assert base64.b64encode(version.material).decode() not in out
        assert version.material.hex() not in out
    human = run(settings, "show", service)[1]
    assert "must not hold" not in human


def test_show_flags_and_the_service_refuses_a_key_it_must_not_hold(settings: Settings) -> None:
    run(settings, "init")
    path = settings.keyring_path_of("adapter-jlis")
    whole = deployment_keyring(settings)
    stuffed = read_keyring_file(path).with_series(KeyName(KeyKind.KEK), whole.kek)
    save_keyring(stuffed, path)
    code, out = run(settings, "show", "adapter-jlis", "--json")
    assert code == 2
    assert json.loads(out)["not_allowed"] == ["kek"]
    with pytest.raises(Exception, match=r"the keyring of adapter-jlis holds kek \(kek-v1-\w+\), which"):
        adapter_keys(settings, "jlis")


def test_rotate_rewrap_retire_a_kek_refused_with_counts_until_nothing_uses_it(settings: Settings) -> None:
    run(settings, "init")
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            SqlVault(conn, hub_keys(settings).vault).enrol(
                [
                    (
                        UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"D-{i}"),
                        synthetic_individual_number(),
                    )
                    for i in range(7)
                ],
                retention=Retention("pension.entitlement"),
                source="test",
            )
    finally:
        engine.dispose()
    old = deployment_keyring(settings).kek.current
    assert run(settings, "rotate", "--json")[0] == 0
    code, out = run(settings, "retire", "kek", "1", "--grace", "0", "--json")
    assert code == 3, out
    refused = json.loads(out)
    assert refused["in_use"] is True
    assert refused["usage"][0]["counts"]["data keys wrapped by it"] == 7
    code, out = run(settings, "rewrap", "--json")
    assert code == 0, out
    assert json.loads(out)["data_keys"] == 7
    code, out = run(settings, "retire", "kek", "1", "--json")  # the default grace has not passed
    assert code == 3
    assert json.loads(out)["waiting"]
    code, out = run(settings, "retire", "kek", "1", "--grace", "0", "--json")
    assert code == 0, out
    assert json.loads(out)["retired_key_ids"] == [old.key_id]
    for service in ("hub", "operator", "console"):
        ring = read_keyring_file(settings.keyring_path_of(service))
        assert [v.version for v in ring.kek.versions] == [2]
        assert old.key_id in ring.retired
        assert base64.b64encode(old.material).decode() not in settings.keyring_path_of(service).read_text()
    code, out = run(settings, "retire", "kek", "2", "--grace", "0")
    assert code == 2
    assert "current" in out


def _made_before(settings: Settings, party: str = "nta") -> None:
    """Turn the keyrings where ``settings`` reads them into those of a deployment made before ``party``."""
    for service in SERVICE_NAMES:
        path = settings.keyring_path_of(service)
        if service in {f"adapter-{party}", f"simulator-{party}"}:
            path.unlink()
            continue
        ring = read_keyring_file(path)
        for name in ring.names():
            if name.owner == party:
                ring = ring.with_series(name, None)
        save_keyring(ring, path)


@pytest.mark.parametrize("party", ["nta", "implementing_bodies"])
def test_rotation_gives_a_recipient_added_since_the_keys_were_made_its_first_keys(
    tmp_path: Path, party: str
) -> None:
    ceremony = tmp_path / "keys"
    production = Settings(environment=Environment.PRODUCTION, key_dir=ceremony)
    assert run(production, "init", "--out", str(ceremony))[0] == 0
    _made_before(production, party)
    kek_before = deployment_keyring(production).kek.current.key_id
    with pytest.raises(Exception, match=rf"renkei keys rotate --no-kek --seal {party}"):
        hub_keys(production)

    code, out = run(production, "rotate", "--no-kek", "--seal", party, "--link", party, "--json")
    assert code == 0, out
    assert json.loads(out)["rotated"] == [f"seal.{party}", f"link.{party}"]
    hub = hub_keys(production)  # the hub now seals for the new party
    assert hub.sealing.for_recipient(party) is not None
    keys = adapter_keys(production, party)  # and the new adapter starts, with only its own keys
    assert read_keyring_file(production.keyring_path_of(f"adapter-{party}")).service == f"adapter-{party}"
    assert keys is not None
    assert deployment_keyring(production).kek.current.key_id == kek_before  # nothing else changed


def test_development_gives_a_recipient_added_since_its_first_keys_on_start(settings: Settings) -> None:
    run(settings, "init")
    _made_before(settings)
    kek_before = deployment_keyring(settings).kek.current.key_id
    hub_keys(settings)  # development adds what a newer renkei names, keeping every key there was
    assert adapter_keys(settings, "nta") is not None
    whole = deployment_keyring(settings)
    assert whole.get(KeyName(KeyKind.SEAL_PRIVATE, "nta")) is not None
    assert whole.get(KeyName(KeyKind.LINK, "nta")) is not None
    assert whole.kek.current.key_id == kek_before

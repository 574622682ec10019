"""Keyrings, one per service: first run, modes, production, variables, format, rotation, import."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from contracts.errors import ConfigurationError
from hub.infra.keys.keyring import (
    KEY_BYTES,
    RECIPIENTS,
    KeyKind,
    KeyName,
    generate_keyring,
    keyring_from_json,
    keyring_from_v1_json,
    keyring_to_json,
    read_keyring_file,
    retire,
    rotate,
    save_keyring,
)
from hub.infra.keys.keyring_files import deployment_keyring, ensure_development_keyrings, write_deployment
from hub.infra.keys.needs import KEY_NEEDS, allowed_names, assemble, check_keyring, cut
from hub.infra.keys.service_keys import keyring_of
from hub.infra.service_names import SERVICE_NAMES, ServiceName
from hub.settings import Environment, Settings

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def dev(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path / "var", **kw)


@posix_only
def test_development_makes_one_owner_only_keyring_per_service_on_first_run(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    first = keyring_of(settings, "adapter-jlis", environ={}).get()
    for service in SERVICE_NAMES:
        path = settings.keyring_path_of(service)
        assert path == settings.data_dir / "keys" / service / "keyring.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["keyring.json"]  # no temporary file left behind
        ring = read_keyring_file(path)
        assert ring.service == service
        assert set(ring.names()) <= allowed_names(service)
    assert keyring_of(settings, "adapter-jlis", environ={}).get() == first  # read again, never regenerated
    assert all(len(v.material) == KEY_BYTES for _, v in first.key_ids())


def test_services_starting_together_agree_on_one_set(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    rings: dict[str, Any] = {}

    def start(service: ServiceName) -> None:
        rings[service] = keyring_of(settings, service, environ={}).get()

    threads = [threading.Thread(target=start, args=(s,)) for s in SERVICE_NAMES]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    whole = deployment_keyring(settings)  # raises when two keyrings disagree on a version
    hub_public = whole.public_keys("hub").current
    for service in ("adapter-jlis", "adapter-eltax", "adapter-pension"):
        assert read_keyring_file(settings.keyring_path_of(service)).public_keys("hub").current == hub_public


def test_production_never_generates_and_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(environment=Environment.PRODUCTION, key_dir=tmp_path / "keys")
    with pytest.raises(ConfigurationError, match="renkei keys init"):
        keyring_of(settings, "hub", environ={})
    assert not (tmp_path / "keys").exists()
    with pytest.raises(ConfigurationError, match="never generated"):
        ensure_development_keyrings(settings)
    with pytest.raises(ValueError, match="RENKEI_KEY_DIR"):
        Settings(environment=Environment.PRODUCTION)


def test_production_loads_the_keyring_it_is_given_through_a_file_template(tmp_path: Path) -> None:
    whole = generate_keyring()
    save_keyring(cut(whole, "adapter-eltax"), tmp_path / "secrets" / "keyring-adapter-eltax.json")
    settings = Settings(
        environment=Environment.PRODUCTION, key_file=tmp_path / "secrets" / "keyring-{service}.json"
    )
    assert keyring_of(settings, "adapter-eltax", environ={}).get() == cut(whole, "adapter-eltax")


def test_keys_from_an_environment_variable_per_service(tmp_path: Path) -> None:
    whole = generate_keyring()
    settings = Settings(environment=Environment.PRODUCTION, key_env="KEYS_{SERVICE}", data_dir=tmp_path)
    environ = {"KEYS_ADAPTER_JLIS": keyring_to_json(cut(whole, "adapter-jlis"))}
    assert keyring_of(settings, "adapter-jlis", environ=environ).get() == cut(whole, "adapter-jlis")
    with pytest.raises(ConfigurationError, match="KEYS_HUB"):
        keyring_of(settings, "hub", environ=environ)
    dev_settings = dev(tmp_path, key_env="KEYS_{SERVICE}")
    with pytest.raises(ConfigurationError):  # a named variable is never replaced by a generated file
        keyring_of(dev_settings, "hub", environ={})
    assert not (dev_settings.data_dir / "keys").exists()


@posix_only
def test_a_keyring_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    save_keyring(cut(generate_keyring(), "hub"), path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        keyring_of(Settings(key_file=path), "hub", environ={})


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_refuses_a_key_it_must_not_hold_and_names_it(tmp_path: Path, service: ServiceName) -> None:
    whole = generate_keyring()
    own = cut(whole, service)
    foreign = KeyName(KeyKind.SEAL_PRIVATE, "eltax") if service != "adapter-eltax" else KeyName(KeyKind.KEK)
    stuffed = own.with_series(foreign, whole.series(foreign))
    path = tmp_path / "ring.json"
    save_keyring(stuffed, path)
    with pytest.raises(ConfigurationError) as refused:
        keyring_of(Settings(key_file=path), service, environ={})
    text = str(refused.value)
    assert f"the keyring of {service} holds" in text
    assert "refuses to start" in text
    assert str(foreign) in text
    assert whole.series(foreign).current.key_id in text
    assert whole.series(foreign).current.material.hex() not in text


def test_the_whole_keyring_of_format_1_is_refused_by_every_service() -> None:
    with pytest.raises(ConfigurationError, match="import-v1"):
        keyring_from_json(json.dumps({"format": "renkei-keyring/1", "kek": [], "sealing": {}}))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="other"),
        lambda d: d["keys"]["kek"].clear(),
        lambda d: d["keys"]["kek"][0].update(key="AAAA"),
        lambda d: d["keys"]["kek"][0].update(key="not base64!"),
        lambda d: d["keys"]["kek"][0].update(id="has space"),
        lambda d: d["keys"].update({"nonsense.hub": d["keys"]["kek"]}),
        lambda d: d["keys"]["kek"].append(dict(d["keys"]["kek"][0])),
        lambda d: d.update(retired="kek-v1"),
    ],
)
def test_a_malformed_keyring_is_refused_without_quoting_keys(mutate) -> None:
    doc = json.loads(keyring_to_json(cut(generate_keyring(), "hub")))
    secrets_in_doc = [v["key"] for series in doc["keys"].values() for v in series]
    mutate(doc)
    with pytest.raises(ConfigurationError) as caught:
        keyring_from_json(json.dumps(doc))
    assert not any(secret in str(caught.value) for secret in secrets_in_doc)


def test_key_material_never_shows_in_repr() -> None:
    ring = generate_keyring()
    text = repr(ring)
    assert ring.kek.current.key_id in text
    assert ring.kek.current.material.hex() not in text
    assert repr(ring.kek.current.material) not in text


def test_key_ids_hold_no_more_digits_than_their_version() -> None:
    ring = rotate(generate_keyring(), sealing=RECIPIENTS[:4], links=("jlis",))
    for _, version in ring.key_ids():
        assert sum(c.isdigit() for c in version.key_id) == len(str(version.version))


def test_rotation_adds_versions_and_keeps_the_old_ones() -> None:
    ring = generate_keyring()
    rotated = rotate(ring, blind_index=True, sealing=["jlis"], links=["eltax"])
    assert [v.version for v in rotated.kek.versions] == [1, 2]
    assert rotated.kek.versions[0] == ring.kek.current
    assert rotated.kek.current.material != ring.kek.current.material
    assert rotated.blind_index.current.version == 2
    assert rotated.token_root == ring.token_root
    assert rotated.sealing_keys("jlis").current.version == 2
    assert rotated.public_keys("jlis").current.version == 2
    assert rotated.sealing_keys("hub") == ring.sealing_keys("hub")
    assert rotated.series(KeyName(KeyKind.LINK, "eltax")).current.version == 2
    assert len({v.key_id for v in rotated.kek.versions}) == 2
    assert keyring_from_json(keyring_to_json(rotated)) == rotated


def test_retiring_drops_a_version_everywhere_and_never_the_current_one() -> None:
    ring = rotate(generate_keyring(), sealing=["jlis"])
    with pytest.raises(ConfigurationError, match="current"):
        retire(ring, KeyName(KeyKind.KEK), 2)
    old = ring.sealing_keys("jlis").versions[0].key_id
    retired, key_id = retire(ring, KeyName(KeyKind.SEAL_PRIVATE, "jlis"), 1)
    assert key_id == old
    assert [v.version for v in retired.sealing_keys("jlis").versions] == [2]
    assert [v.version for v in cut(retired, "hub").public_keys("jlis").versions] == [2]
    # A keyring written before the retirement does not bring the version back when merged.
    assert assemble([cut(ring, "adapter-jlis"), cut(retired, "hub")]).sealing_keys("jlis").versions == (
        retired.sealing_keys("jlis").versions
    )


def test_each_service_holds_exactly_its_row_of_the_table() -> None:
    whole = generate_keyring()
    for service, needs in KEY_NEEDS.items():
        ring = check_keyring(cut(whole, service), service)
        vault = {KeyName(KeyKind.KEK), KeyName(KeyKind.BLIND_INDEX), KeyName(KeyKind.TOKEN_ROOT)}
        assert (vault <= set(ring.names())) == needs.vault
        assert not (vault & set(ring.names())) or needs.vault
        privates = {n.owner for n in ring.names() if n.kind is KeyKind.SEAL_PRIVATE}
        publics = {n.owner for n in ring.names() if n.kind is KeyKind.SEAL_PUBLIC}
        links = {n.owner for n in ring.names() if n.kind is KeyKind.LINK}
        assert (privates, publics, links) == (set(needs.unseals), set(needs.seals_for), set(needs.links))


def test_a_format_1_keyring_is_imported_keeping_the_vault_and_the_old_sealing_keys() -> None:
    old = {
        "format": "renkei-keyring/1",
        **{
            name: [
                {
                    "version": 1,
                    "id": f"{name[:3]}-v1-a1b2c3",
                    "created_at": "2026-01-01T00:00:00+00:00",
                    "key": "A" * 43 + "=",
                }
            ]
            for name in ("kek", "blind_index", "token_root")
        },
        "sealing": {
            r: [
                {
                    "version": 1,
                    "id": f"{r[:4]}-v1-0f0f0f",
                    "created_at": "2026-01-01T00:00:00+00:00",
                    "key": "B" * 43 + "=",
                }
            ]
            for r in RECIPIENTS
        },
    }
    whole = keyring_from_v1_json(json.dumps(old))
    assert whole.kek.current.key_id == "kek-v1-a1b2c3"
    assert whole.series(KeyName(KeyKind.SEAL_V1, "jlis")).current.key_id == "jlis-v1-0f0f0f"
    assert whole.sealing_keys("jlis").current.key_id.startswith("jlis-v1-")  # a fresh X25519 pair
    jlis = cut(whole, "adapter-jlis")
    assert KeyName(KeyKind.SEAL_V1, "jlis") in jlis.names()
    assert KeyName(KeyKind.SEAL_V1, "hub") not in jlis.names()  # a sender never keeps the hub's old key
    assert KeyName(KeyKind.KEK) not in jlis.names()


def test_a_development_format_1_keyring_is_imported_on_first_run_and_removed(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    legacy = settings.legacy_keyring_path
    legacy.parent.mkdir(parents=True)
    whole = generate_keyring()
    doc = {
        "format": "renkei-keyring/1",
        "kek": json.loads(keyring_to_json(whole))["keys"]["kek"],
        "blind_index": json.loads(keyring_to_json(whole))["keys"]["blind_index"],
        "token_root": json.loads(keyring_to_json(whole))["keys"]["token_root"],
        "sealing": {r: json.loads(keyring_to_json(whole))["keys"]["kek"] for r in RECIPIENTS},
    }
    legacy.write_text(json.dumps(doc))
    legacy.chmod(0o600)
    hub = keyring_of(settings, "hub", environ={}).get()
    assert hub.kek == whole.kek
    assert not legacy.exists()


@posix_only
def test_writing_a_deployment_replaces_only_what_changed_atomically(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    ensure_development_keyrings(settings)
    paths = {s: settings.keyring_path_of(s) for s in SERVICE_NAMES}
    before = {s: p.stat().st_ino for s, p in paths.items()}
    written = write_deployment(rotate(deployment_keyring(settings), kek=False, links=["eltax"]), paths)
    assert set(written) == {"adapter-eltax", "simulator-eltax"}
    assert all(p.stat().st_ino == before[s] for s, p in paths.items() if s not in written)
    assert all(stat.S_IMODE(paths[s].stat().st_mode) == 0o600 for s in written)

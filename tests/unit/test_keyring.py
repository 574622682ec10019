"""The keyring: generation on first run, permissions, production refusal, variables, rotation."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from contracts.errors import ConfigurationError
from hub.infra.crypto.keyring import (
    KEY_BYTES,
    RECIPIENTS,
    generate_keyring,
    keyring_from_json,
    keyring_to_json,
    load_keyring,
    rotate,
    save_keyring,
)
from hub.settings import Environment, Settings

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def dev(tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "var", **kw)  # type: ignore[arg-type]


@posix_only
def test_development_generates_an_owner_only_keyring_on_first_run(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    first = load_keyring(settings, environ={})
    path = settings.keyring_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert load_keyring(settings, environ={}) == first  # the second run reads it, never regenerates
    assert not [p for p in path.parent.iterdir() if p.name != path.name]  # no temporary file left behind
    assert set(first.sealing) == set(RECIPIENTS)
    assert all(len(v.material) == KEY_BYTES for v in first.kek.versions)


def test_production_never_generates_and_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(environment=Environment.PRODUCTION, key_file=tmp_path / "missing.json")
    with pytest.raises(ConfigurationError, match="RENKEI_KEY_FILE"):
        load_keyring(settings, environ={})
    assert not (tmp_path / "missing.json").exists()


def test_production_loads_a_keyring_it_is_given(tmp_path: Path) -> None:
    ring = generate_keyring()
    save_keyring(ring, tmp_path / "keys" / "ring.json")
    settings = Settings(environment=Environment.PRODUCTION, key_file=tmp_path / "keys" / "ring.json")
    assert load_keyring(settings, environ={}) == ring


def test_keys_from_an_environment_variable(tmp_path: Path) -> None:
    ring = generate_keyring()
    settings = Settings(environment=Environment.PRODUCTION, key_env="VAULT_KEYS", data_dir=tmp_path)
    assert load_keyring(settings, environ={"VAULT_KEYS": keyring_to_json(ring)}) == ring
    with pytest.raises(ConfigurationError, match="VAULT_KEYS"):
        load_keyring(settings, environ={})
    dev_settings = dev(tmp_path, key_env="VAULT_KEYS")
    with pytest.raises(ConfigurationError):  # a named variable is never replaced by a generated file
        load_keyring(dev_settings, environ={})
    assert not dev_settings.keyring_path.exists()


@posix_only
def test_a_keyring_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    save_keyring(generate_keyring(), path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_keyring(Settings(key_file=path), environ={})


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(format="other"),
        lambda d: d["kek"].clear(),
        lambda d: d["kek"][0].update(key="AAAA"),
        lambda d: d["kek"][0].update(key="not base64!"),
        lambda d: d["kek"][0].update(id="has space"),
        lambda d: d["sealing"].pop("jlis"),
        lambda d: d["kek"].append(dict(d["kek"][0])),
    ],
)
def test_a_malformed_keyring_is_refused_without_quoting_keys(mutate) -> None:
    doc = json.loads(keyring_to_json(generate_keyring()))
    secrets_in_doc = [v["key"] for v in doc["kek"]]
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


def test_rotation_adds_versions_and_keeps_the_old_ones() -> None:
    ring = generate_keyring()
    rotated = rotate(ring, blind_index=True, sealing=["jlis"])
    assert [v.version for v in rotated.kek.versions] == [1, 2]
    assert rotated.kek.versions[0] == ring.kek.current
    assert rotated.kek.current.material != ring.kek.current.material
    assert rotated.blind_index.current.version == 2
    assert rotated.token_root == ring.token_root
    assert rotated.sealing["jlis"].current.version == 2
    assert rotated.sealing["hub"] == ring.sealing["hub"]
    assert len({v.key_id for v in rotated.kek.versions}) == 2
    assert keyring_from_json(keyring_to_json(rotated)) == rotated


@posix_only
def test_saving_replaces_the_file_atomically_and_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    save_keyring(generate_keyring(), path)
    rotated = rotate(load_keyring(Settings(key_file=path), environ={}))
    save_keyring(rotated, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_keyring(Settings(key_file=path), environ={}) == rotated
    assert [p.name for p in tmp_path.iterdir()] == ["ring.json"]

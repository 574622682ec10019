"""The checkpoint signing key on disk: generated owner-only in development, never in production."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from contracts.errors import ConfigurationError
from hub.infra.crypto.signing import load_public_key, load_signer, public_key_pem, signer_from_settings
from hub.settings import Environment, Settings


def dev(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, environment=Environment.DEVELOPMENT)


def test_development_generates_an_owner_only_key_once(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    first = signer_from_settings(settings)
    path = settings.audit_key_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert signer_from_settings(settings).key_id == first.key_id
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind


def test_production_never_generates_a_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, key_env="RENKEI_TEST_UNUSED")
    with pytest.raises(ConfigurationError, match="never generated"):
        signer_from_settings(settings)
    assert not settings.audit_key_path.exists()


def test_production_uses_the_key_it_is_given(tmp_path: Path) -> None:
    made = signer_from_settings(dev(tmp_path / "dev"))
    settings = Settings(
        data_dir=tmp_path,
        environment=Environment.PRODUCTION,
        key_env="RENKEI_TEST_UNUSED",
        audit_signing_key_file=dev(tmp_path / "dev").audit_key_path,
    )
    assert signer_from_settings(settings).key_id == made.key_id


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    signer_from_settings(settings)
    os.chmod(settings.audit_key_path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        signer_from_settings(settings)


def test_a_key_that_is_not_ed25519_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    key = generate_private_key(SECP256R1())
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="Ed25519"):
        load_signer(path)
    path.write_text("not a key")
    with pytest.raises(ConfigurationError):
        load_signer(path)


def test_auditors_can_load_the_public_half(tmp_path: Path) -> None:
    settings = dev(tmp_path)
    signer = signer_from_settings(settings)
    public = tmp_path / "audit.pub.pem"
    public.write_bytes(public_key_pem(signer.public_key))
    assert load_public_key(public) == signer.public_key
    assert load_public_key(settings.audit_key_path) == signer.public_key
    with pytest.raises(ConfigurationError):
        load_public_key(tmp_path / "missing.pem")

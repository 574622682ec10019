"""docker/make-secrets.sh gives every secret to the container user that reads it, mode 0600.

Compose bind-mounts file secrets with the host file's owner and mode. The console runs as uid 10001 and
used to get its users file and session secret owned by root, mode 0600: it could not read them and
refused to start. This runs the script into a temporary directory and checks, for every service of
docker/compose.yaml and every secret it mounts, that the process in that container can read the file and
nobody else can.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))

RENKEI_UID = 10001
"""The image's user (docker/Dockerfile: USER 10001:10001)."""
IMAGE_USERS = {"grafana/grafana": 472}
"""Images whose process runs as a fixed non-root uid (Grafana's image runs as 472)."""
ROOT_READERS = ("rabbitmq", "postgres")
"""Images whose entrypoint starts as root and reads (or copies) the secret before dropping privileges."""


def reader_uid(service: dict[str, object]) -> int:
    image = str(service.get("image", ""))
    if "user" in service:
        return int(str(service["user"]).split(":")[0])
    if image.startswith("renkei:"):
        return RENKEI_UID
    for prefix, uid in IMAGE_USERS.items():
        if image.startswith(prefix):
            return uid
    assert image.split(":", maxsplit=1)[0] in ROOT_READERS, f"who reads the secrets of {image}?"
    return 0


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, str]:
    target = tmp_path_factory.mktemp("secrets") / "secrets"
    done = subprocess.run(
        ["bash", str(DOCKER / "make-secrets.sh"), "--dir", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target, done.stderr


def mounted() -> list[tuple[str, str, Path, int]]:
    """``(service, secret, file under docker/secrets, reader uid)`` for every secret every service mounts."""
    found = []
    for name, service in COMPOSE["services"].items():
        for secret in service.get("secrets", []):
            source = secret if isinstance(secret, str) else secret["source"]
            path = Path(COMPOSE["secrets"][source]["file"]).relative_to("secrets")
            found.append((name, source, path, reader_uid(service)))
    return found


@pytest.mark.parametrize(("service", "secret", "path", "uid"), mounted())
def test_the_container_that_mounts_a_secret_can_read_it_and_no_one_else(
    service, secret, path, uid, generated
):
    directory, stderr = generated
    info = (directory / path).stat()
    assert stat.S_IMODE(info.st_mode) & 0o077 == 0, f"{path} is readable by others"
    if uid == 0:
        return  # root reads anything
    if os.geteuid() == 0:
        assert info.st_uid == uid, f"{service} runs as {uid} but {secret} ({path}) belongs to {info.st_uid}"
        assert stat.S_IMODE(info.st_mode) & 0o400
    else:  # not root: the script says what to chown
        assert f"chown {uid}:{uid}" in stderr
        assert str(directory / path) in stderr


def test_the_console_gets_its_secrets():
    secrets = {(s, p) for svc, s, p, uid in mounted() if svc == "console" and uid == RENKEI_UID}
    assert {s for s, _ in secrets} >= {"console_users", "console_session_secret", "keyring_console"}


def test_each_renkei_container_mounts_its_own_services_keyring_alone(generated):
    directory, _ = generated
    for name, service in COMPOSE["services"].items():
        keyrings = [
            s for s in service.get("secrets", []) if isinstance(s, dict) and s["source"].startswith("keyring")
        ]
        if not str(service.get("image", "")).startswith("renkei:") or not keyrings:
            continue
        assert len(keyrings) == 1, f"{name} mounts {len(keyrings)} keyrings"
        assert keyrings[0]["target"] == "keyring"  # RENKEI_KEY_FILE=/run/secrets/keyring
        path = Path(COMPOSE["secrets"][keyrings[0]["source"]]["file"]).relative_to("secrets")
        ring = json.loads((directory / path).read_text(encoding="utf-8"))
        expected = {"init": "operator", "retention": "operator"}.get(name, name)
        assert ring["service"] == expected, f"{name} mounts the keyring of {ring['service']}"


def test_the_public_key_is_not_secret_and_an_existing_keyring_is_kept(generated):
    directory, _ = generated
    assert stat.S_IMODE((directory / "audit-signing.pub.pem").stat().st_mode) == 0o644
    before = (directory / "keys" / "hub" / "keyring.json").read_bytes()
    done = subprocess.run(
        ["bash", str(DOCKER / "make-secrets.sh"), "--dir", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (directory / "keys" / "hub" / "keyring.json").read_bytes() == before

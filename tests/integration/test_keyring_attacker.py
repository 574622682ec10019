"""The attacker who owns one adapter: with that adapter's keyring file alone, what can be opened?

``renkei keys init`` writes one keyring per service. For each adapter, this test loads the real file it wrote
and tries every 32 bytes in it (private, public and link keys alike, every version) in every way the
deployment uses a key: as an X25519 private key to unwrap a sealed value's message key (HPKE), as an AES-GCM
key of a sealed field or of the old format v1, as a KEK to unwrap a subject's data key, as the data key of a
stored number, and as the HMAC key of the blind index. Nothing sealed for another service may open, no vault
row may decrypt, and no blind index may be computed. The same attack with the hub's keyring file succeeds
where the hub is entitled to (the control that shows the attack would find a key if there were one).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.sealing import seal_context
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.cli.keys import init_keys
from hub.infra.crypto.sealing import HpkeSealer, from_letters
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.db.tables.vault import numbers, subject_keys
from hub.infra.keys.keyring import read_keyring_file
from hub.infra.keys.service_keys import adapter_keys, hub_keys
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Retention
from hub.settings import Settings

ADAPTERS = ("jlis", "intermediate_server", "eltax", "nta", "implementing_bodies", "pension")
RECIPIENTS = ("hub", "jlis", "intermediate_server", "eltax", "nta", "implementing_bodies")
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
BIX_DOMAIN = b"renkei/blind-index/v1|"


@dataclass(frozen=True)
class Sealed:
    recipient: str
    message_id: uuid.UUID
    field: str
    value: str
    number: IndividualNumber


@dataclass(frozen=True)
class World:
    settings: Settings
    numbers: list[IndividualNumber]
    sealed: list[Sealed]
    keys: list[tuple[str, int, bytes, bytes, bytes]]  # subject, dek version, kek id, wrapped dek, (nonce+ct)
    indexes: set[bytes]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    settings = Settings(data_dir=tmp_path_factory.mktemp("attacker") / "var")
    init_keys(settings)  # the real files, one per service
    upgrade(settings.database_url)
    people = [synthetic_individual_number() for _ in range(8)]
    engine = make_engine(settings.database_url)
    try:
        with engine.begin() as conn:
            SqlVault(conn, hub_keys(settings).vault).enrol(
                [
                    (UsageNumber(kind=UsageNumberKind.DEPENDANT, value=f"DEP-{i}"), n)
                    for i, n in enumerate(people)
                ],
                retention=Retention("pension.entitlement"),
                source="test",
            )
        with engine.connect() as conn:
            keys = [
                (r.subject_id, r.dek_version, r.kek_id.encode(), bytes(r.wrapped_dek), b"")
                for r in conn.execute(select(subject_keys))
            ]
            stored = list(conn.execute(select(numbers)))
    finally:
        engine.dispose()
    ciphertexts = {r.subject_id: bytes(r.nonce) + bytes(r.ciphertext) for r in stored}
    keys = [(s, v, k, w, ciphertexts[s]) for s, v, k, w, _ in keys]
    hub_sealer = HpkeSealer(hub_keys(settings).sealing)
    sealed = []
    for i, number in enumerate(people):
        message_id = uuid.uuid4()
        for recipient in RECIPIENTS:  # what the hub sends each adapter, and holds for itself
            field = f"records.{i}.individual_number"
            sealed.append(
                Sealed(
                    recipient,
                    message_id,
                    field,
                    hub_sealer.seal(number, recipient=recipient, message_id=message_id, field=field),
                    number,
                )
            )
        for adapter in ("jlis", "eltax", "pension"):  # what the adapters send the hub
            mine = HpkeSealer(adapter_keys(settings, adapter).sealing)
            field = f"from.{adapter}.{i}"
            sealed.append(
                Sealed(
                    "hub",
                    message_id,
                    field,
                    mine.seal(number, recipient="hub", message_id=message_id, field=field),
                    number,
                )
            )
    return World(settings, people, sealed, keys, {bytes(r.blind_index) for r in stored})


def materials(path: Path) -> Iterator[tuple[str, str, bytes]]:
    """Every key in the keyring file: (name, key id, 32 bytes)."""
    ring = read_keyring_file(path)
    for name, version in ring.key_ids():
        yield str(name), version.key_id, version.material


def opens(value: Sealed, material: bytes) -> bool:
    """Whether ``material``, used any way a key is used, opens ``value``."""
    _, _, recipient, key_id, payload = value.value.split(":", 4)
    raw = from_letters(payload)
    wrapped, nonce, body = raw[:64], raw[64:76], raw[76:]
    ad = seal_context(value.message_id, value.field) + f"|{recipient}|{key_id}".encode()
    info = f"renkei/sealed/v2|{value.message_id}|{recipient}|{key_id}".encode()
    candidates = [material]
    with contextlib.suppress(
        InvalidTag, ValueError
    ):  # as the recipient's private key: unwrap the message key
        candidates.append(SUITE.decrypt(wrapped, X25519PrivateKey.from_private_bytes(material), info=info))
    for key in candidates:  # as an AES key of the field (the message key, or the material itself)
        for size in (16, 32):
            if len(key) < size:
                continue
            try:
                if AESGCM(key[:size]).decrypt(nonce, body, ad) == value.number.reveal().encode():
                    return True
            except (InvalidTag, ValueError):
                continue
    return False


def unwraps(row: tuple[str, int, bytes, bytes, bytes], material: bytes) -> bool:
    """Whether ``material`` as a KEK unwraps the data key, or as a data key decrypts the number."""
    subject, version, kek_id, wrapped, stored = row
    ad = f"renkei/dek/v1|{subject}|{version}|{kek_id.decode()}".encode()
    for key, blob, data in (
        (material, wrapped, ad),
        (material, stored, f"renkei/number/v1|{subject}|{version}".encode()),
    ):
        try:
            AESGCM(key).decrypt(blob[:12], blob[12:], data)
        except InvalidTag:
            continue
        return True
    return False


def indexes(world: World, material: bytes) -> bool:
    """Whether ``material`` as the blind-index key gives any stored index."""
    return any(
        hmac.new(material, BIX_DOMAIN + n.reveal().encode(), hashlib.sha256).digest() in world.indexes
        for n in world.numbers
    )


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_one_adapters_keyring_opens_nothing_sealed_for_another_no_vault_row_and_no_blind_index(
    world: World, adapter: str
) -> None:
    path = world.settings.keyring_path_of(f"adapter-{adapter}")
    held = list(materials(path))
    assert held, "the attack needs the adapter's keys"
    assert all(not name.startswith(("kek", "blind_index", "token_root")) for name, _, _ in held)
    foreign = [s for s in world.sealed if s.recipient != adapter]
    own = [s for s in world.sealed if s.recipient == adapter]
    for name, key_id, material in held:
        for value in foreign:
            assert not opens(value, material), (
                f"{adapter}'s {name} ({key_id}) opens a number for {value.recipient}"
            )
        for row in world.keys:
            assert not unwraps(row, material), f"{adapter}'s {name} ({key_id}) decrypts a vault row"
        assert not indexes(world, material), f"{adapter}'s {name} ({key_id}) computes the blind index"
    # The adapter does open what is sealed for it: the attack code finds a key where there is one.
    for value in own:
        assert any(opens(value, m) for _, _, m in held)


def test_the_control_the_hubs_keyring_opens_what_the_hub_may_and_nothing_else(world: World) -> None:
    held = [m for _, _, m in materials(world.settings.keyring_path_of("hub"))]
    assert all(any(unwraps(row, m) for m in held) for row in world.keys)
    assert any(indexes(world, m) for m in held)
    for value in world.sealed:
        assert any(opens(value, m) for m in held) == (value.recipient == "hub"), value.recipient

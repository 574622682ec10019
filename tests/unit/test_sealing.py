"""Sealed numbers (format v2, HPKE): round trip, binding, tampering, recipients, cost, v1 reading (no I/O)."""

from __future__ import annotations

import base64
import os
import re
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import ConfigurationError, SealError
from contracts.individual_number import IndividualNumber, check_digit, synthetic_individual_number
from contracts.redaction import find_numbers, identifier_spans
from contracts.sealing import SEALED_V2_PATTERN, is_sealed, seal_context
from hub.infra.crypto.sealing import SEALED_V2_BYTES, HpkeSealer, HpkeUnsealer, from_letters, to_letters
from hub.infra.keys.bundles import UnsealingKeys
from hub.infra.keys.keyring import RECIPIENTS, generate_keyring, rotate
from hub.infra.keys.series import KeySeries
from hub.infra.keys.service_keys import adapter_keys_from

KEYS = generate_keyring()
SEALER = HpkeSealer(KEYS.sealing_for())
MID = uuid.UUID("00000000-0000-4000-8000-000000000001")
FIELD = "records.1.individual_number"

numbers = st.text(alphabet="0123456789", min_size=11, max_size=11).map(
    lambda b: IndividualNumber(b + str(check_digit(b)))
)
fields = st.from_regex(r"[a-z_.0-9]{1,40}", fullmatch=True)


def open_as(owner: str, sealed: str, *, message_id: uuid.UUID = MID, field: str = FIELD) -> IndividualNumber:
    return HpkeUnsealer(KEYS.unsealing(owner)).unseal(sealed, message_id=message_id, field=field)


def refused(owner: str, sealed: str, *, message_id: uuid.UUID = MID, field: str = FIELD) -> SealError:
    with pytest.raises(SealError) as caught:
        open_as(owner, sealed, message_id=message_id, field=field)
    message = str(caught.value)
    assert not any(c.isdigit() for c in message), message  # never a number, nor a key id
    return caught.value


@given(number=numbers, recipient=st.sampled_from(RECIPIENTS), message_id=st.uuids(), field=fields)
def test_seal_then_unseal_gives_the_number_back(
    number: IndividualNumber, recipient: str, message_id: uuid.UUID, field: str
) -> None:
    sealed = SEALER.seal(number, recipient=recipient, message_id=message_id, field=field)
    assert is_sealed(sealed)
    assert re.fullmatch(SEALED_V2_PATTERN, sealed)
    assert sealed.startswith(f"sealed:v2:{recipient}:{KEYS.sealing_keys(recipient).current.key_id}:")
    assert number.reveal() not in sealed
    assert open_as(recipient, sealed, message_id=message_id, field=field) == number


@given(number=numbers, recipient=st.sampled_from(RECIPIENTS), message_id=st.uuids(), field=fields)
def test_no_sealed_value_can_look_like_a_number(
    number: IndividualNumber, recipient: str, message_id: uuid.UUID, field: str
) -> None:
    sealed = SEALER.seal(number, recipient=recipient, message_id=message_id, field=field)
    payload = sealed.rsplit(":", 1)[1]
    assert not any(c.isdigit() for c in payload)
    assert max(len(run) for run in re.findall(r"\d+", sealed)) <= 4  # "2" of v2 and the key's version
    assert find_numbers(sealed) == []
    assert identifier_spans(f"x {sealed} y") == [(2, 2 + len(sealed))]  # redaction keeps it whole


def test_the_wire_size_of_a_v2_value() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    assert len(from_letters(sealed.rsplit(":", 1)[1])) == SEALED_V2_BYTES == 104
    assert len(sealed) == len(f"sealed:v2:jlis:{KEYS.sealing_keys('jlis').current.key_id}:") + 208


def test_one_public_key_operation_per_message_and_recipient_not_per_number() -> None:
    sealer = HpkeSealer(KEYS.sealing_for())
    unsealer = HpkeUnsealer(KEYS.unsealing("jlis"))
    messages = [uuid.uuid4() for _ in range(3)]
    sealed = [
        (
            m,
            f"records.{i}.individual_number",
            sealer.seal(
                synthetic_individual_number(),
                recipient="jlis",
                message_id=m,
                field=f"records.{i}.individual_number",
            ),
        )
        for m in messages
        for i in range(200)
    ]
    sealer.seal(synthetic_individual_number(), recipient="hub", message_id=messages[0], field=FIELD)
    assert sealer.public_key_operations == 4  # three messages for jlis, one for the hub
    for m, field, value in sealed:
        unsealer.unseal(value, message_id=m, field=field)
    assert unsealer.public_key_operations == 3


def test_sealing_twice_gives_different_texts() -> None:
    number = synthetic_individual_number()
    first = SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)
    assert first != SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)


def test_a_tampered_value_is_refused() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    head, payload = sealed.rsplit(":", 1)
    raw = from_letters(payload)
    for position in (0, 40, 64, 76, len(raw) - 1):  # encapsulated key, wrapped key, nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        refused("jlis", head + ":" + to_letters(bytes(flipped)))
    refused("jlis", sealed[:-2])
    refused("jlis", sealed[:-1] + "q")


def test_a_value_moved_to_another_message_or_field_is_refused() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    refused("jlis", sealed, message_id=uuid.uuid4())
    refused("jlis", sealed, field="records.2.individual_number")


def test_a_wrapped_key_moved_from_another_message_does_not_open() -> None:
    # Same recipient and key; the message key of message A pasted in front of a field sealed in message B.
    a = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    other = uuid.uuid4()
    b = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=other, field=FIELD)
    spliced = b.rsplit(":", 1)[0] + ":" + a.rsplit(":", 1)[1][:128] + b.rsplit(":", 1)[1][128:]
    refused("jlis", spliced, message_id=other)


def test_only_the_recipient_can_open_it() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="hub", message_id=MID, field=FIELD)
    assert "another recipient" in str(refused("jlis", sealed))
    # Rewriting the header to name jlis does not help: the recipient is bound; jlis's key does not open it.
    relabelled = sealed.replace("sealed:v2:hub:", "sealed:v2:jlis:", 1)
    refused("jlis", relabelled)
    jlis_key = KEYS.sealing_keys("jlis").current.key_id
    hub_key = KEYS.sealing_keys("hub").current.key_id
    refused("jlis", relabelled.replace(f":{hub_key}:", f":{jlis_key}:", 1))


def test_the_sender_cannot_open_what_it_sealed() -> None:
    adapter = adapter_keys_from(KEYS, "jlis")
    sealed = HpkeSealer(adapter.sealing).seal(
        synthetic_individual_number(), recipient="hub", message_id=MID, field=FIELD
    )
    # What the sender holds for the hub is its public key: used as if it were a private key, it opens nothing.
    public = adapter.sealing.recipients["hub"].series()
    with pytest.raises(SealError):
        HpkeUnsealer(UnsealingKeys("hub", public)).unseal(sealed, message_id=MID, field=FIELD)


def test_another_keyring_cannot_open_it() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    with pytest.raises(SealError):
        HpkeUnsealer(generate_keyring().unsealing("jlis")).unseal(sealed, message_id=MID, field=FIELD)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "123456789012",
        "sealed:v1:jlis:k:short",
        "sealed:v2:jlis:k:" + "A" * 60,
        "sealed:v2:jlis:jlis-v1-abcdef:" + "a" * 207,
        "sealed:v3:jlis:jlis-v1-abcdef:" + "a" * 208,
    ],
)
def test_what_is_not_a_sealed_value_is_refused(text: str) -> None:
    refused("jlis", text)


def test_numbers_sealed_under_an_earlier_key_still_open_after_rotation() -> None:
    number = synthetic_individual_number()
    old = SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)
    rotated = rotate(KEYS, kek=False, sealing=["jlis"])
    new = HpkeSealer(rotated.sealing_for()).seal(number, recipient="jlis", message_id=MID, field=FIELD)
    assert rotated.sealing_keys("jlis").current.key_id in new
    unsealer = HpkeUnsealer(rotated.unsealing("jlis"))
    assert unsealer.unseal(old, message_id=MID, field=FIELD) == number
    assert unsealer.unseal(new, message_id=MID, field=FIELD) == number
    with pytest.raises(SealError):  # the old keyring does not have the new key
        HpkeUnsealer(KEYS.unsealing("jlis")).unseal(new, message_id=MID, field=FIELD)


def _v1(number: IndividualNumber, recipient: str, key: KeySeries) -> str:
    # What the symmetric format v1 wrote (kept here only to prove that it is still read).
    version = key.current
    nonce = os.urandom(12)
    ad = seal_context(MID, FIELD) + f"|{recipient}|{version.key_id}".encode()
    body = AESGCM(version.material).encrypt(nonce, number.reveal().encode(), ad)
    payload = base64.urlsafe_b64encode(nonce + body).rstrip(b"=").decode()
    return f"sealed:v1:{recipient}:{version.key_id}:{payload}"


def test_format_v1_is_read_with_the_v1_keys_and_never_without_them() -> None:
    v1_key = KeySeries("seal_v1.jlis", (KEYS.kek.current,))  # any 32 bytes serve as an old AES key
    number = synthetic_individual_number()
    old = _v1(number, "jlis", v1_key)
    assert is_sealed(old)
    with_v1 = HpkeUnsealer(UnsealingKeys("jlis", KEYS.sealing_keys("jlis"), v1_key))
    assert with_v1.unseal(old, message_id=MID, field=FIELD) == number
    with pytest.raises(SealError, match="old symmetric format"):
        HpkeUnsealer(KEYS.unsealing("jlis")).unseal(old, message_id=MID, field=FIELD)
    with pytest.raises(SealError):
        with_v1.unseal(old, message_id=MID, field="records.2.individual_number")
    assert SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD).startswith("sealed:v2:")


def test_an_adapter_holds_only_what_it_needs() -> None:
    adapter = adapter_keys_from(KEYS, "jlis")
    assert set(adapter.sealing.recipients) == {"hub"}
    assert adapter.unsealing is not None
    assert adapter.unsealing.owner == "jlis"
    assert not hasattr(adapter, "vault")
    number = synthetic_individual_number()
    sealed = HpkeSealer(adapter.sealing).seal(number, recipient="hub", message_id=MID, field=FIELD)
    assert open_as("hub", sealed) == number  # sealed by the adapter, opened by the hub
    with pytest.raises(SealError):
        HpkeSealer(adapter.sealing).seal(
            synthetic_individual_number(), recipient="eltax", message_id=MID, field=FIELD
        )
    for_eltax = SEALER.seal(number, recipient="eltax", message_id=MID, field=FIELD)
    with pytest.raises(SealError):
        HpkeUnsealer(adapter.unsealing).unseal(for_eltax, message_id=MID, field=FIELD)
    with pytest.raises(ConfigurationError):
        KEYS.unsealing("nobody")

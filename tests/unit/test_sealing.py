"""Sealed numbers: round trip, tampering, moving, wrong recipients, key rotation (no I/O)."""

from __future__ import annotations

import base64
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import ConfigurationError, SealError
from contracts.individual_number import IndividualNumber, check_digit, synthetic_individual_number
from contracts.sealing import is_sealed
from hub.infra.crypto.keyring import RECIPIENTS, generate_keyring, rotate
from hub.infra.crypto.sealing import AeadSealer, AeadUnsealer
from hub.infra.crypto.service_keys import adapter_keys_from

KEYS = generate_keyring()
SEALER = AeadSealer(KEYS.sealing_for())
MID = uuid.UUID("00000000-0000-4000-8000-000000000001")
FIELD = "records.1.individual_number"

numbers = st.text(alphabet="0123456789", min_size=11, max_size=11).map(
    lambda b: IndividualNumber(b + str(check_digit(b)))
)
fields = st.from_regex(r"[a-z_.0-9]{1,40}", fullmatch=True)


def open_as(owner: str, sealed: str, *, message_id: uuid.UUID = MID, field: str = FIELD) -> IndividualNumber:
    return AeadUnsealer(KEYS.unsealing(owner)).unseal(sealed, message_id=message_id, field=field)


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
    assert sealed.startswith(f"sealed:v1:{recipient}:{KEYS.sealing[recipient].current.key_id}:")
    assert number.reveal() not in sealed
    assert open_as(recipient, sealed, message_id=message_id, field=field) == number


def test_sealing_twice_gives_different_texts() -> None:
    number = synthetic_individual_number()
    first = SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)
    assert first != SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)


def test_a_tampered_value_is_refused() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    head, payload = sealed.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for position in (0, 12, len(raw) - 1):  # the nonce, the ciphertext, the tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        forged = head + ":" + base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        refused("jlis", forged)


def test_a_value_moved_to_another_message_or_field_is_refused() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    refused("jlis", sealed, message_id=uuid.uuid4())
    refused("jlis", sealed, field="records.2.individual_number")


def test_only_the_recipient_can_open_it() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="hub", message_id=MID, field=FIELD)
    assert "another recipient" in str(refused("jlis", sealed))
    # Rewriting the header to name jlis does not help: the recipient is authenticated, and the key is not.
    relabelled = sealed.replace("sealed:v1:hub:", "sealed:v1:jlis:", 1)
    refused("jlis", relabelled)
    jlis_key = KEYS.sealing["jlis"].current.key_id
    hub_key = KEYS.sealing["hub"].current.key_id
    refused("jlis", relabelled.replace(f":{hub_key}:", f":{jlis_key}:", 1))


def test_another_keyring_cannot_open_it() -> None:
    sealed = SEALER.seal(synthetic_individual_number(), recipient="jlis", message_id=MID, field=FIELD)
    with pytest.raises(SealError):
        AeadUnsealer(generate_keyring().unsealing("jlis")).unseal(sealed, message_id=MID, field=FIELD)


@pytest.mark.parametrize(
    "text", ["", "123456789012", "sealed:v1:jlis:k:short", "sealed:v2:jlis:k:" + "A" * 60]
)
def test_what_is_not_a_sealed_value_is_refused(text: str) -> None:
    refused("jlis", text)


def test_numbers_sealed_under_an_earlier_key_still_open_after_rotation() -> None:
    number = synthetic_individual_number()
    old = SEALER.seal(number, recipient="jlis", message_id=MID, field=FIELD)
    rotated = rotate(KEYS, kek=False, sealing=["jlis"])
    new = AeadSealer(rotated.sealing_for()).seal(number, recipient="jlis", message_id=MID, field=FIELD)
    assert rotated.sealing["jlis"].current.key_id in new
    unsealer = AeadUnsealer(rotated.unsealing("jlis"))
    assert unsealer.unseal(old, message_id=MID, field=FIELD) == number
    assert unsealer.unseal(new, message_id=MID, field=FIELD) == number
    with pytest.raises(SealError):  # the old keyring does not have the new key
        AeadUnsealer(KEYS.unsealing("jlis")).unseal(new, message_id=MID, field=FIELD)


def test_an_adapter_holds_only_what_it_needs() -> None:
    adapter = adapter_keys_from(KEYS, "jlis")
    assert set(adapter.sealing.recipients) == {"hub"}
    assert adapter.unsealing is not None
    assert adapter.unsealing.owner == "jlis"
    assert not hasattr(adapter, "vault")
    number = synthetic_individual_number()
    sealed = AeadSealer(adapter.sealing).seal(number, recipient="hub", message_id=MID, field=FIELD)
    assert open_as("hub", sealed) == number  # sealed by the adapter, opened by the hub
    with pytest.raises(SealError):
        AeadSealer(adapter.sealing).seal(
            synthetic_individual_number(), recipient="eltax", message_id=MID, field=FIELD
        )
    for_eltax = SEALER.seal(number, recipient="eltax", message_id=MID, field=FIELD)
    with pytest.raises(SealError):
        AeadUnsealer(adapter.unsealing).unseal(for_eltax, message_id=MID, field=FIELD)
    with pytest.raises(ConfigurationError):
        KEYS.unsealing("nobody")

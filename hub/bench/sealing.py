"""The cost of sealing numbers to public keys, per operation and per bulk message (the ``sealing`` phase).

Measured in-process, on one core, with fresh keys: the HPKE wrap and unwrap of a message key (one each per
message and recipient), sealing and opening one number of format v2 once its message key is made (AES-GCM
and the letter encoding), the old symmetric format v1 for comparison, and a message of ``chunk`` numbers
end to end. Sizes are those of real values. The alternative placement of the wrapped key (once per message,
values referring to it) is measured by sealing the same fields without carrying the 64 wrapped bytes in each.
"""

from __future__ import annotations

import base64
import os
import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any, Final

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from contracts.individual_number import synthetic_individual_number
from contracts.sealing import seal_context
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer, to_letters
from hub.infra.keys.keyring import generate_keyring

__all__ = ["run_sealing"]

_SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)


def _per_call_us(action: Callable[[], object], count: int, repeats: int = 5) -> float:
    """The median over ``repeats`` runs of the mean time of one call, in microseconds."""
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(count):
            action()
        runs.append((time.perf_counter() - started) / count * 1e6)
    return round(statistics.median(runs), 2)


def run_sealing(chunk: int = 1_000, count: int = 2_000) -> dict[str, Any]:
    """Per-operation costs (µs) and sizes of sealed format v2 against v1, and of one bulk message."""
    keys = generate_keyring()
    sealer = HpkeSealer(keys.sealing_for(["jlis"]))
    unsealer = HpkeUnsealer(keys.unsealing("jlis"))
    number = synthetic_individual_number()
    message = uuid.uuid4()
    field = "records.1.individual_number"
    private = X25519PrivateKey.from_private_bytes(keys.sealing_keys("jlis").current.material)
    public = private.public_key()
    info = b"renkei/sealed/v2|bench"
    wrapped = _SUITE.encrypt(os.urandom(16), public, info=info)
    sealed = sealer.seal(number, recipient="jlis", message_id=message, field=field)
    unsealer.unseal(sealed, message_id=message, field=field)  # the message key is now made on both sides

    v1_key = AESGCM(os.urandom(32))

    def v1_seal() -> str:  # what format v1's sealer did for each number
        nonce = os.urandom(12)
        ad = seal_context(message, field) + b"|jlis|jlis-v1-abcdef"
        body = v1_key.encrypt(nonce, number.reveal().encode(), ad)
        return "sealed:v1:jlis:jlis-v1-abcdef:" + base64.urlsafe_b64encode(nonce + body).rstrip(b"=").decode()

    message_key = AESGCM(os.urandom(16))
    before, after = seal_context(message, ""), b"|jlis|jlis-v1-abcdef"

    def referring_seal() -> str:  # the alternative: the wrapped key once per message, not in each value
        nonce = os.urandom(12)
        body = message_key.encrypt(nonce, number.reveal().encode(), before + field.encode() + after)
        return "sealed:v2:jlis:jlis-v1-abcdef:" + to_letters(nonce + body)

    per_op = {
        "hpke_wrap_message_key": _per_call_us(
            lambda: _SUITE.encrypt(os.urandom(16), public, info=info), count
        ),
        "hpke_unwrap_message_key": _per_call_us(lambda: _SUITE.decrypt(wrapped, private, info=info), count),
        "seal_number_v2": _per_call_us(
            lambda: sealer.seal(number, recipient="jlis", message_id=message, field=field), count * 5
        ),
        "unseal_number_v2": _per_call_us(
            lambda: unsealer.unseal(sealed, message_id=message, field=field), count * 5
        ),
        "seal_number_v1": _per_call_us(v1_seal, count * 5),
        "seal_number_v2_key_once_per_message": _per_call_us(referring_seal, count * 5),
    }

    def bulk_message() -> None:  # a chunk for J-LIS: a new message id, so one wrap and one unwrap
        mid = uuid.uuid4()
        values = [
            sealer.seal(number, recipient="jlis", message_id=mid, field=f"records.{i}.individual_number")
            for i in range(chunk)
        ]
        for i, value in enumerate(values):
            unsealer.unseal(value, message_id=mid, field=f"records.{i}.individual_number")

    hpke_us = per_op["hpke_wrap_message_key"] + per_op["hpke_unwrap_message_key"]
    started = time.perf_counter()
    operations = sealer.public_key_operations
    repeats = 5
    for _ in range(repeats):
        bulk_message()
    per_message_ms = (time.perf_counter() - started) / repeats * 1000
    v1_chars, v2_chars, referring_chars = len(v1_seal()), len(sealed), len(referring_seal())
    return {
        "per_operation_us": per_op,
        "value_chars": {
            "v1": v1_chars,
            "v2": v2_chars,
            "v2_key_once_per_message": referring_chars,
            "v2_key_once_per_message_envelope_extra": 128 + 40,  # the wrapped key once, with its label
        },
        "bulk_message": {
            "numbers": chunk,
            "seal_and_unseal_ms": round(per_message_ms, 2),
            "public_key_operations_per_side": (sealer.public_key_operations - operations) // repeats,
            "extra_bytes_v2_over_v1": (v2_chars - v1_chars) * chunk,
            "extra_bytes_once_per_message_over_v1": (referring_chars - v1_chars) * chunk + 168,
        },
        # HPKE's CPU over a 1,000,000-record inquiry: once per number would cost this many seconds, once
        # per message (of ``chunk`` numbers, as sealed) this many.
        "hpke_s_per_1e6_numbers_if_per_number": round(hpke_us, 1),
        "hpke_s_per_1e6_numbers_per_message": round(hpke_us / chunk, 3),
    }

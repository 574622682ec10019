"""Builders for the tests of the other implementing bodies: wire claims, forwardings, real sealing (HPKE)."""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import date

from adapters.implementing_bodies import ImplementingBodiesAdapter, ImplementingBodiesSimulator
from adapters.implementing_bodies.wire import ForwardingFile, WireClaim
from contracts.envelope import Envelope, new_envelope
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.link import CounterpartFile
from contracts.messages.implementing_bodies import (
    CLAIM_FORWARDING_PURPOSE,
    ClaimForwarding,
    ClaimKind,
    ForwardedClaim,
    ImplementingBody,
    ScannedPage,
    claimant_number_field,
    deceased_number_field,
)
from contracts.registry import Decoded, decode, encode, payload_dict
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.keys.keyring import Keyring, generate_keyring

RECEIVED = date(2026, 11, 2)
ANSWERED = date(2026, 11, 4)
ASSOCIATION = "m130001"


def number(seed: int) -> IndividualNumber:
    """A synthetic number, the same for the same seed."""
    return synthetic_individual_number(random.Random(seed))


def page(index: int, p: int = 1) -> tuple[str, str]:
    """A scanned page: its name and the SHA-256 of synthetic bytes."""
    return f"claim-{index}-{p}.png", hashlib.sha256(f"page/{index}/{p}".encode()).hexdigest()


def wire_claim(index: int, kind: ClaimKind = ClaimKind.OLD_AGE_EARLY) -> WireClaim:
    """A claim as the file states it; a survivor's names the deceased."""
    survivor = kind is ClaimKind.SURVIVORS
    return WireClaim(
        record_seq=index,
        kind=kind,
        received_on=RECEIVED,
        basic_pension_number=f"{1_000_000_000 + index:010d}",
        pages=(page(index, 1), page(index, 2)),
        individual_number=number(index),
        deceased_individual_number=number(1000 + index) if survivor else None,
        deceased_basic_pension_number="2000000001" if survivor else None,
    )


def forwarding_file(count: int = 3, destination: ImplementingBody = ImplementingBody.JPS) -> ForwardingFile:
    """A forwarding of ``count`` claims, every other one a survivor's."""
    kinds = (ClaimKind.OLD_AGE_EARLY, ClaimKind.SURVIVORS)
    claims = tuple(wire_claim(i, kinds[i % 2]) for i in range(count))
    return ForwardingFile("cf-1", ASSOCIATION, destination, claims)


class Sealing:
    """The hub's real sealing (HPKE), with a keyring made in memory."""

    def __init__(self) -> None:
        self.keyring: Keyring = generate_keyring()
        self.sealer = HpkeSealer(self.keyring.sealing_for())
        self.for_adapter = HpkeUnsealer(self.keyring.unsealing("implementing_bodies"))

    def adapter(self) -> ImplementingBodiesAdapter:
        """An adapter holding its own key."""
        return ImplementingBodiesAdapter(self.for_adapter)

    def seal(
        self, value: IndividualNumber, mid: uuid.UUID, field: str, recipient: str = "implementing_bodies"
    ) -> str:
        return self.sealer.seal(value, recipient=recipient, message_id=mid, field=field)


def forwarding_message(
    sealing: Sealing,
    count: int = 3,
    destination: ImplementingBody = ImplementingBody.KKR,
    *,
    recipient: str = "implementing_bodies",
    purpose=CLAIM_FORWARDING_PURPOSE,
) -> Decoded:
    """A ``implementing_bodies.claim.forwarding`` as the hub sends it, numbers sealed for ``recipient``."""
    mid = uuid.uuid4()
    claims = []
    for c in forwarding_file(count).claims:
        deceased = c.deceased_individual_number
        claims.append(
            ForwardedClaim(
                record_seq=c.record_seq,
                kind=c.kind,
                received_on=c.received_on,
                individual_number=sealing.seal(
                    number(c.record_seq), mid, claimant_number_field(c.record_seq), recipient
                ),
                basic_pension_number=c.basic_pension_number,
                deceased_individual_number=None
                if deceased is None
                else sealing.seal(deceased, mid, deceased_number_field(c.record_seq), recipient),
                deceased_basic_pension_number=c.deceased_basic_pension_number,
                pages=tuple(ScannedPage(name=n, sha256=d) for n, d in c.pages),
            )
        )
    payload = ClaimForwarding(
        batch_id="cf-1", destination=destination, forwarded_by=ASSOCIATION, claims=tuple(claims)
    )
    env: Envelope = new_envelope(
        message_type="implementing_bodies.claim.forwarding",
        schema_version=1,
        source="hub",
        destination="implementing_bodies",
        purpose=purpose,
        payload=payload_dict(payload),
        message_id=mid,
        actor=ASSOCIATION,
    )
    return decode(encode(env))


def simulator(return_every: int | None = None) -> ImplementingBodiesSimulator:
    """The simulated bodies with a fixed clock (returning no claim unless ``return_every``)."""
    return ImplementingBodiesSimulator(clock=lambda: ANSWERED, return_every=return_every)


def line_file(name: str, content: bytes, correlation: uuid.UUID | None = None) -> CounterpartFile:
    """A file on the line, as the host delivers it."""
    return CounterpartFile("implementing_bodies", name, content, str(correlation or uuid.uuid4()))

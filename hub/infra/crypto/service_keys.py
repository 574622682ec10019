"""Which keys each service holds, and the one place they are loaded from: one function per process role.

:data:`KEY_NEEDS` says, as data, which key bundles (:mod:`hub.infra.crypto.bundles`) each service
(:mod:`hub.infra.service_names`) holds. The role functions (:func:`hub_keys`, :func:`adapter_keys`,
:func:`simulator_keys`, :func:`console_keys`, :func:`operator_keys`) return exactly those bundles, typed, so
that each composition root's signature names the keys its role uses and nothing else.

Where the keys come from is :func:`keyring_of`, and only there: today every service cuts its bundles from
the one keyring file (:func:`hub.infra.crypto.keyring.load_keyring`); one keyring per service replaces that
function's body and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from contracts.errors import ConfigurationError
from hub.infra.crypto.bundles import LinkKey, SealingKeys, UnsealingKeys, VaultKeys
from hub.infra.crypto.keyring import Keyring, load_keyring
from hub.infra.service_names import ServiceName, adapter_service, simulator_service
from hub.settings import Settings

__all__ = [
    "KEY_NEEDS",
    "AdapterKeys",
    "ConsoleKeys",
    "HubKeys",
    "KeyNeeds",
    "OperatorKeys",
    "adapter_keys",
    "adapter_keys_from",
    "console_keys",
    "console_keys_from",
    "hub_keys",
    "hub_keys_from",
    "keyring_of",
    "operator_keys",
    "operator_keys_from",
    "simulator_keys",
    "simulator_keys_from",
]

_HUB_SEALS_FOR: Final = ("hub", "jlis", "intermediate_server", "eltax")
"""Recipients the hub seals numbers for: the counterparts' adapters, and itself (held candidates)."""


@dataclass(frozen=True, slots=True)
class KeyNeeds:
    """The keys one service holds.

    Attributes:
        vault: the vault's keys (KEKs, blind index, token root).
        seals_for: recipients it seals numbers for.
        unseals: recipients whose sealed numbers it opens.
        links: counterparts whose encrypted line it speaks.
    """

    vault: bool = False
    seals_for: tuple[str, ...] = ()
    unseals: tuple[str, ...] = ()
    links: tuple[str, ...] = ()


KEY_NEEDS: Final[Mapping[ServiceName, KeyNeeds]] = {
    "hub": KeyNeeds(vault=True, seals_for=_HUB_SEALS_FOR, unseals=("hub",)),
    "adapter-jlis": KeyNeeds(seals_for=("hub",), unseals=("jlis",), links=("jlis",)),
    "adapter-intermediate_server": KeyNeeds(unseals=("intermediate_server",), links=("intermediate_server",)),
    "adapter-eltax": KeyNeeds(seals_for=("hub",), unseals=("eltax",), links=("eltax",)),
    "adapter-pension": KeyNeeds(seals_for=("hub",)),
    "simulator-jlis": KeyNeeds(links=("jlis",)),
    "simulator-intermediate_server": KeyNeeds(links=("intermediate_server",)),
    "simulator-eltax": KeyNeeds(links=("eltax",)),
    # Operator tools beside the hub: retention and re-wrap (vault), resolving holds (the hub's sealed values).
    "operator": KeyNeeds(vault=True, unseals=("hub",)),
    # The console reveals a dead letter's sealed number (for whichever recipient it was sealed) on request.
    "console": KeyNeeds(vault=True, unseals=_HUB_SEALS_FOR),
}
"""Which keys each service holds; everything not listed here it does not get."""


@dataclass(frozen=True, slots=True)
class HubKeys:
    """The hub worker's keys: the vault, sealing for the counterparts' adapters, opening its own."""

    vault: VaultKeys
    sealing: SealingKeys
    unsealing: UnsealingKeys


@dataclass(frozen=True, slots=True)
class AdapterKeys:
    """One adapter's keys: what it opens (sealed for it), what it seals for, its counterpart's line."""

    adapter: str
    sealing: SealingKeys = field(default_factory=lambda: SealingKeys({}))
    unsealing: UnsealingKeys | None = None
    link: LinkKey | None = None


@dataclass(frozen=True, slots=True)
class ConsoleKeys:
    """The console's keys: the vault (tokens, member scope) and, per recipient, what reveals a number."""

    vault: VaultKeys
    reveal: Mapping[str, UnsealingKeys]


@dataclass(frozen=True, slots=True)
class OperatorKeys:
    """The operator tools' keys: the vault (retention, re-wrap) and the hub's own sealed values (holds)."""

    vault: VaultKeys
    unsealing: UnsealingKeys


def keyring_of(settings: Settings, service: ServiceName) -> Keyring:
    """The keyring ``service`` cuts its bundles from: the one source of every process's keys.

    Today every service reads the one keyring the settings name (``service`` is not yet used).

    Raises:
        ConfigurationError: the keyring cannot be loaded (see :func:`load_keyring`).
    """
    del service
    return load_keyring(settings)


@dataclass(frozen=True, slots=True)
class _Cut:
    vault: VaultKeys | None
    sealing: SealingKeys
    unsealing: Mapping[str, UnsealingKeys]
    links: Mapping[str, LinkKey]


def _cut(keyring: Keyring, service: ServiceName) -> _Cut:
    needs = KEY_NEEDS[service]
    return _Cut(
        vault=keyring.vault if needs.vault else None,
        sealing=keyring.sealing_for(needs.seals_for),
        unsealing={owner: keyring.unsealing(owner) for owner in needs.unseals},
        links={counterpart: keyring.link_key(counterpart) for counterpart in needs.links},
    )


def _vault(cut: _Cut, service: ServiceName) -> VaultKeys:
    if cut.vault is None:  # the table and the role disagree: a programming error, never a user's
        raise ConfigurationError(f"the service {service} holds no vault keys")
    return cut.vault


def hub_keys_from(keyring: Keyring) -> HubKeys:
    """The hub worker's bundles, cut from ``keyring``."""
    cut = _cut(keyring, "hub")
    return HubKeys(vault=_vault(cut, "hub"), sealing=cut.sealing, unsealing=cut.unsealing["hub"])


def adapter_keys_from(keyring: Keyring, adapter: str) -> AdapterKeys:
    """The bundles of ``adapter``, cut from ``keyring``.

    Raises:
        ValueError: ``adapter`` is not one of renkei's adapters.
    """
    cut = _cut(keyring, adapter_service(adapter))
    return AdapterKeys(
        adapter=adapter,
        sealing=cut.sealing,
        unsealing=cut.unsealing.get(adapter),
        link=cut.links.get(adapter),
    )


def simulator_keys_from(keyring: Keyring, counterpart: str) -> LinkKey:
    """The one key of the simulated ``counterpart`` (its side of the line), cut from ``keyring``.

    Raises:
        ValueError: ``counterpart`` has no simulator.
    """
    return _cut(keyring, simulator_service(counterpart)).links[counterpart]


def console_keys_from(keyring: Keyring) -> ConsoleKeys:
    """The console's bundles, cut from ``keyring``."""
    cut = _cut(keyring, "console")
    return ConsoleKeys(vault=_vault(cut, "console"), reveal=dict(cut.unsealing))


def operator_keys_from(keyring: Keyring) -> OperatorKeys:
    """The operator tools' bundles, cut from ``keyring``."""
    cut = _cut(keyring, "operator")
    return OperatorKeys(vault=_vault(cut, "operator"), unsealing=cut.unsealing["hub"])


def hub_keys(settings: Settings) -> HubKeys:
    """The hub worker's keys."""
    return hub_keys_from(keyring_of(settings, "hub"))


def adapter_keys(settings: Settings, adapter: str) -> AdapterKeys:
    """The keys of ``adapter`` (``jlis``, ``intermediate_server``, ``eltax`` or ``pension``)."""
    return adapter_keys_from(keyring_of(settings, adapter_service(adapter)), adapter)


def simulator_keys(settings: Settings, counterpart: str) -> LinkKey:
    """The link key of the simulated ``counterpart``, its only key."""
    return simulator_keys_from(keyring_of(settings, simulator_service(counterpart)), counterpart)


def console_keys(settings: Settings) -> ConsoleKeys:
    """The console's keys."""
    return console_keys_from(keyring_of(settings, "console"))


def operator_keys(settings: Settings) -> OperatorKeys:
    """The operator tools' keys."""
    return operator_keys_from(keyring_of(settings, "operator"))

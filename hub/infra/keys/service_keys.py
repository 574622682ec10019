"""Which keys each process role holds, and the one place they are loaded from: one function per role.

:data:`~hub.infra.keys.needs.KEY_NEEDS` says, as data, which keys each service
(:mod:`hub.infra.service_names`) holds. The role functions (:func:`hub_keys`, :func:`adapter_keys`,
:func:`simulator_keys`, :func:`console_keys`, :func:`operator_keys`) return exactly those keys as typed
bundles (:mod:`hub.infra.keys.bundles`), so that each composition root's signature names the keys its role
uses and nothing else.

Where the keys come from is :func:`keyring_of`, and only there: the service's own keyring
(:mod:`hub.infra.keys.keyring_files`), made on first run in development, checked to hold exactly what the
service needs, and followed as its file changes (:class:`~hub.infra.keys.source.KeyringSource`), so
that a key rotation reaches a running service without a restart.

The ``*_from`` functions make the same bundles from a keyring in hand (a deployment's, in tests and the
in-process deployment), cut to the service's needs first: a test's hub gets the hub's keys, not the keyring.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from contracts.errors import ConfigurationError
from hub.infra.keys.bundles import LinkKeys, SealingKeys, UnsealingKeys, VaultKeys
from hub.infra.keys.keyring import KeyKind, KeyName, Keyring
from hub.infra.keys.keyring_files import (
    ensure_development_keyrings,
    keyring_location,
    one_keyring_each,
    read_service_keyring,
)
from hub.infra.keys.needs import KEY_NEEDS, KeyNeeds, cut
from hub.infra.keys.source import KeyringSource
from hub.infra.service_names import ServiceName, adapter_service, simulator_service
from hub.settings import Environment, Settings

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

log = logging.getLogger(__name__)


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
    link: LinkKeys | None = None


@dataclass(frozen=True, slots=True)
class ConsoleKeys:
    """The console's keys: the vault (tokens, member scope) and what reveals a number sealed for the hub."""

    vault: VaultKeys
    reveal: Mapping[str, UnsealingKeys]


@dataclass(frozen=True, slots=True)
class OperatorKeys:
    """The operator tools' keys: the vault (retention, re-wrap) and the hub's own sealing pair (holds)."""

    vault: VaultKeys
    unsealing: UnsealingKeys
    sealing: SealingKeys


def keyring_of(
    settings: Settings, service: ServiceName, environ: Mapping[str, str] | None = None
) -> KeyringSource:
    """``service``'s own keyring, followed as its file changes: the one source of every process's keys.

    In development a missing keyring is made on first run (every service's at once), and a recipient added
    since gets its first keys (:func:`ensure_development_keyrings`); in production it must
    be where the settings say (``RENKEI_KEY_DIR``, ``RENKEI_KEY_FILE`` or ``RENKEI_KEY_ENV``, read from
    ``environ``, the process environment by default).

    Raises:
        ConfigurationError: the keyring is missing (production), open to others, malformed, holds a key
            ``service`` must not hold (named), or lacks one it needs.
    """
    location = keyring_location(settings, service)
    missing = location.path is not None and not location.path.exists()
    if settings.environment is Environment.DEVELOPMENT and (missing or one_keyring_each(settings)):
        ensure_development_keyrings(settings)  # missing keyrings, and keys of recipients added since
    if location.variable is not None:
        source = KeyringSource(service, lambda: read_service_keyring(location, environ))
    else:
        source = KeyringSource(service, lambda: read_service_keyring(location), location.stamp)
    log.info(
        "keyring loaded",
        extra={"service": service, "keyring": str(location), "keys": [str(n) for n in source.get().names()]},
    )
    return source


# --- bundles from a source -------------------------------------------------------------------------------


def _needs(source: KeyringSource) -> KeyNeeds:
    return KEY_NEEDS[source.service]


def _vault(source: KeyringSource) -> VaultKeys:
    if not _needs(source).vault:  # the table and the role disagree: a programming error, never a user's
        raise ConfigurationError(f"the service {source.service} holds no vault keys")
    return VaultKeys(
        kek=source.view(KeyName(KeyKind.KEK)),
        blind_index=source.view(KeyName(KeyKind.BLIND_INDEX)),
        token_root=source.view(KeyName(KeyKind.TOKEN_ROOT)),
    )


def _sealing(source: KeyringSource) -> SealingKeys:
    return SealingKeys({r: source.view(KeyName(KeyKind.SEAL_PUBLIC, r)) for r in _needs(source).seals_for})


def _unsealing(source: KeyringSource, owner: str) -> UnsealingKeys:
    if owner not in _needs(source).unseals:
        raise ConfigurationError(f"the service {source.service} opens nothing sealed for {owner}")
    return UnsealingKeys(
        owner,
        source.view(KeyName(KeyKind.SEAL_PRIVATE, owner)),
        source.view(KeyName(KeyKind.SEAL_V1, owner)),
    )


def _link(source: KeyringSource, counterpart: str) -> LinkKeys:
    return LinkKeys(counterpart, source.view(KeyName(KeyKind.LINK, counterpart)))


def hub_keys_of(source: KeyringSource) -> HubKeys:
    """The hub worker's bundles, from its keyring."""
    return HubKeys(vault=_vault(source), sealing=_sealing(source), unsealing=_unsealing(source, "hub"))


def adapter_keys_of(source: KeyringSource, adapter: str) -> AdapterKeys:
    """The bundles of ``adapter``, from its keyring."""
    needs = _needs(source)
    return AdapterKeys(
        adapter=adapter,
        sealing=_sealing(source),
        unsealing=_unsealing(source, adapter) if adapter in needs.unseals else None,
        link=_link(source, adapter) if adapter in needs.links else None,
    )


def simulator_keys_of(source: KeyringSource, counterpart: str) -> LinkKeys:
    """The one key of the simulated ``counterpart`` (its side of the line), from its keyring."""
    return _link(source, counterpart)


def console_keys_of(source: KeyringSource) -> ConsoleKeys:
    """The console's bundles, from its keyring."""
    return ConsoleKeys(
        vault=_vault(source), reveal={owner: _unsealing(source, owner) for owner in _needs(source).unseals}
    )


def operator_keys_of(source: KeyringSource) -> OperatorKeys:
    """The operator tools' bundles, from their keyring."""
    return OperatorKeys(vault=_vault(source), unsealing=_unsealing(source, "hub"), sealing=_sealing(source))


# --- from a keyring in hand (tests, the in-process deployment) --------------------------------------------


def _fixed(keyring: Keyring, service: ServiceName) -> KeyringSource:
    ring = keyring if keyring.service == service else cut(keyring, service)
    return KeyringSource.fixed(ring, service)


def hub_keys_from(keyring: Keyring) -> HubKeys:
    """The hub worker's bundles, cut from ``keyring``."""
    return hub_keys_of(_fixed(keyring, "hub"))


def adapter_keys_from(keyring: Keyring, adapter: str) -> AdapterKeys:
    """The bundles of ``adapter``, cut from ``keyring``.

    Raises:
        ValueError: ``adapter`` is not one of renkei's adapters.
    """
    return adapter_keys_of(_fixed(keyring, adapter_service(adapter)), adapter)


def simulator_keys_from(keyring: Keyring, counterpart: str) -> LinkKeys:
    """The link keys of the simulated ``counterpart``, cut from ``keyring``.

    Raises:
        ValueError: ``counterpart`` has no simulator.
    """
    return simulator_keys_of(_fixed(keyring, simulator_service(counterpart)), counterpart)


def console_keys_from(keyring: Keyring) -> ConsoleKeys:
    """The console's bundles, cut from ``keyring``."""
    return console_keys_of(_fixed(keyring, "console"))


def operator_keys_from(keyring: Keyring) -> OperatorKeys:
    """The operator tools' bundles, cut from ``keyring``."""
    return operator_keys_of(_fixed(keyring, "operator"))


# --- the role functions ----------------------------------------------------------------------------------


def hub_keys(settings: Settings) -> HubKeys:
    """The hub worker's keys."""
    return hub_keys_of(keyring_of(settings, "hub"))


def adapter_keys(settings: Settings, adapter: str) -> AdapterKeys:
    """The keys of ``adapter`` (a name of :data:`hub.infra.broker.topology.ADAPTERS`)."""
    return adapter_keys_of(keyring_of(settings, adapter_service(adapter)), adapter)


def simulator_keys(settings: Settings, counterpart: str) -> LinkKeys:
    """The link keys of the simulated ``counterpart``, its only keys."""
    return simulator_keys_of(keyring_of(settings, simulator_service(counterpart)), counterpart)


def console_keys(settings: Settings) -> ConsoleKeys:
    """The console's keys."""
    return console_keys_of(keyring_of(settings, "console"))


def operator_keys(settings: Settings) -> OperatorKeys:
    """The operator tools' keys."""
    return operator_keys_of(keyring_of(settings, "operator"))

"""Each process role's composition root receives its own keys and nothing more (no I/O beyond a temp dir)."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Iterator

import pytest

from hub.bootstrap.adapters import ADAPTER_SPECS, build_adapter_host
from hub.bootstrap.console import ConsoleRoot
from hub.bootstrap.hub_worker import HubWorkerRoot
from hub.bootstrap.operator import OperatorTools
from hub.bootstrap.simulators import build_simulator_host
from hub.infra.broker.definitions import broker_users
from hub.infra.broker.topology import COUNTERPARTS
from hub.infra.keys.bundles import LinkKeys, SealingKeys, UnsealingKeys, VaultKeys
from hub.infra.keys.keyring import RECIPIENTS, Keyring, generate_keyring
from hub.infra.keys.service_keys import (
    KEY_NEEDS,
    AdapterKeys,
    ConsoleKeys,
    HubKeys,
    OperatorKeys,
    adapter_keys_from,
    console_keys_from,
    hub_keys_from,
    operator_keys_from,
    simulator_keys_from,
)
from hub.infra.service_names import SERVICE_NAMES

KEYRING = generate_keyring()
VAULT_NAMES = ("kek", "blind_index", "token_root")


def materials(bundle: object) -> Iterator[bytes]:
    """Every piece of key material a bundle holds, however deep."""
    if isinstance(bundle, LinkKeys):
        yield from (v.material for v in bundle.keys.series().versions)
    elif isinstance(bundle, UnsealingKeys):
        yield from (v.material for v in bundle.keys.series().versions)
        if bundle.legacy is not None:
            yield from (v.material for v in bundle.legacy.series().versions)
    elif isinstance(bundle, SealingKeys):
        for series in bundle.recipients.values():
            yield from (v.material for v in series.series().versions)
    elif isinstance(bundle, VaultKeys):
        for name in VAULT_NAMES:
            yield from (v.material for v in getattr(bundle, name).series().versions)
    elif isinstance(bundle, dict):
        for value in bundle.values():
            yield from materials(value)
    elif dataclasses.is_dataclass(bundle):
        for f in dataclasses.fields(bundle):
            yield from materials(getattr(bundle, f.name))


def mentioned(hint: object) -> set[object]:
    """Every type a type hint names, however nested (unions, callables, generics)."""
    args = typing.get_args(hint)
    if not args:
        return {hint}
    found: set[object] = set()
    for arg in args:
        found |= mentioned(arg) if not isinstance(arg, list) else set().union(*map(mentioned, arg))
    return found


def vault_material(keyring: Keyring) -> set[bytes]:
    return set(materials(keyring.vault))


def sealing_material(keyring: Keyring, recipient: str) -> set[bytes]:
    """The private keys of ``recipient`` (its public keys may be held by whoever seals for it)."""
    return {v.material for v in keyring.sealing_keys(recipient).versions}


def link_material(keyring: Keyring, counterpart: str) -> set[bytes]:
    return {v.material for v in keyring.link_keys(counterpart).keys.series().versions}


@pytest.mark.parametrize("adapter", list(ADAPTER_SPECS))
def test_an_adapter_gets_no_vault_key_and_no_other_counterparts_key(adapter: str) -> None:
    keys = adapter_keys_from(KEYRING, adapter)
    held = set(materials(keys))
    assert not hasattr(keys, "vault")
    assert not held & vault_material(KEYRING)
    for other in COUNTERPARTS:
        if other == adapter:
            continue
        assert not held & sealing_material(KEYRING, other), f"{adapter} holds {other}'s sealing key"
        assert not held & link_material(KEYRING, other), f"{adapter} holds {other}'s link key"
    assert not held & sealing_material(KEYRING, "hub"), f"{adapter} holds the hub's private key"
    assert set(keys.sealing.recipients) <= {"hub"}
    assert keys.unsealing is None or keys.unsealing.owner == adapter
    assert keys.link is None or keys.link.counterpart == adapter


def test_the_jlis_adapter_holds_exactly_its_own_keys_and_the_hubs_public_key() -> None:
    keys = adapter_keys_from(KEYRING, "jlis")
    assert keys.unsealing is not None
    assert keys.link is not None
    assert keys.unsealing.keys.series() == KEYRING.sealing_keys("jlis")
    assert keys.sealing.recipients["hub"].series() == KEYRING.public_keys("hub")
    assert set(keys.sealing.recipients) == {"hub"}
    assert keys.link.keys.series() == KEYRING.link_keys("jlis").keys.series()
    pension = adapter_keys_from(KEYRING, "pension")
    assert (pension.unsealing, pension.link) == (None, None)
    assert set(pension.sealing.recipients) == {"hub"}
    intermediate = adapter_keys_from(KEYRING, "intermediate_server")
    assert not intermediate.sealing.recipients  # it never seals a number


@pytest.mark.parametrize("counterpart", COUNTERPARTS)
def test_a_simulator_gets_only_its_side_of_the_line(counterpart: str) -> None:
    link = simulator_keys_from(KEYRING, counterpart)
    assert isinstance(link, LinkKeys)
    adapter_link = adapter_keys_from(KEYRING, counterpart).link
    assert adapter_link is not None
    assert link.keys.series() == adapter_link.keys.series()  # both ends of the line agree
    held = set(materials(link))
    assert not held & set().union(*(link_material(KEYRING, c) for c in COUNTERPARTS if c != counterpart))
    assert not held & vault_material(KEYRING)
    assert all(not held & sealing_material(KEYRING, r) for r in RECIPIENTS)


def test_the_hub_gets_the_vault_and_opens_only_what_is_sealed_for_it() -> None:
    keys = hub_keys_from(KEYRING)
    assert set(materials(keys.vault)) == vault_material(KEYRING)
    assert keys.unsealing.owner == "hub"
    assert set(keys.sealing.recipients) == {
        "hub",
        "jlis",
        "intermediate_server",
        "eltax",
        "nta",
        "implementing_bodies",
    }
    held = set(materials(keys))
    assert not held & set().union(*(link_material(KEYRING, c) for c in COUNTERPARTS))
    assert not held & set().union(*(sealing_material(KEYRING, r) for r in RECIPIENTS if r != "hub"))


def test_the_operator_and_the_console_hold_what_their_commands_use() -> None:
    operator = operator_keys_from(KEYRING)
    assert set(materials(operator.vault)) == vault_material(KEYRING)
    assert operator.unsealing.owner == "hub"
    assert set(operator.sealing.recipients) == {"hub"}
    console = console_keys_from(KEYRING)
    assert set(console.reveal) == {"hub"}  # never a counterpart adapter's private key
    for keys in (operator, console):
        held = set(materials(keys))
        assert not held & set().union(*(link_material(KEYRING, c) for c in COUNTERPARTS))
        assert not held & set().union(*(sealing_material(KEYRING, r) for r in RECIPIENTS if r != "hub"))


def test_every_service_has_its_key_needs_and_is_a_broker_role() -> None:
    assert set(KEY_NEEDS) == set(SERVICE_NAMES)
    roles = {user.role for user in broker_users("renkei")}
    assert set(SERVICE_NAMES) == roles  # every service, the console included, is a broker user of its own


@pytest.mark.parametrize(
    ("builder", "parameter", "bundle"),
    [
        (HubWorkerRoot.__init__, "keys", HubKeys),
        (build_adapter_host, "keys", AdapterKeys),
        (build_simulator_host, "link", LinkKeys),
        (ConsoleRoot.__init__, "keys", ConsoleKeys),
        (OperatorTools.__init__, "keys", OperatorKeys | None),
    ],
)
def test_each_builder_names_its_own_bundle_and_never_the_keyring(builder, parameter, bundle) -> None:
    hints = typing.get_type_hints(builder)
    assert hints[parameter] == bundle
    key_types = {Keyring, HubKeys, AdapterKeys, ConsoleKeys, OperatorKeys, LinkKeys, VaultKeys}
    others = [name for name, hint in hints.items() if name != parameter and mentioned(hint) & key_types]
    assert others == [], f"{builder.__qualname__} also asks for {others}"

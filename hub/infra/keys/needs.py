"""Which keys each service holds, as data, and how a service's keyring is cut from a deployment's.

:data:`KEY_NEEDS` is the one statement of least privilege between renkei's processes: the vault's keys only
for the hub and the tools that run beside it; each adapter only its own private key, the public key of
whoever it seals for and its counterpart's link key; each simulator only its side of the line. A service's
keyring holds exactly what its row names (:func:`cut`), and a service that finds anything else in its
keyring refuses to start and says what (:func:`check_keyring`). ``docs/security.md`` shows the table
(:func:`key_table_markdown`, kept equal by a test).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from contracts.errors import ConfigurationError
from hub.infra.keys.keyring import VAULT_KINDS, KeyKind, KeyName, Keyring, KeySeries, KeyVersion
from hub.infra.service_names import SERVICE_NAMES, ServiceName

__all__ = [
    "KEY_NEEDS",
    "KEY_TABLE_BEGIN",
    "KEY_TABLE_END",
    "KeyNeeds",
    "allowed_names",
    "assemble",
    "check_keyring",
    "cut",
    "key_table_markdown",
    "required_names",
    "with_key_table",
]

_HUB_SEALS_FOR: Final = ("hub", "jlis", "intermediate_server", "eltax", "nta", "implementing_bodies")
"""Recipients the hub seals numbers for: the counterparts' adapters, and itself (held candidates)."""


@dataclass(frozen=True, slots=True)
class KeyNeeds:
    """The keys one service holds.

    Attributes:
        vault: the vault's keys (KEKs, blind index, token root).
        seals_for: recipients it seals numbers for (it holds their public keys).
        unseals: recipients whose sealed numbers it opens (it holds their private keys, and their v1 keys
            during the migration window).
        links: counterparts whose encrypted line it speaks.
        why: one line for the documentation.
    """

    vault: bool = False
    seals_for: tuple[str, ...] = ()
    unseals: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    why: str = ""


KEY_NEEDS: Final[Mapping[ServiceName, KeyNeeds]] = {
    "hub": KeyNeeds(
        vault=True,
        seals_for=_HUB_SEALS_FOR,
        unseals=("hub",),
        why="the vault; seals for the counterparts' adapters and for itself (held candidates)",
    ),
    "adapter-jlis": KeyNeeds(
        seals_for=("hub",),
        unseals=("jlis",),
        links=("jlis",),
        why="opens what the hub sealed for J-LIS; seals J-LIS's numbers for the hub",
    ),
    "adapter-intermediate_server": KeyNeeds(
        unseals=("intermediate_server",),
        links=("intermediate_server",),
        why="opens what the hub sealed for the intermediate server; never sends a number to the hub",
    ),
    "adapter-eltax": KeyNeeds(
        seals_for=("hub",),
        unseals=("eltax",),
        links=("eltax",),
        why="opens what the hub sealed for eLTAX; seals municipalities' numbers for the hub",
    ),
    # No number comes back from the Agency (its receipt names slips' lines, never a value): nothing to seal.
    "adapter-nta": KeyNeeds(
        unseals=("nta",),
        links=("nta",),
        why="opens what the hub sealed for the National Tax Agency; never sends a number to the hub",
    ),
    # A receipt of the other implementing bodies names claims by record_seq, never a number: nothing to seal.
    "adapter-implementing_bodies": KeyNeeds(
        unseals=("implementing_bodies",),
        links=("implementing_bodies",),
        why="opens what the hub sealed for the other implementing bodies; never sends a number to the hub",
    ),
    "adapter-pension": KeyNeeds(seals_for=("hub",), why="seals dependants' numbers for the hub"),
    "simulator-jlis": KeyNeeds(links=("jlis",), why="its side of the J-LIS line"),
    "simulator-intermediate_server": KeyNeeds(
        links=("intermediate_server",), why="its side of the intermediate server's line"
    ),
    "simulator-eltax": KeyNeeds(links=("eltax",), why="its side of the eLTAX line"),
    "simulator-nta": KeyNeeds(links=("nta",), why="its side of the National Tax Agency's line"),
    "simulator-implementing_bodies": KeyNeeds(
        links=("implementing_bodies",), why="its side of the other implementing bodies' line"
    ),
    # Operator tools beside the hub: retention and re-wrap (vault), resolving and re-sealing holds (the
    # hub's own sealed values, opened and sealed again under the hub's current key).
    "operator": KeyNeeds(
        vault=True,
        seals_for=("hub",),
        unseals=("hub",),
        why="retention, re-wrap, key retirement; resolves and re-seals holds (sealed for the hub)",
    ),
    # The console reveals a dead letter's number only when it was sealed for the hub. A number sealed for a
    # counterpart's adapter opens with that adapter's private key alone, which never leaves the adapter.
    "console": KeyNeeds(
        vault=True,
        unseals=("hub",),
        why="tokens and member scope (vault); reveals a dead letter's number sealed for the hub, no other",
    ),
}
"""Which keys each service holds; everything not listed here it does not get."""


def required_names(service: ServiceName) -> frozenset[KeyName]:
    """The keys ``service``'s keyring must hold."""
    needs = KEY_NEEDS[service]
    names = {KeyName(k) for k in VAULT_KINDS} if needs.vault else set()
    names |= {KeyName(KeyKind.SEAL_PUBLIC, r) for r in needs.seals_for}
    names |= {KeyName(KeyKind.SEAL_PRIVATE, r) for r in needs.unseals}
    names |= {KeyName(KeyKind.LINK, c) for c in needs.links}
    return frozenset(names)


def allowed_names(service: ServiceName) -> frozenset[KeyName]:
    """The keys ``service``'s keyring may hold: what it must, and its v1 keys (migration window)."""
    return required_names(service) | {KeyName(KeyKind.SEAL_V1, r) for r in KEY_NEEDS[service].unseals}


def cut(keyring: Keyring, service: ServiceName) -> Keyring:
    """``service``'s keyring, cut from a deployment's ``keyring``: exactly what :data:`KEY_NEEDS` names.

    Raises:
        ConfigurationError: the deployment's keyring lacks a key the service needs.
    """
    keys: dict[KeyName, KeySeries] = {}
    for name in sorted(allowed_names(service)):
        series = keyring.get(name)
        if series is not None:
            keys[name] = series
        elif name.kind is not KeyKind.SEAL_V1:
            raise ConfigurationError(f"no {name} key to give {service}: {_remedy([name])}")
    return Keyring(keys, service, keyring.retired)


def check_keyring(keyring: Keyring, service: ServiceName) -> Keyring:
    """Return ``keyring`` if it is ``service``'s and holds what it needs and nothing else.

    Raises:
        ConfigurationError: it names another service, holds a key ``service`` must not hold (named, with its
            key id), or lacks one it needs.
    """
    if keyring.service is not None and keyring.service != service:
        raise ConfigurationError(f"the keyring given to {service} is the keyring of {keyring.service}")
    extra = [name for name in keyring.names() if name not in allowed_names(service)]
    if extra:
        listed = ", ".join(
            f"{name} ({', '.join(v.key_id for v in keyring.keys[name].versions)})" for name in extra
        )
        raise ConfigurationError(
            f"the keyring of {service} holds {listed}, which {service} must not hold, so it refuses to "
            f"start; remove {'it' if len(extra) == 1 else 'them'} (`renkei keys init` writes each service "
            "only its own keys)"
        )
    missing = sorted(required_names(service) - set(keyring.names()))
    if missing:
        raise ConfigurationError(
            f"{service}'s keyring holds no {', '.join(map(str, missing))} key: {_remedy(missing)}"
        )
    return keyring


def _remedy(missing: Iterable[KeyName]) -> str:
    """What to run for keys a keyring lacks: a new recipient's or counterpart's are added by rotation."""
    names = list(missing)
    seal = [n.owner for n in names if n.kind in {KeyKind.SEAL_PRIVATE, KeyKind.SEAL_PUBLIC}]
    link = [n.owner for n in names if n.kind is KeyKind.LINK]
    if not (seal or link):
        return "run `renkei keys init`"
    options = " ".join([*(f"--seal {r}" for r in dict.fromkeys(seal)), *(f"--link {c}" for c in link)])
    return (
        f"run `renkei keys rotate --no-kek {options}` (a recipient added since the keys were made gets its "
        "first keys), or `renkei keys init` for a new deployment"
    )


def assemble(keyrings: Iterable[Keyring]) -> Keyring:
    """A deployment's keyring from services' keyrings: every version any of them holds, none retired.

    Merging by version makes ``renkei keys`` resumable: after a crash halfway through writing the services'
    keyrings, a version that reached some of them is found and written to the others; a version retired
    from some of them (its id is in their ``retired`` list) is dropped from all.

    Raises:
        ConfigurationError: two keyrings hold different keys under one version (they are not one
            deployment's).
    """
    rings = list(keyrings)
    retired = frozenset().union(*(r.retired for r in rings)) if rings else frozenset()
    merged: dict[KeyName, dict[int, KeyVersion]] = {}
    for ring in rings:
        for name, version in ring.key_ids():
            if name.kind is KeyKind.SEAL_PUBLIC:
                continue  # derived from the private key, when some keyring holds it (checked below)
            slot = merged.setdefault(name, {})
            held = slot.get(version.version)
            if held is not None and held != version:
                raise ConfigurationError(
                    f"two keyrings hold different {name} keys as version {version.version}: they are not "
                    "one deployment's"
                )
            slot[version.version] = version
    keys: dict[KeyName, KeySeries] = {}
    for name, versions in merged.items():
        kept = tuple(v for _, v in sorted(versions.items()) if v.key_id not in retired)
        if kept:
            keys[name] = KeySeries(str(name), kept)
    whole = Keyring(keys, None, retired)
    for ring in rings:  # a public key held without its private key (a host with adapters only)
        for name in ring.names():
            if name.kind is KeyKind.SEAL_PUBLIC and whole.get(name) is None:
                whole = whole.with_series(name, ring.keys[name])
    return whole


KEY_TABLE_BEGIN: Final = "<!-- keys:begin -->"
KEY_TABLE_END: Final = "<!-- keys:end -->"


def _cell(names: Iterable[str]) -> str:
    listed = [f"`{n}`" for n in names]
    return ", ".join(listed) if listed else "—"


def key_table_markdown() -> str:
    """The table of which service holds which key, as Markdown (from :data:`KEY_NEEDS`)."""
    lines = [
        "| service | vault keys | opens numbers sealed for (private key; and v1 key, migration window) | "
        "seals for (public key) | link keys | why |",
        "|---|---|---|---|---|---|",
    ]
    for service in SERVICE_NAMES:
        needs = KEY_NEEDS[service]
        vault = _cell(k.value for k in VAULT_KINDS) if needs.vault else "—"
        lines.append(
            f"| `{service}` | {vault} | {_cell(needs.unseals)} | {_cell(needs.seals_for)} | "
            f"{_cell(needs.links)} | {needs.why} |"
        )
    return "\n".join(lines)


def with_key_table(document: str) -> str:
    """``document`` with the text between the key-table markers replaced by :func:`key_table_markdown`.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    start, end = document.find(KEY_TABLE_BEGIN), document.find(KEY_TABLE_END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {KEY_TABLE_BEGIN} ... {KEY_TABLE_END} section")
    head = document[: start + len(KEY_TABLE_BEGIN)]
    return f"{head}\n{key_table_markdown()}\n{document[end:]}"

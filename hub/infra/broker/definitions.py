"""The broker's definitions document: renkei's topology plus one least-privilege user per process.

:func:`definitions` turns the topology of :mod:`hub.infra.broker.topology` into a RabbitMQ definitions
document (JSON, the format of ``rabbitmqctl export_definitions``), importable with ``rabbitmqctl
import_definitions``, the management API's ``POST /api/definitions`` or ``load_definitions`` at boot. It holds
one virtual host, every exchange, quorum queue (with its arguments) and binding, and one user per process
kind, each allowed only its own queues and exchanges:

============================ ==================================== ======================================
user (``{prefix}-`` + role)  reads (consumes)                     writes (publishes to)
============================ ==================================== ======================================
``hub``                      ``{p}.hub.ingress``,                 ``{p}.route``, ``{p}.ingress``,
                             ``{p}.dead_letter``                  ``{p}.dead``, ``{p}.retry.*``
``adapter-<a>``              ``{p}.adapter.<a>`` (and, for a      ``{p}.ingress``, ``{p}.dead``,
                             counterpart, its ``.inbound`` link)  ``{p}.retry.*`` (``{p}.counterpart``)
``simulator-<c>``            ``{p}.counterpart.<c>.outbound``     ``{p}.counterpart``, ``{p}.dead``,
                                                                  ``{p}.retry.*``
``console``                  nothing                              ``{p}.ingress``, ``{p}.route``,
                                                                  ``{p}.counterpart`` (replays)
``operator``                 everything under ``{p}.``            everything under ``{p}.``
============================ ==================================== ======================================

Each user's *read* permission is exactly the queues its process consumes (:func:`consumed_queues`), and
its *write* permission the exchanges it publishes to; ``tests/integration/test_broker_definitions.py``
checks both against what the composition roots really consume and publish. The console consumes nothing:
it looks up queue depths (passive declarations) and replays dead letters, which go only to the exchange of
the queue the hub computes for the message type (:class:`~hub.core.runtime.senders.ReplayRoutes`).

Only ``operator`` may *configure* (declare or delete) anything: the topology comes from this document or
from ``renkei topology apply`` run as the operator, never from a worker, so a compromised worker cannot
delete or purge another process's queue. Dead-lettering and the retry tiers' expiry are done by the broker
itself and need no permission. A passive declaration (the queue-depth look-up) needs none either.

Passwords are stored the way RabbitMQ stores them (``rabbit_password_hashing_sha256``: base64 of a 4-byte
salt followed by SHA-256(salt + UTF-8 password)); :func:`hash_password` makes such a hash. A user given
``None`` gets an empty hash, which RabbitMQ never accepts for a password login (such a user can still
log in with a client certificate where ``rabbitmq_auth_mechanism_ssl`` is enabled).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from contracts.errors import ConfigurationError
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, Names, renkei_topology
from hub.settings import RetrySettings

__all__ = [
    "DEFAULT_VHOST",
    "HASHING_ALGORITHM",
    "BrokerUser",
    "broker_users",
    "consumed_queues",
    "definitions",
    "hash_password",
    "password_matches",
]

HASHING_ALGORITHM: Final = "rabbit_password_hashing_sha256"
DEFAULT_VHOST: Final = "renkei"
NOTHING: Final = "^$"
"""A permission regex that matches no resource name."""

_SALT_BYTES = 4
_HASH_BYTES = _SALT_BYTES + hashlib.sha256().digest_size
_RETRY_TIERS = r"retry\.[0-9]+ms"


@dataclass(frozen=True, slots=True)
class BrokerUser:
    """One broker user and the RabbitMQ permissions it gets in renkei's virtual host.

    Attributes:
        role: ``hub``, ``adapter-<name>``, ``simulator-<counterpart>``, ``console`` or ``operator``.
        name: the user name, ``{prefix}-{role}``.
        configure: regex of the resources it may declare or delete.
        write: regex of the exchanges it may publish to (and queues it may bind).
        read: regex of the queues it may consume (and exchanges it may bind from).
    """

    role: str
    name: str
    configure: str
    write: str
    read: str


def consumed_queues(prefix: str, role: str) -> tuple[str, ...]:
    """The queues the process of ``role`` consumes: its read permission, and nothing more.

    Raises:
        ConfigurationError: an unknown role or prefix.
    """
    names = Names(prefix)
    if role == "hub":  # its worker, and the dead-letter consumer that keeps what fails for operators
        return (names.ingress_queue, names.dead_letter_queue)
    if role.startswith("adapter-") and role.removeprefix("adapter-") in ADAPTERS:
        adapter = role.removeprefix("adapter-")
        link = (names.counterpart_queue(adapter, "inbound"),) if adapter in COUNTERPARTS else ()
        return (names.adapter_queue(adapter), *link)
    if role.startswith("simulator-") and role.removeprefix("simulator-") in COUNTERPARTS:
        return (names.counterpart_queue(role.removeprefix("simulator-"), "outbound"),)
    if role == "operator":
        return ()  # it reads everything under the prefix, but runs no consumer
    if role == "console":
        return ()  # queue depths are passive declarations; replays publish
    raise ConfigurationError(f"unknown broker role {role!r}")


def broker_users(prefix: str) -> tuple[BrokerUser, ...]:
    """Every user of renkei's broker for ``prefix``, with its permissions.

    Raises:
        ConfigurationError: the prefix is not a valid exchange prefix.
    """
    names = Names(prefix)
    p = re.escape(prefix)

    def only(*parts: str) -> str:
        # Anchored at both ends: RabbitMQ matches permission regexes anywhere in the name otherwise.
        return rf"^{p}\.(?:{'|'.join(parts)})$"

    def reads(role: str) -> str:
        return only(*(_suffix(names, queue) for queue in consumed_queues(prefix, role)))

    users = [_user(prefix, "hub", write=only("route", "ingress", "dead", _RETRY_TIERS), read=reads("hub"))]
    for adapter in ADAPTERS:
        writes = ["ingress", "dead", _RETRY_TIERS]
        if adapter in COUNTERPARTS:  # the adapter also answers its counterpart's link
            writes.insert(1, "counterpart")
        role = f"adapter-{adapter}"
        users.append(_user(prefix, role, write=only(*writes), read=reads(role)))
    for counterpart in COUNTERPARTS:
        role = f"simulator-{counterpart}"
        users.append(_user(prefix, role, write=only("counterpart", "dead", _RETRY_TIERS), read=reads(role)))
    # The console replays dead letters through the exchanges of their types' own queues (ReplayRoutes).
    users.append(_user(prefix, "console", write=only("ingress", "route", "counterpart"), read=NOTHING))
    everything = rf"^{p}\..*$"
    users.append(BrokerUser("operator", f"{prefix}-operator", everything, everything, everything))
    return tuple(users)


def definitions(
    prefix: str,
    retry: RetrySettings,
    users: Mapping[str, str | None],
    *,
    vhost: str = DEFAULT_VHOST,
) -> dict[str, Any]:
    """The definitions document of renkei's broker.

    Args:
        prefix: ``Settings.exchange_prefix``.
        retry: the retry settings (they decide the retry tiers and every work queue's delivery limit).
        users: password hash (see :func:`hash_password`) or ``None`` by user name (``{prefix}-{role}``,
            see :func:`broker_users`). Every user is always defined; one missing here, or ``None``,
            gets no usable password.
        vhost: the virtual host everything lives in (created by the import).

    Raises:
        ConfigurationError: an unknown user, a value that is not a RabbitMQ password hash (a plain
            password, for instance), an empty virtual host name, or invalid topology settings.
    """
    if not vhost:
        raise ConfigurationError("the virtual host name must not be empty")
    topology = renkei_topology(prefix, retry)
    known = broker_users(prefix)
    unknown = sorted(set(users) - {user.name for user in known})
    if unknown:
        raise ConfigurationError(
            f"unknown broker users {', '.join(unknown)}; known: {', '.join(u.name for u in known)}"
        )
    return {
        "users": [
            {
                "name": user.name,
                "password_hash": _checked_hash(user.name, users.get(user.name)),
                "hashing_algorithm": HASHING_ALGORITHM,
                "tags": [],
                "limits": {},
            }
            for user in known
        ],
        "vhosts": [{"name": vhost, "limits": [], "metadata": {"description": "renkei", "tags": []}}],
        "permissions": [
            {"user": u.name, "vhost": vhost, "configure": u.configure, "write": u.write, "read": u.read}
            for u in known
        ],
        "topic_permissions": [],
        "parameters": [],
        "global_parameters": [],
        "policies": [],
        "exchanges": [
            {
                "name": exchange.name,
                "vhost": vhost,
                "type": exchange.type,
                "durable": True,
                "auto_delete": False,
                "internal": False,
                "arguments": {},
            }
            for exchange in topology.exchanges
        ],
        "queues": [
            {
                "name": queue.name,
                "vhost": vhost,
                "durable": True,
                "auto_delete": False,
                "arguments": dict(queue.arguments),
            }
            for queue in topology.queues
        ],
        "bindings": [
            {
                "source": exchange,
                "vhost": vhost,
                "destination": queue.name,
                "destination_type": "queue",
                "routing_key": routing_key,
                "arguments": {},
            }
            for queue in topology.queues
            for exchange, routing_key in queue.bindings
        ],
    }


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Hash ``password`` the way RabbitMQ stores it (``rabbit_password_hashing_sha256``).

    Args:
        password: the password (UTF-8 encoded before hashing).
        salt: 4 bytes; random when omitted (tests pass one to get a fixed hash).

    Raises:
        ConfigurationError: an empty password or a salt that is not 4 bytes.
    """
    if not password:
        raise ConfigurationError("a broker password must not be empty")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    if len(salt) != _SALT_BYTES:
        raise ConfigurationError(f"the salt must be {_SALT_BYTES} bytes")
    digest = hashlib.sha256(salt + password.encode("utf-8")).digest()
    return base64.b64encode(salt + digest).decode("ascii")


def password_matches(password: str, password_hash: str) -> bool:
    """Tell whether ``password`` is the one ``password_hash`` (from :func:`hash_password`) was made from."""
    raw = _decoded(password_hash)
    if raw is None:
        return False
    salt, digest = raw[:_SALT_BYTES], raw[_SALT_BYTES:]
    return hmac.compare_digest(digest, hashlib.sha256(salt + password.encode("utf-8")).digest())


def _user(prefix: str, role: str, *, write: str, read: str) -> BrokerUser:
    return BrokerUser(role, f"{prefix}-{role}", configure=NOTHING, write=write, read=read)


def _suffix(names: Names, resource: str) -> str:
    # The regex fragment of a resource name after "{prefix}.".
    return re.escape(resource.removeprefix(f"{names.prefix}."))


def _checked_hash(user: str, password_hash: str | None) -> str:
    if password_hash is None:
        return ""
    if _decoded(password_hash) is None:
        # Most likely a plain password passed by mistake: never write it into the document.
        raise ConfigurationError(
            f"the password of broker user {user} is not a {HASHING_ALGORITHM} hash; use hash_password()"
        )
    return password_hash


def _decoded(password_hash: str) -> bytes | None:
    try:
        raw = base64.b64decode(password_hash, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == _HASH_BYTES else None

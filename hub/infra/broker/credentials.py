"""Broker log-in per service: the AMQP addresses with a service's own user and password.

Every renkei service has a broker user of its own, ``{prefix}-{service}`` (:func:`broker_users
<hub.infra.broker.definitions.broker_users>`: ``hub``, ``adapter-<name>``, ``simulator-<counterpart>``,
``console``, ``operator``), allowed only its own queues and exchanges. A composition root asks
:func:`broker_login` for its service's log-in and gives the addresses and the user to the transport it
builds::

    login = broker_login(settings, "adapter-jlis")
    transport = PikaTransport(login.addresses, connection_name="renkei-adapter-jlis", user=login.user)

Where the password comes from (``Settings.broker_identity``, ``Settings.broker``):

* **per_service** (the default), development: a password generated on first use under
  ``<data_dir>/broker/<service>.password`` (directory 0700, file 0600, never overwritten); ``renkei demo``,
  ``renkei run`` and ``renkei topology users apply`` create the users in the broker with those passwords
  (:mod:`hub.bootstrap.broker_identity`).
* **per_service**, production: ``RENKEI_BROKER_PASSWORD_FILE`` (``{service}`` in it is replaced by the service
  name), owner-only; without it, the AMQP URL's own credentials, which must then name the service's user.
* **shared** (an explicit opt-out, development and tests only): the AMQP URL's own credentials, unchanged,
  for every service (``guest`` on a development broker). Nothing is proven; the hub checks envelope claims
  only.

The addresses hold the password: never log them (:class:`BrokerLogin` hides them from ``repr``).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from contracts.errors import ConfigurationError
from hub.core.runtime.retry import Exchanges
from hub.core.runtime.senders import ReplayRoutes, SenderIdentities, load_sender_table
from hub.infra.broker.definitions import broker_users
from hub.settings import BrokerIdentity, Environment, Settings

__all__ = [
    "BrokerLogin",
    "broker_login",
    "password_path",
    "replay_routes",
    "sender_identities",
    "service_password",
    "services",
    "url_user",
    "url_vhost",
]

_PASSWORD_BYTES = 32


@dataclass(frozen=True, slots=True)
class BrokerLogin:
    """How one service logs in to the broker.

    Attributes:
        service: the service (role) name, e.g. ``adapter-jlis``.
        user: the broker user it connects as, stamped as AMQP ``user_id`` on everything it publishes.
        addresses: the AMQP URLs in order of preference, with the user and password in them (secret).
        shared: whether this is the shared development log-in (no sender is proven).
    """

    service: str
    user: str
    addresses: tuple[str, ...] = field(repr=False)
    shared: bool = False


def services(settings: Settings) -> tuple[str, ...]:
    """Every service (role) that has a broker user under the settings' prefix."""
    return tuple(user.role for user in broker_users(settings.exchange_prefix))


def broker_login(settings: Settings, service: str) -> BrokerLogin:
    """The log-in of ``service`` (``hub``, ``adapter-jlis``, ..., ``operator``).

    Development with per-service users generates the service's password on first use.

    Raises:
        ConfigurationError: an unknown service; a password file that is missing, empty or open to
            others; or, in production without a password file, an AMQP URL naming another user.
    """
    _known(settings, service)
    if settings.broker_identity is BrokerIdentity.SHARED:
        addresses = settings.amqp_addresses
        return BrokerLogin(service, url_user(addresses[0]), addresses, shared=True)
    user = f"{settings.exchange_prefix}-{service}"
    if settings.environment is Environment.PRODUCTION and not settings.broker.password_file:
        wrong = sorted({url_user(url) for url in settings.amqp_addresses} - {user})
        if wrong:
            raise ConfigurationError(
                f"the AMQP URL logs in as {', '.join(wrong)}, not as {user}: give {service} its own URL or "
                "set RENKEI_BROKER_PASSWORD_FILE"
            )
        return BrokerLogin(service, user, settings.amqp_addresses)
    password = service_password(settings, service)
    return BrokerLogin(
        service, user, tuple(_with_credentials(url, user, password) for url in settings.amqp_addresses)
    )


def service_password(settings: Settings, service: str, *, create: bool = True) -> str:
    """The broker password of ``service``: from the production password file, or the development one.

    Args:
        settings: the settings (environment, data directory, password file).
        service: the service (role) name.
        create: in development, generate the password when it does not exist yet.

    Raises:
        ConfigurationError: no password where one must be given, or a password file open to others.
    """
    _known(settings, service)
    configured = settings.broker.password_file
    if configured:
        return _read_password(Path(configured.replace("{service}", service)))
    if settings.environment is Environment.PRODUCTION:
        raise ConfigurationError(
            "production needs RENKEI_BROKER_PASSWORD_FILE: broker passwords are never generated there"
        )
    path = password_path(settings, service)
    if not path.exists():
        if not create:
            raise ConfigurationError(f"no broker password for {service} yet ({path})")
        _create_password(path)
    return _read_password(path)


def password_path(settings: Settings, service: str) -> Path:
    """Where development keeps the generated password of ``service``."""
    return settings.data_dir / "broker" / f"{service}.password"


def sender_identities(settings: Settings) -> SenderIdentities:
    """Which broker user is which service, for the hub's sender check.

    With shared log-in the users of the AMQP URLs are *shared*: a message from one proves no sender.
    """
    roles = load_sender_table().roles | set(services(settings))
    shared = (
        frozenset(url_user(url) for url in settings.amqp_addresses)
        if settings.broker_identity is BrokerIdentity.SHARED
        else frozenset()
    )
    return SenderIdentities(settings.exchange_prefix, frozenset(roles), shared)


def replay_routes(settings: Settings, exchanges: Exchanges) -> ReplayRoutes:
    """Where dead letters are replayed to, for the operator's tools (``renkei dlq``, the console)."""
    return ReplayRoutes(
        exchanges,
        settings.exchange_prefix,
        proven_senders=settings.broker_identity is BrokerIdentity.PER_SERVICE,
    )


def url_user(url: str) -> str:
    """The user an AMQP URL logs in as (``guest`` when it names none, as pika assumes)."""
    name = urlsplit(url).username
    return unquote(name) if name else "guest"


def url_vhost(url: str) -> str:
    """The virtual host of an AMQP URL (``/`` when it names none)."""
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _known(settings: Settings, service: str) -> None:
    known = services(settings)
    if service not in known:
        raise ConfigurationError(f"unknown broker service {service!r}; known: {', '.join(known)}")


def _create_password(path: Path) -> None:
    # Written in full under a private name, then linked into place: a process starting at the same moment
    # (`renkei run` of two services) sees no file or a whole one, never an empty one; the first link wins.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secrets.token_urlsafe(_PASSWORD_BYTES) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            os.link(draft, path)
    finally:
        draft.unlink(missing_ok=True)


def _read_password(path: Path) -> str:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read the broker password file {path}: {exc.strerror}") from None
    if os.name == "posix" and mode & 0o077:
        raise ConfigurationError(
            f"the broker password file {path} is open to others (mode {mode & 0o777:o}); chmod 600 it"
        )
    password = text.removesuffix("\n").removesuffix("\r")
    if not password:
        raise ConfigurationError(f"the broker password file {path} is empty")
    return password

"""Who the services are to the broker for one run: each its own user (created where development may), or one.

Every renkei service logs in to RabbitMQ as its own user, ``{prefix}-{service}``, allowed only its own
queues and exchanges (:mod:`hub.infra.broker.definitions`), and the hub believes only the sender the broker
proves. That is the default everywhere (``RENKEI_BROKER_IDENTITY`` unset), so that development runs the way
production does:

* **development, per-service**: :func:`establish_identity` imports the definitions document of ``renkei
  topology definitions`` (every service's user and least-privilege permissions, and the topology) into the
  broker, as production's ``broker-init`` does: one ``rabbitmqctl import_definitions`` on the broker's
  machine, or the management API with ``RENKEI_BROKER_MANAGEMENT_URL``; passwords are generated owner-only
  under ``<data_dir>/broker``. The topology is then declared (checked) as the operator
  (:func:`topology_declarer`), the only user that may. ``renkei demo`` does both for every
  service; each ``renkei run`` (and ``renkei console``) does both when it declares the topology at start.
* **development, default, where users cannot be created** (the broker belongs to another OS user and no
  management URL is set): the run falls back to the shared log-in with a warning that says why, so that a
  fresh machine still runs ``make demo`` with no manual step. Asking for ``per_service`` explicitly makes
  this an error instead.
* **shared** (``RENKEI_BROKER_IDENTITY=shared``): every service uses the AMQP URL's user (``guest``); the
  broker proves nobody. An explicit opt-out for development and tests; production refuses it.
* **production**: nothing is created here; a deploy job imports the definitions and declares the topology
  as the operator (``docs/deploy.md``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from contracts.errors import ConfigurationError, RenkeiError
from hub.infra.broker.users import BrokerAdmin, apply_definitions
from hub.infra.service_names import ServiceName
from hub.settings import BrokerIdentity, Environment, Settings

__all__ = ["IdentityInForce", "establish_identity", "topology_declarer", "with_identity"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IdentityInForce:
    """The broker identity a run uses, and how it came to be.

    Attributes:
        mode: per-service or shared.
        users_created: this run created or updated the services' broker users and permissions.
        fallback: why a development run uses the shared log-in although per-service is the default
            (``None`` when it does not).
    """

    mode: BrokerIdentity
    users_created: bool = False
    fallback: str | None = None

    def as_json(self, logins: dict[str, str] | None = None) -> dict[str, Any]:
        """The identity as reported by ``renkei demo --json`` (``logins``: broker user by service)."""
        return {
            "mode": self.mode.value,
            "users_created": self.users_created,
            "fallback": self.fallback,
            "users": dict(logins or {}),
        }

    def describe(self) -> str:
        """One line for people: the mode, and why when it is the fallback."""
        if self.mode is BrokerIdentity.PER_SERVICE:
            how = "users created or updated" if self.users_created else "users as they are in the broker"
            return f"per_service (every service its own broker user; {how})"
        if self.fallback:
            return f"shared (fallback: {self.fallback})"
        return "shared (every service logs in as the AMQP URL's user; no sender is proven)"


def with_identity(settings: Settings, mode: BrokerIdentity) -> Settings:
    """``settings`` with the broker identity set to ``mode`` (explicitly, for child processes too)."""
    return settings.model_copy(update={"broker": settings.broker.model_copy(update={"identity": mode})})


def establish_identity(
    settings: Settings, *, create_users: bool, admin: BrokerAdmin | None = None
) -> tuple[Settings, IdentityInForce]:
    """Settle the broker identity of a run; returns the settings to run with (identity set) and a report.

    Args:
        settings: the settings in force.
        create_users: create or update the broker users (development with per-service identity only; the
            demo always, ``renkei run`` when it declares the topology at start).
        admin: where to create them; default: the management API if configured, else ``rabbitmqctl``.

    Raises:
        ConfigurationError: per-service identity was asked for explicitly and the users could not be
            created (the message says what to do).
    """
    mode = settings.broker_identity
    if mode is BrokerIdentity.SHARED:
        return with_identity(settings, mode), IdentityInForce(mode)
    pinned = with_identity(settings, BrokerIdentity.PER_SERVICE)
    if settings.environment is Environment.PRODUCTION or not create_users:
        return pinned, IdentityInForce(BrokerIdentity.PER_SERVICE)
    try:
        apply_definitions(pinned, admin=admin)
    except (RenkeiError, OSError) as exc:
        reason = f"the broker users could not be created: {exc}"
        if settings.broker.identity is not None:
            raise ConfigurationError(
                f"{reason}. Run on the broker's machine as a user that may run rabbitmqctl (root or "
                "rabbitmq), set RENKEI_BROKER_MANAGEMENT_URL, or choose RENKEI_BROKER_IDENTITY=shared"
            ) from None
        log.warning(
            "per-service broker identity not possible here; every service logs in as the AMQP URL's user",
            extra={"error": type(exc).__name__},
        )
        return with_identity(settings, BrokerIdentity.SHARED), IdentityInForce(
            BrokerIdentity.SHARED, fallback=reason
        )
    return pinned, IdentityInForce(BrokerIdentity.PER_SERVICE, users_created=True)


def topology_declarer(settings: Settings, service: ServiceName) -> ServiceName:
    """The service whose connection declares the topology when ``service`` starts.

    In development with per-service identity the operator, the one broker user that may declare (its
    password lies beside the others' under the data directory); otherwise the service itself (shared
    identity: everyone is the same user; production: workers do not declare, a deploy job does).
    """
    development = settings.environment is Environment.DEVELOPMENT
    if development and settings.broker_identity is BrokerIdentity.PER_SERVICE:
        return "operator"
    return service

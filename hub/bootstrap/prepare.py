"""Getting the shared resources ready: the database schema and the broker topology (both idempotent).

In development every process prepares what it uses on start; in production a deploy job does it as the
operator (``declare_topology`` and ``migrate_on_start`` false), because least-privilege users may not.
"""

from __future__ import annotations

from sqlalchemy import Engine

from hub.bootstrap.transports import TransportFactory, transient
from hub.infra.broker.topology import apply_topology, renkei_topology
from hub.infra.db.migrate import upgrade
from hub.infra.service_names import ServiceName
from hub.settings import Settings

__all__ = ["declared_queues", "prepare_broker", "prepare_database"]


def prepare_database(engine: Engine) -> None:
    """Migrate the database to the newest schema."""
    upgrade(engine)


def prepare_broker(settings: Settings, transports: TransportFactory, service: ServiceName) -> None:
    """Declare the broker topology on a connection of ``service``, closed afterwards."""
    with transient(transports, service, "topology") as transport:
        apply_topology(transport, settings)


def declared_queues(settings: Settings) -> list[str]:
    """Names of every queue of the topology."""
    return [q.name for q in renkei_topology(settings.exchange_prefix, settings.retry).queues]

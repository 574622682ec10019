"""One benchmark phase's world: its own exchange prefix, data directory, hub and services, removed after.

Phases never share state: each gets a fresh prefix (so its queues start empty), a fresh data directory
under ``<data_dir>/bench`` (new development keys) and a fresh database: the embedded SQLite file by
default, whatever ``RENKEI_DB_URL`` says, or, given a PostgreSQL server, a scratch database created on it
for the phase and dropped afterwards (:mod:`hub.infra.db.scratch`). A benchmark never touches a database
that holds anything else.

Every service runs under its own broker user, as in production: the phase creates the users of its prefix
(one ``rabbitmqctl import_definitions``), declares the topology as the operator, starts the ``renkei run``
processes without preparing anything themselves, and deletes its users afterwards. Where users cannot be
created (see :mod:`hub.bootstrap.broker_identity`) the phase runs with the shared log-in, and the report
says so.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from contracts.ids import random_letters
from hub.bench.services import ServiceSet
from hub.bootstrap.broker_identity import IdentityInForce, establish_identity
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.infra.broker.teardown import delete_topology
from hub.infra.broker.topology import renkei_topology
from hub.infra.broker.users import delete_users
from hub.infra.db.scratch import scratch_database
from hub.ports.transport import Transport
from hub.settings import Settings

__all__ = ["Phase", "phase"]


@dataclass
class Phase:
    """What a phase works with."""

    name: str
    settings: Settings
    hub: LocalDeployment
    """Every role in this process (the services measured run as processes of their own)."""
    directory: Path
    services: ServiceSet
    admin: Transport
    """For queue look-ups (one connection for the whole phase)."""
    identity: IdentityInForce
    """The broker identity the phase runs under."""

    def consume_options(self) -> dict[str, float | int]:
        """The consumer settings of the project (prefetch, batch size, batch wait), for the bench's own."""
        s = self.settings
        return {"prefetch": s.prefetch, "batch_size": s.batch_size, "batch_wait_s": s.batch_wait_ms / 1000}

    def consumers(self, *queues: str) -> bool:
        """Whether every queue has at least one consumer."""
        return all(self.admin.queue_depth(queue)[1] >= 1 for queue in queues)


@contextmanager
def phase(
    settings: Settings, name: str, *, keep: bool = False, postgres: str | None = None
) -> Iterator[Phase]:
    """Set up a phase (database migrated, topology declared) and tear it down afterwards.

    Args:
        settings: the caller's settings; the phase changes the prefix, the data directory and the database.
        name: the phase's name, part of its prefix and directory.
        keep: keep the data directory (and its logs) for a look afterwards.
        postgres: a PostgreSQL server URL to measure on (a scratch database per phase) instead of SQLite.
    """
    prefix = f"{settings.exchange_prefix}-bench-{name}-{random_letters(6)}"
    with ExitStack() as scratch:
        # The database first: a server that refuses leaves nothing behind.
        db_url = (
            ""
            if postgres is None
            else scratch.enter_context(scratch_database(postgres, f"renkei_bench_{name}"))
        )
        base = settings.data_dir / "bench"
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base)).resolve()
        phase_settings, identity = establish_identity(
            settings.model_copy(update={"data_dir": directory, "exchange_prefix": prefix, "db_url": db_url}),
            create_users=True,
        )
        hub = local_deployment(phase_settings, configure_logs=False)
        # The phase prepares the broker (users above, topology as the operator): the services only run.
        quiet = phase_settings.model_copy(update={"declare_topology": False})
        services = ServiceSet(quiet, directory / "services")
        try:
            hub.prepare()
            admin = hub.transport("bench-admin")
            yield Phase(name, phase_settings, hub, directory, services, admin, identity)
        finally:
            try:
                services.stop()
            finally:
                hub.close()
                delete_topology(
                    phase_settings.amqp_addresses[0],
                    renkei_topology(prefix, phase_settings.retry),
                    connection_name=f"renkei-bench-{name}-teardown",
                )
                if identity.users_created:
                    delete_users(phase_settings)
                if not keep:
                    shutil.rmtree(directory, ignore_errors=True)

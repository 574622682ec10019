"""Several instances of a service side by side, on top of the fault suite's process harness.

:class:`tests.faults.harness.Deployment` runs one process per service. :class:`ScaledDeployment` adds more
hub workers and J-LIS adapters (``hub-2``, ``jlis-2``, ...) with the same settings, gives every process
the broker's addresses (``RENKEI_AMQP_URLS``), and, as in production, leaves migrating and declaring to
the test process (the "init job"): ``RENKEI_MIGRATE_ON_START`` and ``RENKEI_DECLARE_TOPOLOGY`` are false.

The pension adapter always runs once: its directory poller takes a request file without claiming it, so
two pollers would both read and publish the same file (the hub's inbox would drop the copies, but every
chunk would go through the broker twice) and the slower one's acknowledgement would fail on a file the
other already moved. One poller per exchange directory is also the production layout (docs/deploy.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import distinct, func, select

from hub.infra.broker.users import BrokerAdmin
from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.messaging import inbox
from hub.settings import Settings
from tests.faults.harness import Deployment, ServiceProcess, service_env

__all__ = ["ScaledDeployment", "instance_names"]


def instance_names(service: str, count: int) -> list[str]:
    """``hub``, ``hub-2``, ``hub-3`` ... for ``count`` instances of ``service``."""
    return [service if i == 1 else f"{service}-{i}" for i in range(1, count + 1)]


class ScaledDeployment(Deployment):
    """The survival flow with ``hubs`` hub workers and ``jlis`` J-LIS adapters (one pension adapter).

    Args:
        settings: the test's settings; ``amqp_urls`` lists every broker node when there are several.
        records: size of the population and the request file.
        log_dir: where each process's log goes.
        hubs: hub worker processes.
        jlis: J-LIS adapter processes.
        admin: where every service's own broker user is created (see :class:`Deployment`).
    """

    def __init__(
        self,
        settings: Settings,
        records: int,
        log_dir: Path,
        *,
        hubs: int = 2,
        jlis: int = 2,
        admin: BrokerAdmin | None = None,
    ) -> None:
        super().__init__(settings, records, log_dir, admin=admin)
        env = {
            **service_env(self.settings),
            "RENKEI_AMQP_URLS": ",".join(self.settings.amqp_addresses),
            "RENKEI_MIGRATE_ON_START": "false",
            "RENKEI_DECLARE_TOPOLOGY": "false",
        }
        base = dict(self.services)
        for service in base.values():
            service.env = env
        for name, count in (("hub", hubs), ("jlis", jlis)):
            for extra in instance_names(name, count)[1:]:
                self.services[extra] = ServiceProcess(extra, base[name].argv, env, log_dir)

    def start_all(self) -> None:
        """Start every process: hub workers first, then adapters, then the simulator."""
        self.start(*self.services)

    def names_of(self, service: str) -> Iterable[str]:
        """The process names of one service (``hub``, ``hub-2``, ...)."""
        return [n for n in self.services if n == service or n.startswith(f"{service}-")]

    def hub_actors(self) -> dict[str, int]:
        """Messages handled per hub worker (``received`` records by actor): who did the work."""
        with self.hub.engine.connect() as conn:
            rows = conn.execute(
                select(access_records.c.actor, func.count(distinct(access_records.c.message_id)))
                .where(access_records.c.action == "received", access_records.c.actor.like("hub:%"))
                .group_by(access_records.c.actor)
            ).all()
        return {str(actor): int(count) for actor, count in rows}

    def handled_without_received_record(self) -> list[str]:
        """Message ids in the hub's inbox with no ``received`` access record (must be none)."""
        with self.hub.engine.connect() as conn:
            handled = {
                str(r[0]) for r in conn.execute(select(inbox.c.message_id).where(inbox.c.consumer == "hub"))
            }
            received = {
                str(r[0])
                for r in conn.execute(
                    select(access_records.c.message_id).where(access_records.c.action == "received")
                )
            }
        return sorted(handled - received)

"""What every role derives from the settings alone, and the rule tables kept in the repository.

Topology names, retry policy and consumer options (:class:`Wiring`), body size limits, logs, the database
engine, units of work, the number policy and the legal-basis table.
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from sqlalchemy import Connection, Engine

from hub.core.body_limits import BodyLimits
from hub.core.failure import Exchanges, RetryPolicy
from hub.core.legal_basis import LegalBasisTable
from hub.core.policy import NumberPolicy
from hub.infra.audit_provision import SqlProvisionLog
from hub.infra.audit_sql import ChainWriter, SqlAuditLog
from hub.infra.codes_sql import SqlCodeStore
from hub.infra.crypto.bundles import VaultKeys
from hub.infra.db.engine import make_engine
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.logs import configure_logging_from
from hub.infra.private_files import private_data_dir
from hub.infra.runner import ServiceGroup
from hub.infra.topology import Names
from hub.infra.vault_memo import MemoisingVault
from hub.ports.transport import BatchHandler, Transport
from hub.settings import Settings

__all__ = [
    "ConsumerOptions",
    "Wiring",
    "body_limits",
    "configure_process_logs",
    "consume",
    "load_legal_basis_table",
    "load_policy",
    "open_database",
    "process_chain",
    "uow_factory",
]


@dataclass(frozen=True, slots=True)
class ConsumerOptions:
    """How every consumer of a role takes deliveries (from the settings)."""

    prefetch: int
    batch_size: int
    batch_wait_s: float


@dataclass(frozen=True, slots=True)
class Wiring:
    """Names, exchanges, retry policy and consumer options: the broker-facing settings every role shares."""

    names: Names
    exchanges: Exchanges
    retry: RetryPolicy
    consumer: ConsumerOptions

    @classmethod
    def of(cls, settings: Settings) -> Wiring:
        """The wiring the settings describe."""
        names = Names(settings.exchange_prefix)
        return cls(
            names=names,
            exchanges=Exchanges(
                ingress=names.ingress_exchange,
                route=names.route_exchange,
                counterpart=names.counterpart_exchange,
                dead=names.dead_letter_exchange,
                retry=names.retry_exchange,
            ),
            retry=RetryPolicy(settings.retry.max_attempts, settings.retry.delays_ms),
            consumer=ConsumerOptions(settings.prefetch, settings.batch_size, settings.batch_wait_ms / 1000),
        )


def consume(
    group: ServiceGroup, name: str, transport: Transport, queue: str, handler: BatchHandler, *, wiring: Wiring
) -> None:
    """Add a consumer of ``queue`` to ``group`` with the role's consumer options."""
    opts = wiring.consumer
    group.consume(
        name,
        transport,
        queue,
        handler,
        prefetch=opts.prefetch,
        batch_size=opts.batch_size,
        batch_wait_s=opts.batch_wait_s,
    )


def body_limits(settings: Settings) -> BodyLimits:
    """The body size limits of every consumer, from settings."""
    limits = settings.body_limit
    return BodyLimits(limits.default_bytes, MappingProxyType(dict(limits.per_type)), limits.kept_bytes)


def configure_process_logs(settings: Settings, *, stderr: bool = True) -> None:
    """Structured logs as the settings say (file, rotation, level, format); stderr unless told otherwise."""
    configure_logging_from(settings, stderr=stderr)


def open_database(settings: Settings) -> Engine:
    """The engine on the settings' database (the caller disposes of it); the data directory owner-only."""
    private_data_dir(settings.data_dir)
    return make_engine(settings.database_url)


def process_chain() -> ChainWriter:
    """This process's own hash chain of the access record (one writer per process)."""
    return ChainWriter(f"renkei pid {os.getpid()} on {socket.gethostname()}")


def uow_factory(engine: Engine, chain: ChainWriter, vault: VaultKeys | None) -> SqlUnitOfWorkFactory:
    """Units of work on ``engine`` writing access records to ``chain``.

    Without ``vault`` keys the units of work have no vault and no code store: using either fails closed.
    """

    def audit(conn: Connection) -> SqlAuditLog:
        return SqlAuditLog(conn, chain)

    def provisions(conn: Connection) -> SqlProvisionLog:
        return SqlProvisionLog(conn, chain)

    if vault is None:
        return SqlUnitOfWorkFactory(engine, None, audit, provisions_factory=provisions)

    def vault_of(conn: Connection) -> MemoisingVault:
        return MemoisingVault(conn, vault)

    def codes(conn: Connection) -> SqlCodeStore:
        return SqlCodeStore(conn, vault)

    return SqlUnitOfWorkFactory(engine, vault_of, audit, codes_factory=codes, provisions_factory=provisions)


def load_policy(path: Path | None = None) -> NumberPolicy:
    """Load the number policy kept in the repository (``hub/number_policy.toml``)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("hub").joinpath("number_policy.toml").read_text(encoding="utf-8")
    )
    return NumberPolicy.from_mapping(tomllib.loads(text))


def load_legal_basis_table(path: Path | None = None) -> LegalBasisTable:
    """Load the legal-basis table of the information-provision network (``hub/legal_basis_table.toml``)."""
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("hub").joinpath("legal_basis_table.toml").read_text(encoding="utf-8")
    )
    return LegalBasisTable.from_mapping(tomllib.loads(text))

"""What every role derives from the settings alone, and the rule tables kept in the repository.

Topology names, retry policy and consumer options (:class:`Wiring`), body size limits, logs, the database
engine, units of work, the number policy and the legal-basis table.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from sqlalchemy import Connection, Engine

from contracts.purpose_table import PurposeTable, default_table, load_table
from hub.core.operator.approvals import ApprovalPolicy
from hub.core.rules.legal_basis import LegalBasisTable
from hub.core.rules.policy import NumberPolicy
from hub.core.runtime.body_limits import BodyLimits
from hub.core.runtime.retry import Exchanges, RetryPolicy
from hub.infra.audit.provision import SqlProvisionLog
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.broker.topology import Names
from hub.infra.db.engine import make_engine
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.bundles import VaultKeys
from hub.infra.observability.logs import configure_logging_from
from hub.infra.private_files import private_data_dir
from hub.infra.runner import ServiceGroup
from hub.infra.stores.codes import SqlCodeStore
from hub.infra.vault.memo import MemoisingVault
from hub.ports.transport import BatchHandler, Transport
from hub.settings import Settings

__all__ = [
    "ConsumerOptions",
    "Wiring",
    "approval_policy",
    "body_limits",
    "configure_process_logs",
    "consume",
    "load_legal_basis_table",
    "load_policy",
    "load_purposes",
    "open_database",
    "process_chain",
    "spec_named",
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


def load_purposes(path: Path | None = None) -> PurposeTable:
    """Load the purpose table kept in the repository (``contracts/purpose_table.toml``), or ``path``."""
    return default_table() if path is None else load_table(path)


_Spec = TypeVar("_Spec")


def spec_named(specs: Mapping[str, _Spec], name: str, kind: str) -> _Spec:
    """The spec of the ``kind`` (adapter, simulator) called ``name`` in its table.

    Raises:
        ValueError: there is no such ``kind``; the message lists the names there are.
    """
    try:
        return specs[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(specs)}") from None


def approval_policy(settings: Settings) -> ApprovalPolicy:
    """The four-eyes policy of the settings: how long a request stays open, how many reveals a day."""
    return ApprovalPolicy.of(settings.approval.ttl_minutes, settings.approval.reveals_per_day)


def load_policy(path: Path | None = None) -> NumberPolicy:
    """The number policy: the purpose table's uses that carry a number."""
    return NumberPolicy.from_table(load_purposes(path))


def load_legal_basis_table(path: Path | None = None) -> LegalBasisTable:
    """The legal-basis table of the information-provision network: the purpose table's network rows."""
    return LegalBasisTable.from_mapping(load_purposes(path).data)

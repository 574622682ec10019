"""The hub worker's composition root: ingress consumer, outbox relay, dead-letter consumer, metrics sampler.

It holds the hub's keys alone (:class:`~hub.infra.keys.service_keys.HubKeys`: the vault, sealing for the
counterparts' adapters, opening what was sealed for the hub) and connects to the broker as ``hub``.

Audit checkpoints are signed here only when the settings name a signing key (``audit_signing_key_file``),
or in development, where one is generated as before; otherwise the separate ``renkei audit checkpoint`` job,
run where the signing key is kept, signs them. The worker logs which of the two it is when it starts.
"""

from __future__ import annotations

import logging
import os

from sqlalchemy import Engine

from hub.bootstrap.common import (
    Wiring,
    body_limits,
    consume,
    load_legal_basis_table,
    load_policy,
    load_purposes,
    process_chain,
    uow_factory,
)
from hub.bootstrap.transports import TransportFactory
from hub.core.runtime.dead_letter_consumer import DeadLetterConfig, DeadLetterConsumer
from hub.core.runtime.routing import HANDLERS
from hub.core.runtime.worker import HubWorker, WorkerDeps
from hub.infra.audit.checkpoint import Checkpointer, CheckpointSigner
from hub.infra.broker.credentials import sender_identities
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.infra.crypto.signing import Ed25519Signer, load_signer, signer_from_settings
from hub.infra.keys.service_keys import HubKeys
from hub.infra.observability.metrics_sampler import MetricsSampler
from hub.infra.runner import ServiceGroup
from hub.ports.transport import Transport
from hub.settings import Environment, Settings

__all__ = ["CHECKPOINT_INTERVAL_S", "OUTBOX_RELAY_INTERVAL_S", "HubWorkerRoot", "worker_checkpoint_signer"]

log = logging.getLogger(__name__)

OUTBOX_RELAY_INTERVAL_S = 5.0
CHECKPOINT_INTERVAL_S = 10.0


def worker_checkpoint_signer(settings: Settings) -> Ed25519Signer | None:
    """The key the hub worker signs audit checkpoints with, or ``None`` when the checkpoint job does it.

    Raises:
        ConfigurationError: the named key is missing or unusable.
    """
    if settings.audit_signing_key_file is not None:
        return load_signer(settings.audit_signing_key_file)
    if settings.environment is Environment.DEVELOPMENT:
        return signer_from_settings(settings)  # generated on first run, as every development key
    return None


class HubWorkerRoot:
    """Builds the hub worker's parts from its settings, its keys, its transports and its database.

    Args:
        settings: the settings in force.
        keys: the hub's key bundles.
        transports: makes the hub's connections (service ``hub``).
        engine: the hub's database (the caller disposes of it).
        signer: the checkpoint signing key, or ``None`` when ``renkei audit checkpoint`` signs them
            (see :func:`worker_checkpoint_signer`).
    """

    def __init__(
        self,
        settings: Settings,
        keys: HubKeys,
        transports: TransportFactory,
        *,
        engine: Engine,
        signer: CheckpointSigner | None,
    ) -> None:
        self.settings = settings
        self.wiring = Wiring.of(settings)
        self.engine = engine
        self.chain = process_chain()
        self.uow_factory = uow_factory(engine, self.chain, keys.vault)
        self.checkpointer = Checkpointer(engine, signer, [self.chain]) if signer is not None else None
        self._signer = signer
        self._sealer = HpkeSealer(keys.sealing)
        self._unsealer = HpkeUnsealer(keys.unsealing)
        self._transports = transports
        self._purposes = load_purposes()
        self._policy = load_policy()
        self._legal_basis = load_legal_basis_table()
        self._identities = sender_identities(settings)
        self._body_limits = body_limits(settings)

    def worker(self, transport: Transport, actor: str | None = None) -> HubWorker:
        """The ingress consumer, publishing on ``transport``."""
        return HubWorker(
            WorkerDeps(
                uow_factory=self.uow_factory,
                transport=transport,
                sealer=self._sealer,
                unsealer=self._unsealer,
                policy=self._policy,
                exchanges=self.wiring.exchanges,
                retry=self.wiring.retry,
                handlers=HANDLERS,
                actor=actor or f"hub:{os.getpid()}",
                identities=self._identities,
                after_commit=self.checkpointer.maybe_checkpoint if self.checkpointer else None,
                legal_basis=self._legal_basis,
                body_limits=self._body_limits,
                purposes=self._purposes,
            )
        )

    def dead_letter_consumer(self, actor: str | None = None) -> DeadLetterConsumer:
        """The consumer that keeps what reaches the dead-letter queue in the dead-letter store."""
        names = self.wiring.names
        config = DeadLetterConfig(
            hub_queue=names.ingress_queue,
            queue_prefix=names.prefix,
            delivery_limit=self.settings.retry.delivery_limit,
            identities=self._identities,
            body_limits=self._body_limits,
        )
        return DeadLetterConsumer(self.uow_factory, config, actor=actor or f"hub:dead-letters:{os.getpid()}")

    def services(self, group: ServiceGroup | None = None) -> ServiceGroup:
        """The hub worker's threads, added to ``group`` (which closes their transports at shutdown)."""
        group = group or ServiceGroup()
        wiring, names = self.wiring, self.wiring.names
        ingress = group.own(self._transports("hub", "ingress"))
        worker = self.worker(ingress)
        consume(group, "hub", ingress, names.ingress_queue, worker, wiring=wiring)
        group.every("outbox-relay", OUTBOX_RELAY_INTERVAL_S, worker.relay_pending)
        dead = group.own(self._transports("hub", "dead-letters"))
        consume(
            group, "dead-letters", dead, names.dead_letter_queue, self.dead_letter_consumer(), wiring=wiring
        )
        if self.checkpointer is not None and self._signer is not None:
            group.every("audit-checkpoint", CHECKPOINT_INTERVAL_S, self.checkpointer.maybe_checkpoint)
            log.info(
                "audit checkpoints are signed by this hub worker",
                extra={"key_id": self._signer.key_id},
            )
        else:
            log.info(
                "audit checkpoints are not signed here: run `renkei audit checkpoint` where the signing "
                "key is kept (RENKEI_AUDIT_SIGNING_KEY_FILE names none for this worker)"
            )
        metrics = group.own(self._transports("hub", "metrics"))
        sampler = MetricsSampler(self.engine, names, queue_depth=metrics.queue_depth)
        group.every("metrics-sampler", self.settings.console.sample_interval_s, sampler.sample)
        return group

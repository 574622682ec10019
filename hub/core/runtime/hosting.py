"""Hosts that run adapters and simulators on the transport.

Adapters and simulators are pure translators (:mod:`contracts.link`); these hosts consume their queues,
call them, publish what they produce with confirms, and settle each delivery by the ack policy; a body
over its type's size limit is dead-lettered unread (:mod:`hub.core.runtime.body_limits`). A host
keeps no state of its own: idempotency comes from deterministic message ids and file names downstream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from contracts.errors import PermanentError, TransientError
from contracts.link import Adapter, AdapterOutput, CounterpartFile, PollingAdapter, Simulator
from contracts.registry import decode
from hub.core.runtime.body_limits import BodyLimits
from hub.core.runtime.retry import Exchanges, RetryPolicy, dead_letter_message, retry_message
from hub.core.runtime.routing import to_outgoing
from hub.ports.link import LinkCipher
from hub.ports.transport import Delivery, Disposition, OutgoingMessage, Transport

__all__ = ["AdapterHost", "DirectoryPoller", "HostDeps", "SimulatorHost", "counterpart_message"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HostDeps:
    """What every host needs."""

    transport: Transport
    exchanges: Exchanges
    retry: RetryPolicy
    link: LinkCipher
    body_limits: BodyLimits = field(default_factory=BodyLimits)


def counterpart_message(file: CounterpartFile, direction: str, deps: HostDeps) -> OutgoingMessage:
    """A counterpart file as an encrypted message on the link (``direction``: outbound or inbound)."""
    return OutgoingMessage(
        exchange=deps.exchanges.counterpart,
        routing_key=f"{file.counterpart}.{direction}",
        body=deps.link.protect(file),
        message_id=file.name,
        message_type=f"{file.counterpart}.file",
        correlation_id=file.correlation_id,
        content_type="application/octet-stream",
    )


def _settle(
    deliveries: Sequence[Delivery],
    work: Callable[[Delivery], list[OutgoingMessage]],
    deps: HostDeps,
    stage: str,
) -> list[Disposition]:
    """Run ``work`` per delivery, publish everything produced at once, and apply the ack policy."""
    dispositions = [Disposition.ACK] * len(deliveries)
    outgoing: list[OutgoingMessage] = []
    for index, delivery in enumerate(deliveries):
        context = {
            "message_id": delivery.message_id,
            "message_type": delivery.message_type,
            "correlation_id": delivery.correlation_id,
            "stage": stage,
        }
        try:
            if (too_large := deps.body_limits.check(delivery)) is not None:
                raise too_large  # noqa: TRY301 - dead-lettered like any permanent failure, unread
            outgoing.extend(work(delivery))
        except PermanentError as exc:
            log.warning("dead-lettered", extra={**context, "reason": exc.code})
            outgoing.append(dead_letter_message(delivery, exc, stage=stage, exchanges=deps.exchanges))
        except TransientError as exc:
            copy = retry_message(delivery, exc, policy=deps.retry, exchanges=deps.exchanges)
            log.warning("retry scheduled", extra={**context, "reason": exc.code, "exhausted": copy is None})
            outgoing.append(copy or dead_letter_message(delivery, exc, stage=stage, exchanges=deps.exchanges))
        except Exception:
            log.exception("crashed; the delivery is requeued", extra=context)
            dispositions[index] = Disposition.REQUEUE
    try:
        deps.transport.publish(outgoing)
    except TransientError as exc:
        log.warning("publish failed; the batch is requeued", extra={"reason": exc.code, "stage": stage})
        return [Disposition.REQUEUE] * len(deliveries)
    return dispositions


class AdapterHost:
    """Runs one adapter: messages from the hub and files from its counterpart."""

    def __init__(
        self, adapter: Adapter, deps: HostDeps, *, on_output: Callable[[AdapterOutput], None] | None = None
    ):
        self.adapter = adapter
        self._deps = deps
        self._on_output = on_output

    def _publishable(self, output: AdapterOutput) -> list[OutgoingMessage]:
        if self._on_output is not None:
            self._on_output(output)
        messages = [to_outgoing(env, self._deps.exchanges) for env in output.to_hub]
        messages += [counterpart_message(f, "outbound", self._deps) for f in output.to_counterpart]
        return messages

    def from_hub(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Handle a batch from the adapter's queue."""
        return _settle(
            deliveries,
            lambda d: self._publishable(self.adapter.from_hub(decode(d.body))),
            self._deps,
            f"{self.adapter.name}.from_hub",
        )

    def from_counterpart(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Handle a batch of files from the counterpart link."""
        return _settle(
            deliveries,
            lambda d: self._publishable(self.adapter.from_counterpart(self._deps.link.open(d.body))),
            self._deps,
            f"{self.adapter.name}.from_counterpart",
        )


class SimulatorHost:
    """Runs a simulated counterpart on the broker: files in, files out."""

    def __init__(self, simulator: Simulator, deps: HostDeps) -> None:
        self.simulator = simulator
        self._deps = deps

    def __call__(self, deliveries: Sequence[Delivery]) -> list[Disposition]:
        """Answer a batch of files from the adapter."""
        return _settle(
            deliveries,
            lambda d: [
                counterpart_message(answer, "inbound", self._deps)
                for answer in self.simulator.handle(self._deps.link.open(d.body))
            ],
            self._deps,
            f"{self.simulator.name}.simulator",
        )


class DirectoryPoller:
    """Takes complete files from a polling adapter's inbound directory and publishes them to the hub.

    A file is acknowledged (moved out of the inbound directory) only after every message made from it
    is confirmed by the broker; a crash in between publishes the same messages again, with the same
    deterministic ids, and the hub's inbox drops the duplicates.
    """

    def __init__(
        self, adapter: PollingAdapter, transport: Transport, exchanges: Exchanges, *, max_files: int = 10
    ):
        self.adapter = adapter
        self._transport = transport
        self._exchanges = exchanges
        self._max_files = max_files

    def poll_all(self) -> int:
        """Publish up to ``max_files`` complete files; returns how many were taken."""
        taken = 0
        while taken < self._max_files:
            polled = self.adapter.poll()
            if polled is None:
                break
            self._transport.publish([to_outgoing(env, self._exchanges) for env in polled.output.to_hub])
            self.adapter.acknowledge(polled.source)
            taken += 1
        return taken

"""The context the hub's worker gives a handler, for tests that drive handlers of a local deployment."""

from __future__ import annotations

from contracts.sealing import Sealer
from hub.core.flows.context import HandlerContext
from hub.core.rules.policy import NumberPolicy
from hub.demo.deployment import LocalDeployment
from hub.infra.crypto.sealing import HpkeSealer, HpkeUnsealer
from hub.ports.store import UnitOfWork

__all__ = ["handler_context"]


def handler_context(
    hub: LocalDeployment,
    uow: UnitOfWork,
    *,
    sealer: Sealer | None = None,
    policy: NumberPolicy | None = None,
    actor: str = "hub:test",
) -> HandlerContext:
    """``uow``'s context with the hub's own keys and policy (or the ``sealer`` and ``policy`` given)."""
    return HandlerContext(
        uow,
        HpkeSealer(hub.keyring.sealing_for()) if sealer is None else sealer,
        HpkeUnsealer(hub.keyring.unsealing("hub")),
        hub.policy if policy is None else policy,
        actor,
    )

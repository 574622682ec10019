"""The names of renkei's services: one per process role, spelled as the broker users' roles.

A service name is what a process is known as to the broker (its user is ``{prefix}-{service}``, see
:mod:`hub.infra.broker.definitions`), to its keyring (:mod:`hub.infra.keys.service_keys`) and in its
connection names. ``console`` is the operator console, which publishes replays and looks up queue depths.
"""

from __future__ import annotations

from typing import Final, Literal, cast, get_args

from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS

__all__ = ["SERVICE_NAMES", "ServiceName", "adapter_service", "simulator_service"]

ServiceName = Literal[
    "hub",
    "adapter-jlis",
    "adapter-intermediate_server",
    "adapter-eltax",
    "adapter-nta",
    "adapter-implementing_bodies",
    "adapter-pension",
    "simulator-jlis",
    "simulator-intermediate_server",
    "simulator-eltax",
    "simulator-nta",
    "simulator-implementing_bodies",
    "operator",
    "console",
]

SERVICE_NAMES: Final[tuple[ServiceName, ...]] = get_args(ServiceName)


def adapter_service(adapter: str) -> ServiceName:
    """The service name of ``adapter`` (``adapter-jlis``, ...).

    Raises:
        ValueError: ``adapter`` is not one of renkei's adapters.
    """
    if adapter not in ADAPTERS:
        raise ValueError(f"unknown adapter {adapter!r}")
    return cast(ServiceName, f"adapter-{adapter}")


def simulator_service(counterpart: str) -> ServiceName:
    """The service name of the simulated ``counterpart`` (``simulator-jlis``, ...).

    Raises:
        ValueError: ``counterpart`` has no simulator.
    """
    if counterpart not in COUNTERPARTS:
        raise ValueError(f"unknown simulator {counterpart!r}")
    return cast(ServiceName, f"simulator-{counterpart}")

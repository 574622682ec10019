"""Every message contract; importing this package registers them all."""

from contracts.messages import (
    dependants,
    eltax,
    implementing_bodies,
    intermediate_server,
    jlis_acquisition,
    nta,
    purpose,
    survival,
)

__all__ = [
    "dependants",
    "eltax",
    "implementing_bodies",
    "intermediate_server",
    "jlis_acquisition",
    "nta",
    "purpose",
    "survival",
]

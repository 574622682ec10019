"""Who may do what in the console: four roles, each a set of permissions, checked on every page and call.

* ``viewer`` sees the flows, the health and the dead letters (bodies redacted);
* ``operator`` also replays and discards dead letters, and follows a flow trace;
* ``auditor`` also searches the access record and sees its verification;
* ``admin`` may do everything, and alone may ask to reveal one number of one message, with a reason.

Revealing a number, and replaying or discarding a dead letter whose body carries numbers, need a second
person (:mod:`hub.core.operator.approvals`): a request by one user, approved by another who holds the same
permission (a reveal by a federation admin), then carried out by the requester. Everyone who may act sees the
requests (``view_approvals``).

Each user also belongs to an organisation: the federation (市町村連合会), which sees everything its role
allows, or one constituent association (構成組合), which sees only its own members' messages and records
(:mod:`hub.infra.stores.associations`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Final

__all__ = ["FEDERATION", "GRANTS", "Permission", "Role", "allowed", "valid_org"]

FEDERATION: Final = "federation"
"""The organisation code of 市町村連合会's own staff (every association's members are in their scope)."""

_ORG: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,15}$")


class Role(StrEnum):
    """A console role."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    """Something a page or an API call needs."""

    VIEW_FLOWS = "view_flows"
    VIEW_HEALTH = "view_health"
    VIEW_METRICS = "view_metrics"
    VIEW_DEAD_LETTERS = "view_dead_letters"
    ACT_ON_DEAD_LETTERS = "act_on_dead_letters"
    VIEW_TRACE = "view_trace"
    VIEW_AUDIT = "view_audit"
    REVEAL_NUMBER = "reveal_number"
    VIEW_APPROVALS = "view_approvals"


_READ: Final = frozenset(
    {Permission.VIEW_FLOWS, Permission.VIEW_HEALTH, Permission.VIEW_METRICS, Permission.VIEW_DEAD_LETTERS}
)

GRANTS: Final[dict[Role, frozenset[Permission]]] = {
    Role.VIEWER: _READ,
    Role.OPERATOR: _READ | {Permission.ACT_ON_DEAD_LETTERS, Permission.VIEW_TRACE, Permission.VIEW_APPROVALS},
    Role.AUDITOR: _READ | {Permission.VIEW_TRACE, Permission.VIEW_AUDIT, Permission.VIEW_APPROVALS},
    Role.ADMIN: frozenset(Permission),
}
"""Role → permissions. Nothing is granted implicitly: a permission not listed here is refused."""


def allowed(role: Role, permission: Permission) -> bool:
    """Whether ``role`` holds ``permission``."""
    return permission in GRANTS.get(role, frozenset())


def valid_org(org: str) -> bool:
    """Whether ``org`` is ``federation`` or an association code (1-16 lower-case letters, digits, ``_-``)."""
    return bool(_ORG.match(org))

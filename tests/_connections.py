"""Reading the broker's connection list: which renkei service a connection belongs to, and as whom.

renkei names every connection ``renkei-{service}-{role}-{pid}.{publisher|consumer}``
(:class:`hub.bootstrap.transports.PikaTransports`); ``rabbitmqctl list_connections user client_properties
--formatter json`` gives its user and that name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from hub.infra.service_names import SERVICE_NAMES

__all__ = ["connection_name", "parse", "service_of", "users_by_service"]


def connection_name(properties: object) -> str:
    """The ``connection_name`` client property (the JSON formatter gives a list of triples or a mapping)."""
    if isinstance(properties, dict):
        return str(properties.get("connection_name", ""))
    if isinstance(properties, list):
        for item in properties:
            if isinstance(item, list) and len(item) == 3 and item[0] == "connection_name":
                return str(item[2])
    return ""


def service_of(name: str, pid: int | None = None) -> str | None:
    """The service of a renkei connection name (of process ``pid`` only, when given); ``None`` for others."""
    base, _, kind = name.rpartition(".")
    if kind not in ("publisher", "consumer") or not base.startswith("renkei-"):
        return None
    head, _, process = base.rpartition("-")
    if not process.isdigit() or (pid is not None and int(process) != pid):
        return None
    rest = head.removeprefix("renkei-")
    matches = [s for s in SERVICE_NAMES if rest.startswith(f"{s}-")]
    return max(matches, key=len) if matches else None


def users_by_service(rows: Iterable[Mapping[str, object]], pid: int | None = None) -> dict[str, set[str]]:
    """The users renkei's connections logged in as, by service (rows of ``list_connections user
    client_properties``)."""
    found: dict[str, set[str]] = {}
    for row in rows:
        service = service_of(connection_name(row.get("client_properties")), pid)
        if service is not None:
            found.setdefault(service, set()).add(str(row["user"]))
    return found


def parse(listing: str) -> list[dict[str, object]]:
    """The rows of ``rabbitmqctl ... --formatter json`` output."""
    rows: list[dict[str, object]] = json.loads(listing or "[]")
    return rows

"""情報提供等の記録 in memory, each sealed by an access record on an in-memory chain.

Rows are built and sealed with :mod:`hub.infra.audit.provision_rows`, as
:class:`~hub.infra.audit.provision.SqlProvisionLog` builds them, so a row here carries the same values and
its access record the same id and digest. Where the SQL log fails on the database's unique key (a record id
stored already: ``AuditWriteFailed``), this twin checks first and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contracts.errors import AlreadyExists
from hub.infra.audit.provision_rows import provision_values_of, seal_details
from hub.infra.memory.audit import InMemoryAuditLog
from hub.ports.audit import AccessRecord, ProvisionRecord

__all__ = ["InMemoryProvisionLog"]


class InMemoryProvisionLog:
    """:class:`hub.ports.audit.ProvisionLog` in memory.

    Args:
        audit: the chain the sealing access records are appended to.
    """

    def __init__(self, audit: InMemoryAuditLog) -> None:
        self._audit = audit
        self._rows: dict[str, dict[str, Any]] = {}  # record id -> row, as the SQL table holds it

    @property
    def rows(self) -> list[dict[str, Any]]:
        """The stored rows (values, ``access_chain_id`` and ``access_seq``), in the order written."""
        return [dict(row) for row in self._rows.values()]

    def record(self, provisions: Sequence[tuple[ProvisionRecord, AccessRecord]]) -> None:
        """Store each provision record with its access record.

        Raises:
            AlreadyExists: a record id is stored already (nothing is written).
            PolicyRefused: a value holds an Individual Number.
            ValidationFailed: a record id repeats within the call or does not fit.
        """
        if not provisions:
            return
        values = provision_values_of(provisions)
        if taken := sorted(v["record_id"] for v in values if v["record_id"] in self._rows):
            raise AlreadyExists(f"情報提供等記録 {', '.join(taken)} stored already; nothing was written")
        sealed = [seal_details(v, access) for v, (_, access) in zip(values, provisions, strict=True)]
        self._audit.append(sealed)
        appended = self._audit.records[-len(sealed) :]
        for v, stored in zip(values, appended, strict=True):
            self._rows[v["record_id"]] = {**v, "access_chain_id": stored.chain_id, "access_seq": stored.seq}

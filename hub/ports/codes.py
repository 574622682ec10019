"""Ports of the hub's side of the intermediate server: the federation's codes (符号) and its pending queries.

Institutions never exchange the Individual Number on the information-provision network: each holds its own
code (符号) for a person. The hub keeps the federation's code of each subject, encrypted, with the
団体内統合宛名番号 (``atena_no``) it gave the subject on that network: fifteen digits that are random and
say nothing about the person. Codes never leave the hub except towards the intermediate server adapter.

Answers to queries arrive asynchronously, sometimes hours later: the hub keeps each query it sent, keyed by
its record identification number (レコード識別番号), until the answer settles it.

Both stores are bound to the unit of work's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from contracts.errors import AlreadyExists
from contracts.usage_number import UsageNumber
from hub.ports.vault import SubjectId

__all__ = ["CodeStore", "DuplicateRecordId", "PendingQuery", "PendingQueryStore", "PendingStatus"]


class DuplicateRecordId(AlreadyExists):
    """A query with this record identification number was already sent."""

    code = "duplicate_record_id"


class CodeStore(Protocol):
    """Each subject's 宛名番号 on the network and, once acquired, its code. Works in batches."""

    def atena_numbers(self, subjects: Sequence[SubjectId], *, allocate: bool = False) -> dict[SubjectId, str]:
        """The 宛名番号 of each subject; with ``allocate``, subjects without one get a new random one."""
        ...

    def subjects_by_atena(self, atena_numbers: Sequence[str]) -> dict[str, SubjectId]:
        """The subjects of 宛名番号; unknown ones are absent."""
        ...

    def codes_of(self, subjects: Sequence[SubjectId]) -> dict[SubjectId, str]:
        """The codes of the subjects that have one (decrypted in memory only)."""
        ...

    def store_codes(self, links: Sequence[tuple[SubjectId, str]]) -> None:
        """Keep the codes the network issued; a subject's earlier code is replaced.

        Raises:
            UnknownSubject: a subject has no 宛名番号 (its code was never asked for).
        """
        ...

    def erase(self, subjects: Sequence[SubjectId]) -> int:
        """Forget the subjects' 宛名番号 and codes (retention purge); returns how many were held."""
        ...


class PendingStatus(StrEnum):
    """Where a query stands."""

    PENDING = "pending"
    ANSWERED = "answered"
    NO_DATA = "no_data"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class PendingQuery:
    """A query the hub sent and the texts its 情報提供等の記録 will need.

    Attributes:
        record_id: the query's レコード識別番号 (unique on the network).
        subject: who the query is about.
        usage_number: the usage number the pension system asked with (the answer goes back with it).
        query_ref: the pension system's own id of the query.
        info_kind: ``resident_record`` or ``local_tax``.
        spi_code: the 特定個人情報名コード asked for.
        spi_text: code and name of the item, as recorded.
        jimu_text: the task, as recorded.
        basis_current: the current numbering (命令 第2条の表), as recorded.
        basis_legacy: the legacy numbering (別表第二), as recorded.
        provider_org_code: the provider asked.
        correlation_id: the business exchange the query belongs to.
        requested_at: when the query left the hub.
        status: where it stands.
        settled_at: when an answer or an error settled it.
    """

    record_id: str
    subject: SubjectId
    usage_number: UsageNumber
    query_ref: str
    info_kind: str
    spi_code: str
    spi_text: str
    jimu_text: str
    basis_current: str
    basis_legacy: str | None
    provider_org_code: str
    correlation_id: str
    requested_at: datetime
    status: PendingStatus = PendingStatus.PENDING
    settled_at: datetime | None = None


class PendingQueryStore(Protocol):
    """Queries sent and not yet (or already) answered, by record identification number."""

    def add(self, queries: Sequence[PendingQuery]) -> None:
        """Keep queries as they leave.

        Raises:
            DuplicateRecordId: a record id is already held (nothing of the batch is written).
        """
        ...

    def get(self, record_ids: Sequence[str]) -> dict[str, PendingQuery]:
        """The queries of these record ids; unknown ones are absent."""
        ...

    def settle(self, record_ids: Sequence[str], *, status: PendingStatus, at: datetime) -> None:
        """Mark queries answered, empty or failed."""
        ...

"""Which constituent association (構成組合) each person belongs to, for the console's scope.

市町村連合会 and its 構成組合 share one pension system and one hub. A console user of an association may see
and act on the messages and records of its own members only. Messages and access records name people by
audit-scope tokens, which the vault maps to subjects; this table maps a subject to its association.
It is loaded from the pension system's member list (usage number → association code) with
``renkei console members load``; a person without a row belongs to no association (federation only).
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, String, Table

from hub.infra.db.tables.metadata import metadata

__all__ = ["association_members"]

association_members = Table(
    "association_members",
    metadata,
    Column("subject_id", String(32), primary_key=True, comment="vault subject id (letters, never a number)"),
    Column("association_code", String(16), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

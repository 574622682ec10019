"""Tables of the hub's side of the intermediate server: codes (符号) and pending queries.

* ``is_codes``: one row per subject that was given a 団体内統合宛名番号 (``atena_no``: fifteen random digits,
  stored as an integer so that no text run of digits rests in the file) and, once acquired, its code as
  AES-GCM ciphertext under a key derived from the keyring's key-encryption key (``key_id`` names the version).
* ``is_pending_queries``: each query sent through the network, by its record identification number, with
  what the answer and the 情報提供等の記録 need; ``status`` moves from ``pending`` once, when it is settled.

No column holds an Individual Number or a plain code.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, LargeBinary, String, Table

from hub.infra.db.tables.metadata import metadata

__all__ = ["is_codes", "is_pending_queries"]

is_codes = Table(
    "is_codes",
    metadata,
    Column("subject_id", String(32), ForeignKey("subjects.id"), primary_key=True),
    Column("atena_no", BigInteger, nullable=False, unique=True, comment="団体内統合宛名番号 (15 digits)"),
    Column("key_id", String(32), nullable=True, comment="KEK version the code key is derived from"),
    Column("code_ciphertext", LargeBinary, nullable=True, comment="nonce + AES-GCM ciphertext of the 符号"),
    Column("acquired_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

is_pending_queries = Table(
    "is_pending_queries",
    metadata,
    Column("record_id", String(32), primary_key=True, comment="レコード識別番号"),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False, index=True),
    Column("usage_kind", String(32), nullable=False),
    Column("usage_value", String(32), nullable=False),
    Column("query_ref", String(64), nullable=False),
    Column("info_kind", String(32), nullable=False),
    Column("spi_code", String(16), nullable=False),
    Column("spi_text", String(120), nullable=False),
    Column("jimu_text", String(200), nullable=False),
    Column("basis_current", String(200), nullable=False),
    Column("basis_legacy", String(200), nullable=True),
    Column("provider_org_code", String(6), nullable=False),
    Column("correlation_id", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("settled_at", DateTime(timezone=True), nullable=True),
)

"""Every table of the hub, on the one ``MetaData``: import this module to see the whole schema.

Alembic's ``env.py`` and the schema tests import it, so that a table module nobody imported cannot be left
out of a comparison between the models and the migrations. A new table module is added here.
"""

from __future__ import annotations

from hub.infra.db import (
    actor_tables,
    approval_tables,
    association_tables,
    audit_tables,
    code_tables,
    dead_letter_tables,
    holds_tables,
    messaging_tables,
    metrics_tables,
    vault_tables,
)
from hub.infra.db.metadata import metadata

__all__ = ["TABLE_MODULES", "metadata"]

TABLE_MODULES = (
    messaging_tables,
    vault_tables,
    audit_tables,
    dead_letter_tables,
    metrics_tables,
    association_tables,
    code_tables,
    holds_tables,
    actor_tables,
    approval_tables,
)
"""The modules that define tables (imported for their side effect on :data:`metadata`)."""

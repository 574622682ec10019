"""Every table of the hub, on the one ``MetaData``: import this module to see the whole schema.

Alembic's ``env.py`` and the schema tests import it, so that a table module nobody imported cannot be left
out of a comparison between the models and the migrations. A new table module is added here.
"""

from __future__ import annotations

from hub.infra.db.tables import (
    actors,
    approvals,
    associations,
    audit,
    codes,
    dead_letters,
    holds,
    messaging,
    metrics,
    vault,
)
from hub.infra.db.tables.metadata import metadata

__all__ = ["TABLE_MODULES", "metadata"]

TABLE_MODULES = (
    messaging,
    vault,
    audit,
    dead_letters,
    metrics,
    associations,
    codes,
    holds,
    actors,
    approvals,
)
"""The modules that define tables (imported for their side effect on :data:`metadata`)."""

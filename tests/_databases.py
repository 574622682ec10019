"""A PostgreSQL database of a test's own, as an engine the way renkei makes them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from hub.infra.db.engine import make_engine
from hub.infra.db.scratch import scratch_database


@contextmanager
def own_database(server_url: str, prefix: str, *, template: str | None = None) -> Iterator[Engine]:
    """A fresh database on the server of ``server_url`` (a copy of ``template``, or empty); dropped after.

    The engine is renkei's (:func:`~hub.infra.db.engine.make_engine`), disposed before the drop.
    """
    with scratch_database(server_url, prefix, template=template) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()

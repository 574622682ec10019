"""Alembic migrations of the hub's database (``alembic.ini`` and ``env.py`` live here; see ``migrate``)."""

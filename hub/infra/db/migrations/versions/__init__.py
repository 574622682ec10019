"""Alembic revisions (one module per revision, applied in order)."""

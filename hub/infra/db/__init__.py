"""The relational store (SQLAlchemy 2 Core): SQLite embedded by default, PostgreSQL in production."""

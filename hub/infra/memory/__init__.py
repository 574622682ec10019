"""In-memory twins of the ports: one module per port (`provisions`: the audit port's ProvisionLog), no driver.

Each twin keeps the behaviour of its SQL implementation (``tests/contract`` runs one test class per port
against both), so that the core's unit tests can run on it without a database. A twin never imports
SQLAlchemy, pika or ``cryptography`` (import-linter checks it); where a port needs keys (the vault's
tokens), the twin takes the same collaborator as the SQL implementation rather than a fake of it.
"""

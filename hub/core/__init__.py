"""The hub's core: routing, enrichment, tokenisation and the ack policy, on ports only.

Nothing here imports pika, SQLAlchemy, cryptography or an adapter; ``import-linter`` enforces it.
"""

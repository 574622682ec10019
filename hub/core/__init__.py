"""The hub's core, on ports only: flows, their runtime, the rules they apply and what operators do.

``flows`` holds one handler module per exchange and what every handler uses; ``runtime`` the worker, the
hosts, routing, the retry policy and the dead-letter consumer; ``rules`` the legal bases, the number policy,
retention and erasure; ``operator`` dead-letter replay, four-eyes approvals and held links. Nothing here
imports pika, SQLAlchemy, cryptography or an adapter; ``import-linter`` enforces it.
"""

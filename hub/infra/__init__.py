"""Infrastructure: the concrete implementations of the ports (pika, SQLAlchemy, cryptography).

One package per concept: ``broker``, ``db`` (with ``tables``), ``audit``, ``vault``, ``stores`` (the other
ports' SQL stores), ``crypto``, ``keys``, ``observability``, ``retention`` and ``memory`` (the in-memory
twins); the README's Layout section says what each holds.
"""

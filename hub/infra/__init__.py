"""Infrastructure: the concrete implementations of the ports (pika, SQLAlchemy, cryptography)."""

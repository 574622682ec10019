"""The vault on SQLAlchemy: numbers, usage numbers and tokens, planned in memory, and its keys' life."""

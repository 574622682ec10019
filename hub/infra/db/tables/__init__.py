"""Every table of the hub, one module per concept, on the one ``MetaData`` Alembic migrates."""

"""The ``renkei`` command line (Typer): entrypoints only; the wiring lives in :mod:`hub.bootstrap`."""

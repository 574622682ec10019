"""Ports: the small interfaces the hub's core depends on, each with a real and an in-memory implementation."""

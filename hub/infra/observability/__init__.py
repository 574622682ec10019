"""Logs, metrics and health: what a process says about itself, and what the database holds."""

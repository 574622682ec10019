"""Message contracts of renkei: the envelope, the payloads, the Individual Number type and the errors.

This package imports nothing else of the project, so that adapters, the hub and outside parties can share it.
"""

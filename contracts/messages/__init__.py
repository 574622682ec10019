"""Every message contract; importing this package registers them all."""

from contracts.messages import survival

__all__ = ["survival"]

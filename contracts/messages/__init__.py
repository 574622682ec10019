"""Every message contract; importing this package registers them all."""

from contracts.messages import dependants, jlis_acquisition, survival

__all__ = ["dependants", "jlis_acquisition", "survival"]

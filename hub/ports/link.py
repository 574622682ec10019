"""The counterpart link port: how counterpart files cross the broker without exposing their contents.

A counterpart file (a J-LIS batch, an eLTAX submission) may hold Individual Numbers in the clear, as the
counterpart's format demands. On the broker it travels only as authenticated ciphertext under the link key
of that counterpart, like the encrypted line of the real network.
"""

from __future__ import annotations

from typing import Protocol

from contracts.link import CounterpartFile

__all__ = ["LinkCipher"]


class LinkCipher(Protocol):
    """Protects counterpart files in transit."""

    def protect(self, file: CounterpartFile) -> bytes:
        """Encrypt ``file`` for its counterpart's link; returns the message body."""
        ...

    def open(self, body: bytes) -> CounterpartFile:
        """Decrypt a message body; raises ``SealError`` when it was tampered with."""
        ...

"""What every adapter checks of a file from its counterpart's line, before reading it.

Shared by the adapters (they never import each other); imports nothing of the hub.
"""

from __future__ import annotations

import re
import uuid
from typing import Final

from contracts.errors import ContractError
from contracts.link import CounterpartFile

__all__ = ["correlation_of"]

_UUID_TEXT: Final = re.compile(r"[0-9a-fA-F-]{32,36}")


def correlation_of(
    file: CounterpartFile, counterpart: str, error: type[ContractError], link: str
) -> uuid.UUID:
    """The correlation id ``file`` carries, as a UUID, once the file is known to come from ``counterpart``.

    Args:
        file: the file, as the line delivered it.
        counterpart: the adapter's counterpart (``jlis``, ``eltax``, ...).
        error: the adapter's error for a file it cannot take (permanent).
        link: the line's name in messages (``J-LIS``, ``eLTAX``, ...).

    Raises:
        ContractError: of class ``error``: the file is from another line, or its correlation id is no UUID.
    """
    if file.counterpart != counterpart:
        raise error(f"the file is not from the {link} link")
    text = file.correlation_id
    if isinstance(text, str) and _UUID_TEXT.fullmatch(text):
        try:
            return uuid.UUID(text)
        except ValueError:
            pass
    raise error("the file's correlation id is not a UUID")

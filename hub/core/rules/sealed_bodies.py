"""Whether a stored message body carries Individual Numbers (sealed, in a counterpart file, or in the clear).

Replaying or discarding such a dead letter needs a second person (:mod:`hub.core.operator.approvals`): its
body is a way to a number. A body carries them as sealed values (``sealed:v…``, of any sealing version, found
by their prefix wherever they are); a counterpart link message carries a whole counterpart file, encrypted for
its line, which may hold numbers in the clear once opened; a body holding a number in the clear (a row stored
before redaction existed) carries one too. A body that is not JSON is searched as text (undecodable bytes
replaced): garbage without a sealed value or a number can be discarded by one person.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from contracts.redaction import find_numbers

__all__ = ["carries_numbers"]

_SEALED_ANYWHERE: Final = re.compile(r"sealed:v[0-9]+:")
_LINK_KEYS: Final = frozenset({"counterpart", "name", "correlation_id", "content"})
_MAX_DEPTH: Final = 64


def _walk(value: Any, depth: int = 0) -> bool:
    if depth > _MAX_DEPTH:
        return True  # too deep to inspect: assume the worst
    if isinstance(value, str):
        return bool(_SEALED_ANYWHERE.search(value) or find_numbers(value))  # escapes decoded
    if isinstance(value, dict):
        return any(_walk(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return any(_walk(v, depth + 1) for v in value)
    return False


def carries_numbers(body: bytes) -> bool:
    """Whether ``body`` carries numbers: a sealed value, a counterpart file, or a plain number."""
    text = body.decode("utf-8", errors="replace")
    if _SEALED_ANYWHERE.search(text) or find_numbers(text):
        return True
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False  # searched as text above
    if isinstance(data, dict) and set(data) >= _LINK_KEYS:
        return True
    return _walk(data)

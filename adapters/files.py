"""An adapter's line: what it checks of a file it receives, the message it makes of one, the files it sends.

What an adapter's handler returns is made here too, and logged once, the same way by every adapter: the
files written from a hub message (:func:`files_written`) or the message read from a file
(:func:`message_read`), with the message's id, correlation id and type and the handler's counts, never a
value.

Shared by the adapters (they never import each other); imports nothing of the hub.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from pydantic import BaseModel

from contracts.envelope import Envelope, Party, Purpose, new_envelope
from contracts.errors import ContractError
from contracts.link import AdapterOutput, CounterpartFile
from contracts.registry import payload_dict

__all__ = ["correlation_of", "files_for_line", "files_written", "message_for_hub", "message_read"]

log = logging.getLogger(__name__)
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


def message_for_hub(
    counterpart: Party,
    message_type: tuple[str, int],
    purpose: Purpose,
    payload: BaseModel,
    *,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
    message_id: uuid.UUID,
) -> Envelope:
    """The message an adapter makes of a file from ``counterpart`` for the hub.

    ``message_id`` derives from the file's name, so that a file delivered twice gives one message, which the
    hub's inbox drops the second time; ``causation_id`` is the request the file answers, if any.
    """
    return new_envelope(
        message_type=message_type[0],
        schema_version=message_type[1],
        source=counterpart,
        destination="hub",
        purpose=purpose,
        payload=payload_dict(payload),
        correlation_id=correlation_id,
        causation_id=causation_id,
        message_id=message_id,
    )


def files_for_line(
    counterpart: str, message: Envelope, written: Iterable[tuple[str, bytes]]
) -> tuple[CounterpartFile, ...]:
    """The files an adapter wrote from the hub message ``message``, as ``(name, content)``, for its line.

    Each carries the message's correlation id: the line brings it back on every answer, which
    :func:`correlation_of` then reads.
    """
    correlation = str(message.correlation_id)
    return tuple(CounterpartFile(counterpart, name, content, correlation) for name, content in written)


def files_written(
    counterpart: str, message: Envelope, written: Sequence[tuple[str, bytes]], details: Mapping[str, int]
) -> AdapterOutput:
    """What an adapter hands its line for the hub message ``message``: the files it wrote from it.

    ``written`` holds each file as ``(name, content)``; ``details`` are the handler's counts (records,
    files ...), kept in the output and logged with the message's ids.
    """
    files = files_for_line(counterpart, message, written)
    log.info(
        "%s files written message_id=%s correlation_id=%s type=%s %s",
        counterpart,
        message.message_id,
        message.correlation_id,
        message.message_type,
        _counts({"files": len(files), **details}),
    )
    return AdapterOutput(to_counterpart=files, details=dict(details))


def message_read(message: Envelope, *, records: int, details: Mapping[str, int]) -> AdapterOutput:
    """What an adapter hands the hub for a file from its line: the one message it made of the file.

    ``records``: how many of the file's records the message completes; ``details``: the handler's counts
    (by outcome, status ...), kept in the output and logged with the message's ids.
    """
    log.info(
        "%s file read message_id=%s correlation_id=%s type=%s %s",
        message.source,
        message.message_id,
        message.correlation_id,
        message.message_type,
        _counts({"records": records, **details}),
    )
    return AdapterOutput(to_hub=(message,), completed_records=records, details=dict(details))


def _counts(counts: Mapping[str, int]) -> str:
    return " ".join(f"{name}={n}" for name, n in counts.items())

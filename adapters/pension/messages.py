"""Hub messages for the pension system that have no CSV format yet, written as one JSON file per message.

The survival/change outcomes have their CSV exchange (docs/formats/pension.md). The intermediate server's
answers (code statuses, query answers, 副本 results, provision notices), eLTAX's (receipt outcomes of
payment reports and notices, special collection instructions), the National Tax Agency's (its receipt of a
file of withholding slips, ``pension.nta.outcomes``), the other implementing bodies' (what became of
forwarded claims, ``pension.claim_forwarding.outcomes``) and the records the hub refused to send
because their use is not permitted (``pension.purpose.refused``) do not yet: until the pension
system's developers agree formats for them, the adapter writes each such message whole, as the JSON of its
envelope, to ``outbound/messages/<message type>/<message id>.json``, atomically and owner-only. They carry
usage numbers only, never an Individual Number (the adapter refuses one that would).

A message id is written once: a redelivered message finds its file and leaves it as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from adapters.pension._fs import ensure_private_dir, write_bytes
from adapters.pension.errors import IndividualNumberInFile
from adapters.pension.names import MESSAGES_DIR, message_file_name, messages_directory
from contracts.envelope import Envelope
from contracts.link import AdapterOutput
from contracts.redaction import holds_number
from contracts.registry import Decoded, encode

__all__ = ["HUB_MESSAGE_TYPES", "MESSAGES_DIR", "message_files", "read_hub_messages", "write_message_file"]

HUB_MESSAGE_TYPES: Final = frozenset(
    {
        ("pension.code_acquisition.completed", 1),
        ("pension.info_query.answered", 1),
        ("pension.duplicate_data.registered", 1),
        ("pension.provision.noticed", 1),
        ("pension.eltax.outcomes", 1),
        ("pension.tokucho.instructions", 1),
        ("pension.nta.outcomes", 1),
        ("pension.claim_forwarding.outcomes", 1),
        ("pension.purpose.refused", 1),
    }
)
"""The hub → pension messages written as JSON files."""


def write_message_file(outbound: Path, message: Decoded) -> AdapterOutput:
    """Write ``message`` as ``<outbound>/messages/<type>/<message id>.json`` unless it is there already.

    Raises:
        IndividualNumberInFile: the message holds a value with the form of an Individual Number.
        PensionDirectoryUnavailable: the directory cannot be written (retry later).
    """
    env = message.envelope
    body = encode(env)
    if holds_number(body.decode("utf-8")):
        raise IndividualNumberInFile()
    directory = messages_directory(outbound, env.message_type)
    ensure_private_dir(outbound / MESSAGES_DIR)
    ensure_private_dir(directory)
    target = directory / message_file_name(env.message_id)
    written = not target.exists()
    if written:
        write_bytes(target, body)
    records = len(env.payload.get("records", ()))
    return AdapterOutput(
        completed_records=records,
        details={"message_files_written": int(written), "message_files_unchanged": int(not written)},
    )


def message_files(outbound: Path, message_type: str) -> list[Path]:
    """The message files of one type, by name."""
    directory = messages_directory(outbound, message_type)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.json") if p.is_file())


def read_hub_messages(outbound: Path, message_type: str) -> Iterator[Envelope]:
    """The messages of one type the adapter wrote (the pension system's side of the exchange)."""
    for path in message_files(outbound, message_type):
        try:
            yield Envelope.model_validate(json.loads(path.read_bytes()))
        except (OSError, ValueError):
            continue  # a file being replaced or damaged is skipped; the next read sees it whole

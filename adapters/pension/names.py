"""File naming in the pension exchange directory: which names are taken, how each file renkei writes is named.

Every name is a function of what the file holds (its batch, chunk and answerer, or its message id), so
rewriting a file is idempotent and a redelivered message finds the file it already wrote::

    inbound/<NAME> + <NAME>.manifest.json          a request file (NAME matches DATA_NAME) and its manifest
    inbound/number_acquisition.<batch>.csv         the conventional request names: request_file_name
    outbound/survival_outcomes.<batch>.<chunk>.<answered_by>.csv                 survival/change outcomes
    outbound/number_acquisition_outcomes.<batch>.<chunk>.<answered_by>[.<hold>].csv   number acquisition
    outbound/dependants_declaration_acks.<batch>.<chunk>.csv              declaration acknowledgements
    outbound/messages/<message type>/<message id>.json                    answers without a CSV format
    rejected/<NAME>.report.json                    why a request file was refused

A name that holds an Individual Number is never repeated: logs, reports and stored files show
:func:`shown_name` instead. The names of the CSV layouts' own files (``manifest_name``,
``outcome_file_name``) are defined with the layouts in :mod:`adapters.pension.wire` and re-exported here;
the other kinds' names come from :func:`request_file_name` and :func:`answer_file_name`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Final

from adapters.pension.wire import (
    MANIFEST_SUFFIX,
    REPORT_SUFFIX,
    inquiry_file_name,
    manifest_name,
    outcome_file_name,
    outcome_file_prefix,
)
from contracts.redaction import holds_number

__all__ = [
    "DATA_NAME",
    "MANIFEST_SUFFIX",
    "MESSAGES_DIR",
    "REPORT_SUFFIX",
    "answer_file_name",
    "answer_file_prefix",
    "inquiry_file_name",
    "manifest_name",
    "message_file_name",
    "messages_directory",
    "name_digest",
    "outcome_file_name",
    "outcome_file_prefix",
    "request_file_name",
    "shown_name",
]

DATA_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.csv")
"""The names a request data file in ``inbound/`` may have."""
MESSAGES_DIR: Final = "messages"
"""Under ``outbound/``: the hub's answers that have no CSV format yet, one JSON file per message."""


def request_file_name(kind: str, batch_id: str) -> str:
    """The conventional name of a request file of ``kind`` (``number_acquisition.<batch>.csv``)."""
    return f"{kind}.{batch_id}.csv"


def answer_file_prefix(kind: str, batch_id: str) -> str:
    """The common prefix of every answer file of ``kind`` of a batch."""
    return f"{kind}.{batch_id}."


def answer_file_name(kind: str, batch_id: str, chunk_index: int, *parts: str) -> str:
    """The answer file of one chunk, ``<kind>.<batch>.<chunk>[.<part>...].csv`` ; idempotent."""
    return f"{answer_file_prefix(kind, batch_id)}{chunk_index:06d}{''.join('.' + p for p in parts)}.csv"


def messages_directory(outbound: Path, message_type: str) -> Path:
    """The directory of the JSON files of one message type."""
    return outbound / MESSAGES_DIR / message_type


def message_file_name(message_id: uuid.UUID) -> str:
    """The JSON file of one message: named after its id, so a redelivered message finds it."""
    return f"{message_id}.json"


def shown_name(name: str) -> str:
    """The name as logs and reports may show it: never with an Individual Number in it."""
    if holds_number(name) or not name.isprintable():
        return "redacted-" + name_digest(name)[:16]
    return name


def name_digest(name: str) -> str:
    """SHA-256 of a file name: matches a name without repeating it."""
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()

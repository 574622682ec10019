"""What erasure does to a stored message body: destroy sealed values and the erased person's fields.

A dead letter keeps the body of a message that failed, with its numbers still sealed for their recipient
(so that it can be replayed). When a person is erased, the dead letters that concern them must no longer
be able to give their number back, nor name them:

* **every sealed value** in the body is destroyed. A sealed value can be attributed to a person only by
  opening it, with its recipient's key, which the retention job does not hold; so all of them go, and the
  dead letter can no longer be replayed;
* **every record naming the person** (by one of their 利用番号 ``{"kind": ..., "value": ...}`` or their
  団体内統合宛名番号 ``atena_no``) loses every text value: names, 4情報, dates, references. A record is the
  nearest object in a list around the match (a dependant inside a declaration is its own record), or the
  payload when the match is not in a list;
* a body that concerns the person through its message id (the access record names them among the
  message's people) but names them nowhere that can be found loses every text value of its payload;
* a body that is not JSON and concerns the person is destroyed whole.

The envelope's own fields (message id, type, correlation id, purpose) stay, so that the dead letter still
says what failed and when. Nothing here touches a database; :mod:`hub.infra.retention.jobs` applies it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["ERASED", "Scrubbed", "scrub_body", "scrub_text", "strip_sealed"]

ERASED: Final = "[erased]"
"""What stands in place of a destroyed value."""
_ERASED_BYTES: Final = ERASED.encode("ascii")
_SEALED: Final = re.compile(rb"sealed:v[0-9]{1,3}(?::[A-Za-z0-9_=-]+)+")
"""A sealed value of any version (``v1``'s base64url, ``v2``'s base32, later ones)."""


@dataclass
class Scrubbed:
    """A body after scrubbing, and what was done to it.

    Attributes:
        body: the new body.
        sealed: sealed values destroyed.
        records: records whose text values were destroyed.
        people: the references (of the ``usage``/``atena`` maps) of the people found in the body.
        destroyed: the body was not JSON and was destroyed whole.
    """

    body: bytes
    sealed: int = 0
    records: int = 0
    people: set[str] = field(default_factory=set)
    destroyed: bool = False

    @property
    def changed(self) -> bool:
        """Whether anything was destroyed."""
        return bool(self.sealed or self.records or self.destroyed)


def strip_sealed(body: bytes) -> tuple[bytes, int]:
    """``body`` with every sealed value replaced by :data:`ERASED`, and how many there were."""
    return _SEALED.subn(_ERASED_BYTES, body)


def scrub_text(text: str, values: Mapping[str, str]) -> str:
    """``text`` with each key of ``values`` (a usage number, a 宛名番号) replaced where it stands alone.

    A value inside a longer run of letters and digits is another value, and stays.
    """
    for value in sorted(values, key=len, reverse=True):
        if value and value in text:
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", ERASED, text)
    return text


def _erase_text(node: Any) -> Any:
    if isinstance(node, str):
        return ERASED
    if isinstance(node, dict):
        return {k: _erase_text(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_erase_text(v) for v in node]
    return node


class _Finder:
    """Finds the records naming the people of ``usage`` and ``atena``."""

    def __init__(self, usage: Mapping[tuple[str, str], str], atena: Mapping[str, str]) -> None:
        self._usage = usage
        self._atena = atena
        self.records: dict[int, dict[str, Any]] = {}
        self.people: set[str] = set()

    def walk(self, node: Any, record: dict[str, Any]) -> None:
        if isinstance(node, dict):
            kind, value = node.get("kind"), node.get("value")
            if isinstance(kind, str) and isinstance(value, str) and (ref := self._usage.get((kind, value))):
                self._found(record, ref)
            atena = node.get("atena_no")
            if isinstance(atena, str) and (ref := self._atena.get(atena)):
                self._found(record, ref)
            for child in node.values():
                self.walk(child, record)
        elif isinstance(node, list):
            for child in node:
                self.walk(child, child if isinstance(child, dict) else record)

    def _found(self, record: dict[str, Any], ref: str) -> None:
        self.records[id(record)] = record
        self.people.add(ref)


def scrub_body(
    body: bytes,
    *,
    usage: Mapping[tuple[str, str], str],
    atena: Mapping[str, str],
    whole: bool = False,
) -> Scrubbed:
    """Destroy the sealed values of ``body`` and the fields of the people it names (see the module).

    Args:
        body: a stored message body (an envelope as JSON, or any bytes).
        usage: ``(kind, value)`` of each erased person's usage numbers → a reference to the person.
        atena: each erased person's 宛名番号 → a reference to the person.
        whole: the access record ties the message to an erased person: if no record names one, every
            text value of the payload goes.
    """
    stripped, sealed = strip_sealed(body)
    try:
        doc = json.loads(stripped)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        named = [ref for (_, value), ref in usage.items() if value.encode() in stripped] + [
            ref for value, ref in atena.items() if value.encode() in stripped
        ]
        if named or whole:
            return Scrubbed(b"", sealed=sealed, people=set(named), destroyed=True)
        return Scrubbed(stripped, sealed=sealed)
    payload = doc.get("payload")
    scope: dict[str, Any] = payload if isinstance(payload, dict) else doc
    finder = _Finder(usage, atena)
    finder.walk(scope, scope)
    records = list(finder.records.values())
    if not records and whole:
        records = [scope]
    for record in records:
        erased = _erase_text(record)
        record.clear()
        record.update(erased)
    if not records and not sealed:
        return Scrubbed(body)
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    return Scrubbed(text.encode("utf-8"), sealed=sealed, records=len(records), people=finder.people)

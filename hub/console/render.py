"""What the console shows of a message: redacted text, sealed numbers as markers, short hashes.

Every string a page or an API response takes from a body, a header, a reason or a detail goes through
:func:`safe`, which replaces any 12-digit run with a valid check digit by the redaction marker. Sealed numbers
(``sealed:v1:<recipient>:...``) are replaced by a marker naming the recipient and their position, so that an
admin can ask to reveal that one number (:mod:`hub.console.reveal`). Hashes and chain ids are cut to ten
characters: a full hex digest can hold twelve decimal digits that pass the check digit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from contracts.redaction import redact_bytes, redact_text
from contracts.sealing import is_sealed
from hub.infra.audit.codec import to_utc

__all__ = ["BodyView", "SealedRef", "body_view", "headers_view", "safe", "sealed_value", "short", "when"]

_BODY_LIMIT: Final = 64 * 1024


def safe(value: object) -> str:
    """``value`` as text with every candidate Individual Number redacted."""
    if value is None:
        return ""
    return redact_text(str(value))


def short(value: str | None, length: int = 10) -> str:
    """The first ``length`` characters of a hash or id (never twelve digits in a row)."""
    return "" if not value else value[: min(length, 10)]


def when(moment: datetime | None) -> str:
    """A UTC time to the second, ``2026-11-26 07:27:49Z``."""
    return "" if moment is None else to_utc(moment).strftime("%Y-%m-%d %H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class SealedRef:
    """One sealed number in a body, by position.

    Attributes:
        index: its number in the body, from 1 (what the reveal form names).
        path: where it sits, e.g. ``payload.records.3.individual_number``.
        recipient: who it was sealed for.
        fields: the seal's field contexts to try, relative to the payload (``records.<record_seq>.<name>``
            as the hub seals, then the plain path).
    """

    index: int
    path: str
    recipient: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BodyView:
    """A body as shown: redacted text and the sealed numbers it holds."""

    text: str
    kind: str
    size: int
    message_id: str | None = None
    sealed: tuple[SealedRef, ...] = field(default_factory=tuple)


def _marker(ref: SealedRef) -> str:
    return f"⟨sealed for {ref.recipient} · #{ref.index}⟩"


class _Walker:
    def __init__(self) -> None:
        self.sealed: list[SealedRef] = []
        self.values: dict[int, str] = {}

    def walk(self, value: Any, path: list[str], seq_path: list[str]) -> Any:
        if isinstance(value, dict):
            return {safe(k): self.walk(v, [*path, str(k)], [*seq_path, str(k)]) for k, v in value.items()}
        if isinstance(value, list):
            out = []
            for i, item in enumerate(value):
                seq = item.get("record_seq") if isinstance(item, dict) else None
                label = str(seq) if isinstance(seq, int) and not isinstance(seq, bool) else str(i)
                out.append(self.walk(item, [*path, str(i)], [*seq_path, label]))
            return out
        if isinstance(value, str) and is_sealed(value):
            ref = self._ref(value, path, seq_path)
            self.sealed.append(ref)
            self.values[ref.index] = value
            return _marker(ref)
        if isinstance(value, str):
            return safe(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = safe(value)
            return value if text == str(value) else text
        return value

    def _ref(self, value: str, path: list[str], seq_path: list[str]) -> SealedRef:
        recipient = value.split(":")[2]
        relative = list(seq_path[1:] if seq_path[:1] == ["payload"] else seq_path)
        plain = list(path[1:] if path[:1] == ["payload"] else path)
        fields = tuple(dict.fromkeys([".".join(relative), ".".join(plain)]))
        return SealedRef(len(self.sealed) + 1, ".".join(path), recipient, fields)


def body_view(body: bytes) -> BodyView:
    """How a stored (already redacted) body is shown: redacted again, whatever the store holds."""
    size = len(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return BodyView(text=f"(binary body of {size} bytes, not shown)", kind="binary", size=size)
    try:
        data = json.loads(text)
    except ValueError:
        return BodyView(text=_unreadable_digits_masked(safe(text[:_BODY_LIMIT])), kind="text", size=size)
    walker = _Walker()
    shown = walker.walk(data, [], [])
    message_id = data.get("message_id") if isinstance(data, dict) else None
    rendered = json.dumps(shown, ensure_ascii=False, indent=2)
    if len(rendered) > _BODY_LIMIT:
        rendered = rendered[:_BODY_LIMIT] + "\n… (cut)"
    return BodyView(
        text=_unreadable_digits_masked(safe(rendered)),
        kind="json",
        size=size,
        message_id=message_id if isinstance(message_id, str) else None,
        sealed=tuple(walker.sealed),
    )


def _unreadable_digits_masked(text: str) -> str:
    """``text`` with the digits it does not show as digits (UTF-16 or JIS X 0208 read as UTF-8) masked."""
    return redact_bytes(text.encode("utf-8")).decode("utf-8", "replace")


def sealed_value(body: bytes, index: int) -> tuple[SealedRef, str, str | None] | None:
    """The sealed text of the ``index``-th sealed number of a body, its reference and the message id."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    walker = _Walker()
    walker.walk(data, [], [])
    for ref in walker.sealed:
        if ref.index == index:
            message_id = data.get("message_id") if isinstance(data, dict) else None
            return ref, walker.values[index], message_id if isinstance(message_id, str) else None
    return None


def headers_view(headers: Mapping[str, object]) -> list[tuple[str, str]]:
    """Scalar headers as redacted text, sorted; sealed values as markers."""
    shown = []
    for key, value in sorted(headers.items()):
        text = "⟨sealed⟩" if isinstance(value, str) and is_sealed(value) else safe(value)
        shown.append((safe(key), text[:1_000]))
    return shown

"""The registry from ``(message_type, schema_version)`` to its payload model, and decoding.

Decoding is the one place where bytes become a typed message. Every failure is a
:class:`~contracts.errors.ContractError` whose message names the fields at fault and never a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic

from pydantic import BaseModel, ValidationError
from typing_extensions import TypeVar

from contracts.envelope import Envelope
from contracts.errors import DecodeError, UnknownMessageType, ValidationFailed
from contracts.validation import describe

__all__ = [
    "Decoded",
    "decode",
    "encode",
    "export_schemas",
    "payload_model",
    "register",
    "registered",
]

M = TypeVar("M", bound=type[BaseModel])
P_co = TypeVar("P_co", bound=BaseModel, default=BaseModel, covariant=True)
"""The payload model of a :class:`Decoded` (``BaseModel`` when not said: any registered contract)."""
Q = TypeVar("Q", bound=BaseModel)
_REGISTRY: dict[tuple[str, int], type[BaseModel]] = {}


def register(message_type: str, schema_version: int) -> Callable[[M], M]:
    """Class decorator: make ``cls`` the payload model of ``(message_type, schema_version)``."""

    def decorate(cls: M) -> M:
        key = (message_type, schema_version)
        if key in _REGISTRY and _REGISTRY[key] is not cls:
            raise ValueError(f"{message_type} v{schema_version} is registered twice")
        _REGISTRY[key] = cls
        return cls

    return decorate


def registered() -> Iterator[tuple[tuple[str, int], type[BaseModel]]]:
    """Every registered ``((type, version), model)``, sorted."""
    _load_all()
    yield from sorted(_REGISTRY.items(), key=lambda item: item[0])


def payload_model(message_type: str, schema_version: int) -> type[BaseModel]:
    """The payload model of a message type and version; raises :class:`UnknownMessageType`."""
    _load_all()
    try:
        return _REGISTRY[(message_type, schema_version)]
    except KeyError:
        raise UnknownMessageType(
            f"no contract for message type {message_type!r} version {schema_version}"
        ) from None


@dataclass(frozen=True, slots=True)
class Decoded(Generic[P_co]):
    """A decoded message: its envelope and its validated payload, typed by its payload model.

    :func:`decode` gives a ``Decoded[BaseModel]`` (the model depends on the bytes); code that handles one
    message type asks for its model once with :meth:`narrow` and is typed from there on.
    """

    envelope: Envelope
    payload: P_co

    def narrow(self, model: type[Q]) -> Decoded[Q]:
        """This message, typed by its payload model ``model``.

        Raises:
            UnknownMessageType: the payload is not a ``model`` (a handler was given a type it does not
                handle: the routing table and the registry disagree).
        """
        payload = self.payload
        if not isinstance(payload, model):
            raise UnknownMessageType(
                f"{self.envelope.message_type} v{self.envelope.schema_version} is not a {model.__name__}"
            )
        return Decoded(self.envelope, payload)


def decode(body: bytes) -> Decoded[BaseModel]:
    """Decode and validate a message body.

    Raises:
        DecodeError: the body is not UTF-8 JSON.
        ValidationFailed: the envelope or the payload breaks its contract.
        UnknownMessageType: no contract for the message type and version.
    """
    try:
        # Decoded here, strictly: json.loads(bytes) would also take UTF-16, UTF-32 and a byte-order mark.
        text = body.decode("utf-8")
        if text.startswith("\ufeff"):
            raise DecodeError("the body starts with a byte-order mark")
        raw = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise DecodeError("the body is not UTF-8 JSON") from None
    if not isinstance(raw, dict):
        raise DecodeError("the body is not a JSON object")
    try:
        envelope = Envelope.model_validate(raw)
    except ValidationError as exc:
        raise ValidationFailed(f"envelope invalid: {describe(exc)}") from None
    model = payload_model(envelope.message_type, envelope.schema_version)
    try:
        payload = model.model_validate(envelope.payload)
    except ValidationError as exc:
        raise ValidationFailed(
            f"{envelope.message_type} v{envelope.schema_version} payload invalid: {describe(exc)}"
        ) from None
    return Decoded(envelope, payload)


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope to the wire (UTF-8 JSON)."""
    return envelope.model_dump_json().encode()


def payload_dict(payload: BaseModel) -> dict[str, Any]:
    """A payload as the JSON-ready dict an envelope carries."""
    return payload.model_dump(mode="json", exclude_none=True)


def export_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema per registered message type and version; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for (message_type, version), model in registered():
        schema = model.model_json_schema(mode="validation")
        schema["$id"] = f"urn:renkei:{message_type}:v{version}"
        schema["x-message-type"] = message_type
        schema["x-schema-version"] = version
        path = directory / f"{message_type}.v{version}.json"
        path.write_text(
            json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        written.append(path)
    return written


def _load_all() -> None:
    # Importing the message package registers every contract.
    import contracts.messages  # noqa: F401

"""The one error hierarchy of renkei, shared by the hub, the adapters and the simulators.

Every failure the hub or an adapter can meet is one of these, so that the ack policy can decide by class
alone whether a message is retried later or dead-lettered now. Third-party exceptions (pika, SQLAlchemy,
cryptography, pydantic) are translated at the edge where they are raised, with ``raise ... from exc``.

::

    RenkeiError
    ├── TransientError                  retried with back-off through the delayed-retry queues
    │   ├── BrokerUnavailable           connection lost, channel closed, broker restarting
    │   ├── PublishNotConfirmed         the broker nacked a publish or did not confirm it in time
    │   ├── StoreUnavailable            database down, locked or serialisation failure
    │   ├── AuditWriteFailed            the access record could not be written (fail closed)
    │   └── CounterpartUnavailable      J-LIS, the intermediate server or eLTAX did not answer
    └── PermanentError                  dead-lettered at once; a retry cannot succeed
        ├── ContractError               the message breaks its contract
        │   ├── DecodeError             undecodable body (not UTF-8, not JSON, not an envelope)
        │   ├── UnknownMessageType      no contract registered for (message_type, schema_version)
        │   ├── ValidationFailed        the payload does not validate (missing field, bad check digit, ...)
        │   ├── WireFormatError         a counterpart's file breaks its layout
        │   └── BodyTooLarge            the body is over its type's size limit; refused before decoding
        ├── Unroutable                  no queue is bound for the destination
        ├── PolicyRefused               the number policy or the legal-basis table forbids the exchange
        │   └── ActorNotPermitted       the message's actor may not do its 事務 (the seed's split), or none
        ├── SealError                   a sealed number was tampered with, moved or sealed for someone else
        ├── SenderNotPermitted          the broker-proven sender may not send this (or claims another's user)
        ├── AlreadyExists               a record with this id is stored already; nothing was written
        └── ConfigurationError          settings missing or invalid; fix the configuration and restart

Messages of these errors never contain an Individual Number: they name fields, never values.
"""

from __future__ import annotations

__all__ = [
    "ActorNotPermitted",
    "AlreadyExists",
    "AuditWriteFailed",
    "BodyTooLarge",
    "BrokerUnavailable",
    "ConfigurationError",
    "ContractError",
    "CounterpartUnavailable",
    "DecodeError",
    "PermanentError",
    "PolicyRefused",
    "PublishNotConfirmed",
    "RenkeiError",
    "SealError",
    "SenderNotPermitted",
    "StoreUnavailable",
    "TransientError",
    "UnknownMessageType",
    "Unroutable",
    "ValidationFailed",
    "WireFormatError",
    "is_transient",
]


class RenkeiError(Exception):
    """Root of every renkei error.

    Attributes:
        code: a short machine-readable reason, carried in dead-letter headers (``x-renkei-reason``).
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class TransientError(RenkeiError):
    """A failure that may go away by itself: retry later with back-off."""

    code = "transient"


class PermanentError(RenkeiError):
    """A failure no retry can cure: dead-letter the message with its reason."""

    code = "permanent"


class BrokerUnavailable(TransientError):
    """The broker cannot be reached or closed the connection or channel."""

    code = "broker_unavailable"


class PublishNotConfirmed(TransientError):
    """The broker nacked a publish, or no confirm arrived in time."""

    code = "publish_not_confirmed"


class StoreUnavailable(TransientError):
    """The database could not be reached or the transaction could not commit."""

    code = "store_unavailable"


class AuditWriteFailed(TransientError):
    """The access record could not be written durably; nothing that depends on it may proceed."""

    code = "audit_write_failed"


class CounterpartUnavailable(TransientError):
    """An outside network (J-LIS, the intermediate server, eLTAX) did not answer."""

    code = "counterpart_unavailable"


class ContractError(PermanentError):
    """The message breaks its contract."""

    code = "contract_violation"


class DecodeError(ContractError):
    """The body cannot be decoded at all."""

    code = "undecodable"


class UnknownMessageType(ContractError):
    """No contract is registered for the message's type and schema version."""

    code = "unknown_message_type"


class ValidationFailed(ContractError):
    """The envelope or the payload does not validate against its contract."""

    code = "validation_failed"


class WireFormatError(ContractError):
    """A counterpart file or record breaks its documented layout."""

    code = "wire_format"


class BodyTooLarge(ContractError):
    """The body is over the size limit of its message type: refused unread, before anything decodes it.

    Attributes:
        size: the body's size in bytes as it arrived.
        limit: the limit in force for its message type.
        kept: how many bytes of its beginning the dead letter keeps (at most ``limit``).
    """

    code = "too_large"

    def __init__(self, message: str, *, size: int, limit: int, kept: int | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit
        self.kept = limit if kept is None else min(kept, limit)


class Unroutable(PermanentError):
    """No queue is bound for the message's destination.

    Attributes:
        message_ids: the ids of the messages no queue took (the rest of the batch was published).
    """

    code = "unroutable"

    def __init__(self, message: str, *, message_ids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message_ids = message_ids


class PolicyRefused(PermanentError):
    """The number policy or the legal-basis table does not allow this exchange."""

    code = "policy_refused"


class ActorNotPermitted(PolicyRefused):
    """The actor on whose behalf a message runs may not do its 事務, or no actor can be established.

    The seed splits the work: (2)(6)(9) only by a 構成組合, (4)(5)(7) only by the federation. A message
    outside its actor's 事務 is refused, dead-lettered and recorded REFUSED; nothing of it is sent.
    """

    code = "actor_not_permitted"


class SealError(PermanentError):
    """A sealed value failed authentication: tampered, moved to another message or field, or wrong key."""

    code = "seal_invalid"


class SenderNotPermitted(PermanentError):
    """The sender is not proven or not allowed.

    Raised by a transport asked to publish with an AMQP ``user_id`` other than its connection's user
    (RabbitMQ refuses such a publish: "Validated User-ID"), and by the hub for a message whose broker-proven
    ``user_id`` is missing, may not send its type, or does not match the envelope's ``source``.
    """

    code = "sender_not_permitted"


class AlreadyExists(PermanentError):
    """A record with this id is stored already (an approval request, a record id); nothing was written.

    Stores check before they insert, so this is raised without a database error. Two transactions racing
    to insert the same id are told apart by the database: the loser gets ``StoreUnavailable`` and, retried,
    this error.
    """

    code = "already_exists"


class ConfigurationError(PermanentError):
    """The settings are missing or invalid."""

    code = "configuration"


def is_transient(exc: BaseException) -> bool:
    """Tell whether ``exc`` is worth retrying later."""
    return isinstance(exc, TransientError)

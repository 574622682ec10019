"""Who may send which message, and how the hub tells who sent one: the broker proves it, not the envelope.

Every renkei service connects to RabbitMQ as its own broker user, ``{prefix}-{role}`` (``hub``,
``adapter-<name>``, ``simulator-<counterpart>``, ``console``, ``operator``), and every message carries that
user as its
AMQP ``user_id``, which RabbitMQ validates against the connection. The *sender table* (``hub/senders.toml``,
one row per message type and sender) says which role may send which type, which envelope ``source`` that
role may claim, and which queue consumes it. :func:`check_sender` applies it to one delivery on the hub's
ingress.

Who the sender of a delivery is (:meth:`SenderIdentities.proven_sender`):

* its ``user_id`` names a role: that role;
* the role is ``hub`` and the message carries :data:`~hub.core.runtime.headers.SENDER`: the role named there.
Only the
  hub sets that header, on the copies it republishes itself (retry tiers, dead letters), to carry the sender
  it verified on the first delivery; only the hub's user can publish with the hub's ``user_id``, so an
  adapter that sets the header gains nothing;
* the role is a *replayer*, ``operator`` (``renkei dlq replay``) or ``console`` (the console's replay
  button): a replay of a dead letter. A replayer's word is not enough either: the hub
  accepts it only as the exact message (same id, type and body) of a dead letter it stored with a proven
  sender, and that stored sender is checked against the table as if it had sent the message again
  (:func:`replayed_sender`). A dead letter planted by a service, or one whose sender the hub could not
  prove, cannot be laundered through a replay;
* a *shared* user (development, while every service still connects as ``guest``): nobody is proven, and only
  the envelope's claim is checked against the table (see ``Settings.broker.identity``);
* anything else, or no ``user_id`` at all: refused.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Final

from contracts.envelope import Envelope
from contracts.errors import ConfigurationError, SenderNotPermitted
from hub.core.runtime import headers as h
from hub.core.runtime.retry import Exchanges
from hub.ports.dead_letters import DeadLetter, DeadLetterStatus

__all__ = [
    "CONSOLE",
    "HUB",
    "HUB_QUEUE",
    "OPERATOR",
    "REPLAYERS",
    "ReplayRoutes",
    "ReplayTarget",
    "SenderIdentities",
    "SenderRule",
    "SenderTable",
    "check_sender",
    "load_sender_table",
    "replayed_sender",
    "senders_markdown",
    "with_senders_section",
]

SECTION_BEGIN: Final = "<!-- senders:begin -->"
SECTION_END: Final = "<!-- senders:end -->"

HUB: Final = "hub"
OPERATOR: Final = "operator"
CONSOLE: Final = "console"
REPLAYERS: Final = frozenset({OPERATOR, CONSOLE})
"""The roles that replay dead letters and send nothing of their own: the operator's tools and the console."""
HUB_QUEUE: Final = "hub.ingress"
"""The hub's ingress queue, without the prefix."""

_ROLE = re.compile(r"^(hub|operator|console|adapter-[a-z_]+|simulator-[a-z_]+)$")
_QUEUE = re.compile(r"^(hub\.ingress|adapter\.[a-z_]+|counterpart\.[a-z_]+\.(inbound|outbound))$")
_TYPE = re.compile(r"^[a-z][a-z0-9_.]*$")


@dataclass(frozen=True, slots=True)
class SenderRule:
    """One row: ``sender`` may send ``message_type``, claiming ``source``, to ``queue``.

    Attributes:
        message_type: the message type (the envelope's, or ``<counterpart>.file`` on a link).
        sender: the broker role (user ``{prefix}-{sender}``).
        source: the envelope ``source`` the sender may claim; ``None`` for link files (no envelope).
        queue: the queue that consumes it, without the prefix (``hub.ingress``, ``adapter.jlis``, ...).
        note: what the message is, in Japanese for the federation's staff.
    """

    message_type: str
    sender: str
    source: str | None
    queue: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class SenderTable:
    """The sender table, indexed by message type."""

    rules: tuple[SenderRule, ...]
    _by_type: Mapping[str, tuple[SenderRule, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_type: dict[str, list[SenderRule]] = {}
        for rule in self.rules:
            by_type.setdefault(rule.message_type, []).append(rule)
        object.__setattr__(self, "_by_type", {t: tuple(rs) for t, rs in by_type.items()})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SenderTable:
        """Build from the parsed TOML document (``[[message]]`` rows).

        Raises:
            ConfigurationError: a row lacks a field, names a malformed role, type or queue, or repeats a
                (type, sender) pair; or a type consumed by the hub has more than one sender.
        """
        rows = data.get("message")
        if not isinstance(rows, list) or not rows:
            raise ConfigurationError("sender table: needs [[message]] rows")
        rules: list[SenderRule] = []
        seen: set[tuple[str, str]] = set()
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise ConfigurationError(f"sender table: message[{i}] is not a table")
            rule = SenderRule(
                message_type=_field(row, "type", _TYPE, i),
                sender=_field(row, "sender", _ROLE, i),
                source=str(row["source"]) if row.get("source") is not None else None,
                queue=_field(row, "queue", _QUEUE, i),
                note=str(row.get("note", "")),
            )
            if (rule.message_type, rule.sender) in seen:
                raise ConfigurationError(
                    f"sender table: {rule.message_type} from {rule.sender} is listed twice"
                )
            seen.add((rule.message_type, rule.sender))
            if rule.sender in REPLAYERS:
                raise ConfigurationError(
                    f"sender table: the {rule.sender} sends nothing of its own; it replays dead letters"
                )
            rules.append(rule)
        table = cls(tuple(rules))
        for message_type, listed in table._by_type.items():
            if any(r.queue == HUB_QUEUE for r in listed) and len(listed) > 1:
                raise ConfigurationError(f"sender table: {message_type} to the hub has more than one sender")
        return table

    def rules_for(self, message_type: str) -> tuple[SenderRule, ...]:
        """Every row of ``message_type`` (none for an unknown type)."""
        return self._by_type.get(message_type, ())

    def hub_rule(self, message_type: str) -> SenderRule | None:
        """The row of ``message_type`` on the hub's ingress, if the hub takes that type."""
        return next((r for r in self.rules_for(message_type) if r.queue == HUB_QUEUE), None)

    @property
    def message_types(self) -> frozenset[str]:
        """Every message type in the table."""
        return frozenset(self._by_type)

    @property
    def roles(self) -> frozenset[str]:
        """Every role that sends or consumes something, the replayers (operator, console) included."""
        consumers = {_consumer_role(r.queue) for r in self.rules}
        return frozenset({r.sender for r in self.rules} | consumers | REPLAYERS)

    def replay_queue(self, message_type: str, sender: str | None = None) -> str:
        """The queue (without the prefix) a dead letter of ``message_type`` is replayed to.

        Decided by the type alone, never by the dead letter's headers. A type with one row has one queue;
        a link file (one row per direction) needs the role that sent it or failed it (``sender``): the
        row that service sends, or the row it consumes.

        Raises:
            ConfigurationError: the type is not in the table, or its direction cannot be told.
        """
        listed = self.rules_for(message_type)
        if not listed:
            raise ConfigurationError(
                f"the hub does not know the message type {message_type!r}, so it cannot tell where it belongs"
            )
        if len(listed) == 1:
            return listed[0].queue
        for rule in listed:
            if sender is not None and sender in (rule.sender, _consumer_role(rule.queue)):
                return rule.queue
        raise ConfigurationError(
            f"{message_type} travels in {len(listed)} directions and the hub cannot prove which one this "
            "was (no proven sender)"
        )

    def stages(self) -> frozenset[str]:
        """Every failure stage a dead letter may name: the hub's and each consumer's."""
        stages = {"decode", "sender", "actor", "handle", "retry", "relay"}
        for rule in self.rules:
            stages.add(_stage(rule.queue))
            stages.add(rule.queue)  # the broker's: the queue it dead-lettered from
        return frozenset(stages)


def _consumer_role(queue: str) -> str:
    if queue == HUB_QUEUE:
        return HUB
    kind, _, rest = queue.partition(".")
    if kind == "adapter":
        return f"adapter-{rest}"
    counterpart, _, direction = rest.rpartition(".")
    return f"simulator-{counterpart}" if direction == "outbound" else f"adapter-{counterpart}"


def _stage(queue: str) -> str:
    """The stage name a host gives failures on ``queue`` (``hub.core.runtime.hosting``)."""
    if queue == HUB_QUEUE:
        return "handle"
    kind, _, rest = queue.partition(".")
    if kind == "adapter":
        return f"{rest}.from_hub"
    counterpart, _, direction = rest.rpartition(".")
    return f"{counterpart}.simulator" if direction == "outbound" else f"{counterpart}.from_counterpart"


def _field(row: Mapping[str, Any], name: str, pattern: re.Pattern[str], index: int) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigurationError(f"sender table: message[{index}] has no valid {name!r}")
    return value


@functools.cache
def load_sender_table(path: Path | None = None) -> SenderTable:
    """Load the sender table (``hub/senders.toml`` by default), once per process.

    Raises:
        ConfigurationError: the file is malformed (see :meth:`SenderTable.from_mapping`).
    """
    text = (
        path.read_text(encoding="utf-8")
        if path
        else resources.files("hub").joinpath("senders.toml").read_text(encoding="utf-8")
    )
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"sender table: not valid TOML ({exc})") from None
    return SenderTable.from_mapping(data)


@dataclass(frozen=True, slots=True)
class SenderIdentities:
    """How broker users map to roles.

    Attributes:
        prefix: the exchange prefix; role ``r`` connects as ``{prefix}-{r}``.
        roles: the roles that exist (:attr:`SenderTable.roles`).
        shared_users: users every service shares (development with ``guest``): they prove nobody, and a
            message from one is checked against the envelope's claim alone. Empty in production.
    """

    prefix: str
    roles: frozenset[str]
    shared_users: frozenset[str] = frozenset()

    def user(self, role: str) -> str:
        """The broker user of ``role``."""
        return f"{self.prefix}-{role}"

    def role_of(self, user_id: str | None) -> str | None:
        """The role a broker user is, or ``None`` for a user that is no role of this prefix."""
        if not user_id or not user_id.startswith(self.prefix + "-"):
            return None
        role = user_id[len(self.prefix) + 1 :]
        return role if role in self.roles else None

    def shared(self, user_id: str | None) -> bool:
        """Whether ``user_id`` is a shared user (development only): it proves no sender."""
        return user_id is not None and user_id in self.shared_users

    def proven_sender(self, user_id: str | None, headers: Mapping[str, object]) -> str | None:
        """The role that sent a message as far as the broker proves it (before any replay is resolved).

        ``hub`` with a :data:`~hub.core.runtime.headers.SENDER` header naming a role resolves to that role:
        the hub sets it on the copies it republishes (retries, dead letters) and nobody else can publish as
        the hub. Returns ``None`` when nothing is proven.
        """
        role = self.role_of(user_id)
        if role == HUB:
            carried = headers.get(h.SENDER)
            if isinstance(carried, bytes):
                carried = carried.decode("utf-8", errors="replace")
            if isinstance(carried, str) and carried not in REPLAYERS and carried in self.roles:
                return carried
        return role


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """Where a replay is published: ``exchange`` with ``routing_key`` reaches ``queue`` (a full name)."""

    exchange: str
    routing_key: str
    queue: str


@dataclass(frozen=True, slots=True)
class ReplayRoutes:
    """Where dead letters are replayed to: decided by the hub from the message type, never by a header.

    Args:
        exchanges: the topology's exchanges (a replay goes through the exchange its type normally takes, so
            the operator's broker user needs no right on the default exchange).
        prefix: the exchange prefix.
        proven_senders: brokers users are per service (production): a dead letter for the hub's ingress is
            replayed only when its proven sender is the one the table allows, since the hub would refuse
            any other. ``False`` with a shared development user, which proves nobody.
        senders: the sender table.
    """

    exchanges: Exchanges
    prefix: str
    proven_senders: bool = True
    senders: SenderTable = field(default_factory=load_sender_table)

    def target(self, message_type: str, sender: str | None) -> ReplayTarget:
        """The target of a dead letter of ``message_type`` whose proven sender is ``sender``.

        Raises:
            ConfigurationError: an unknown type, a direction that cannot be told, or (with proven senders)
                a message for the hub whose sender is not the one allowed: with a message for the operator.
        """
        queue = self.senders.replay_queue(message_type, sender)
        if queue == HUB_QUEUE and self.proven_senders:
            rule = self.senders.hub_rule(message_type)
            if rule is not None and sender != rule.sender:
                raise ConfigurationError(
                    f"{message_type} may be sent to the hub by {rule.sender} only, and this dead letter's "
                    f"sender is {'not proven' if sender is None else sender}: the hub would refuse it"
                )
        return self._address(queue)

    def _address(self, queue: str) -> ReplayTarget:
        full = f"{self.prefix}.{queue}"
        if queue == HUB_QUEUE:
            return ReplayTarget(self.exchanges.ingress, "hub", full)
        kind, _, rest = queue.partition(".")
        if kind == "adapter":
            return ReplayTarget(self.exchanges.route, rest, full)
        return ReplayTarget(self.exchanges.counterpart, rest, full)


def replayed_sender(
    dead_letter: DeadLetter | None,
    *,
    dead_letter_id: int | None,
    message_id: str | None,
    body: bytes,
    message_type: str,
) -> str:
    """The sender of a replay (by a :data:`REPLAYERS` role): the proven sender stored with the dead letter.

    Raises:
        SenderNotPermitted: the replay names no dead letter the hub stored, is not that dead letter's
            exact message (id, type, body), the dead letter is not being or been replayed, or the hub
            could not prove its sender when it stored it.
    """
    if dead_letter_id is None or dead_letter is None:
        raise SenderNotPermitted(
            "published by a replayer (operator or console) but not a replay of a dead letter the hub stored "
            f"({h.REPLAY_OF} names none)"
        )
    if dead_letter.status not in (DeadLetterStatus.REPLAYING, DeadLetterStatus.REPLAYED):
        raise SenderNotPermitted(
            f"dead letter {dead_letter_id} was not replayed (it is {dead_letter.status.value})"
        )
    if (dead_letter.message_id, dead_letter.message_type, dead_letter.body) != (
        message_id,
        message_type,
        body,
    ):
        raise SenderNotPermitted(f"the replay is not the message of dead letter {dead_letter_id}")
    if dead_letter.sender is None:
        raise SenderNotPermitted(
            f"dead letter {dead_letter_id} has no proven sender (planted, from a shared broker user, or "
            "stored before senders were proven): it cannot be replayed to the hub; have its sender send it "
            "again"
        )
    return dead_letter.sender


def check_sender(table: SenderTable, envelope: Envelope, sender: str | None, *, shared: bool = False) -> None:
    """Refuse ``envelope`` on the hub's ingress unless ``sender`` may send it and its ``source`` fits.

    Args:
        table: the sender table.
        envelope: the decoded envelope.
        sender: the proven role (replays already resolved); ``None`` when nothing is proven.
        shared: the message came from a shared broker user (development): only the envelope's claim is
            checked.

    Raises:
        SenderNotPermitted: with a message that names the type, the proven sender and what the table allows.
    """
    rule = table.hub_rule(envelope.message_type)
    if rule is None:
        raise SenderNotPermitted(
            f"no service may send {envelope.message_type} to the hub (not in the sender table)"
        )
    if not shared:
        if sender is None:
            raise SenderNotPermitted(
                f"{envelope.message_type}: no proven sender (the message has no user_id of a renkei service)"
            )
        if sender != rule.sender:
            raise SenderNotPermitted(
                f"{envelope.message_type} may be sent by {rule.sender} only, not by {sender}"
            )
    if envelope.source != rule.source:
        raise SenderNotPermitted(
            f"{envelope.message_type} from {rule.sender} must claim source {rule.source!r}, "
            f"not {envelope.source!r}"
        )


def senders_markdown(table: SenderTable, prefix: str = "renkei") -> str:
    """The sender table as the Markdown table of ``docs/security.md`` (between its ``senders`` markers)."""
    lines = [
        "| message type | sent by (broker user) | envelope source | consumed from | what it is |",
        "|---|---|---|---|---|",
    ]
    for rule in sorted(table.rules, key=lambda r: (r.queue != HUB_QUEUE, r.queue, r.message_type, r.sender)):
        source = f"`{rule.source}`" if rule.source else "—"
        lines.append(
            f"| `{rule.message_type}` | `{prefix}-{rule.sender}` | {source} | `{prefix}.{rule.queue}` "
            f"| {rule.note} |"
        )
    return "\n".join(lines) + "\n"


def with_senders_section(document: str, table: SenderTable, prefix: str = "renkei") -> str:
    """``document`` with the text between its senders markers replaced by :func:`senders_markdown`.

    ``tests/unit/test_security_doc.py`` keeps ``docs/security.md`` equal to it, and rewrites the section
    when run with ``RENKEI_WRITE_DOCS=1``.

    Raises:
        ConfigurationError: the document lacks the markers.
    """
    begin, end = document.find(SECTION_BEGIN), document.find(SECTION_END)
    if begin < 0 or end < begin:
        raise ConfigurationError(f"the document has no {SECTION_BEGIN} ... {SECTION_END} section")
    head = document[: begin + len(SECTION_BEGIN)]
    return f"{head}\n{senders_markdown(table, prefix)}{document[end:]}"

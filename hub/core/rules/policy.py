"""The number policy: which destination may receive Individual Numbers, for what, on which basis.

The policy is declarative: the purpose table's uses that carry a number (``contracts/purpose_table.toml``,
``carries = "number"``), loaded at start-up by the composition root. Anything it does not allow is refused
before a number is sealed: the message is
dead-lettered with reason ``policy_refused`` and the refusal is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.envelope import Purpose
from contracts.errors import ConfigurationError, PolicyRefused
from contracts.purpose_table import PurposeTable

__all__ = ["NumberPolicy", "PolicyRule"]


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One permission: ``destination`` may receive numbers in ``message_type`` for ``purpose``."""

    destination: str
    message_type: str
    purpose: str
    laws: frozenset[str]
    """The statutes one of which must appear among the message's legal bases."""


class NumberPolicy:
    """A set of :class:`PolicyRule`; everything not allowed is refused."""

    def __init__(self, rules: Iterable[PolicyRule]) -> None:
        self._rules = {(r.destination, r.message_type, r.purpose): r for r in rules}

    @classmethod
    def from_table(cls, table: PurposeTable) -> NumberPolicy:
        """The uses of the purpose table that carry a number: destination, message type, purpose, laws."""
        return cls(
            PolicyRule(u.destination, u.message_type, u.code, u.laws)
            for u in table.uses.values()
            if u.carries == "number"
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> NumberPolicy:
        """Build from the parsed TOML document (``[[allow]]`` tables)."""
        entries = data.get("allow")
        if not isinstance(entries, list):
            raise ConfigurationError("the number policy needs a list of [[allow]] tables")
        rules = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigurationError(f"number policy: allow[{index}] is not a table")
            try:
                rules.append(
                    PolicyRule(
                        destination=str(entry["destination"]),
                        message_type=str(entry["message_type"]),
                        purpose=str(entry["purpose"]),
                        laws=frozenset(str(law) for law in entry["laws"]),
                    )
                )
            except KeyError as exc:
                raise ConfigurationError(f"number policy: allow[{index}] lacks {exc.args[0]!r}") from None
        return cls(rules)

    def check(self, *, destination: str, message_type: str, purpose: Purpose) -> None:
        """Raise :class:`PolicyRefused` unless numbers may go to ``destination`` in this message."""
        rule = self._rules.get((destination, message_type, purpose.code))
        if rule is None:
            raise PolicyRefused(
                f"the number policy does not allow {destination} to receive numbers in {message_type} "
                f"for purpose {purpose.code}"
            )
        if not any(basis.law in rule.laws for basis in purpose.legal_basis):
            raise PolicyRefused(
                f"{message_type} to {destination} needs a legal basis under {', '.join(sorted(rule.laws))}"
            )

    def __len__(self) -> int:
        return len(self._rules)

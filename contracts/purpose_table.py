"""The purpose table (利用目的の表): why a number is held, what it may be used for, on whose behalf.

The table is data (``contracts/purpose_table.toml``), loaded once and shared by every part that needs a rule
of it: the hub's number policy and legal-basis table, the purpose check before a number is sealed, the actor
check of every message, the adapters' purposes and the generated ``docs/legal-basis.md``. A rule lives there
once.

The vocabulary:

* a **basis** is an article (and table row) of a law, marked ``verified`` or ``inferred``;
* an **actor** is the body on whose behalf a message runs: the federation (市町村連合会) or one 構成組合;
* a **jimu** is one of the seed's ten 事務, done by the federation, by 構成組合, or by both;
* a **role** is what a person is to the federation (年金受給権者, 同一住所の者, 加給年金額対象配偶者,
  扶養控除対象者);
* **held under** is how the federation obtained a number (from J-LIS, from a 扶養親族等申告書, from a
  claim form);
* a **use** is one outgoing use of a number; it names its bases and the (role, held under) pairs that
  permit it.

This module imports nothing of the project beyond :mod:`contracts`; it raises :class:`ConfigurationError`
for a table that breaks its own rules, so that a broken table stops every process at start.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

from contracts.envelope import ACTOR_PATTERN, LegalBasis, Purpose
from contracts.errors import ConfigurationError
from contracts.usage_number import UsageNumberKind

__all__ = [
    "ANY",
    "FEDERATION",
    "Actor",
    "ActorKind",
    "Basis",
    "HeldUnder",
    "Jimu",
    "Law",
    "PurposeTable",
    "Refusal",
    "RefusalReason",
    "Role",
    "Use",
    "default_table",
    "load_table",
]

FEDERATION: Final = "federation"
"""The actor code of 全国市町村職員共済組合連合会 itself."""
ANY: Final = "any"
"""In a use's ``permits``: any basis, including none yet (a number still to be obtained)."""
_ASSOCIATION: Final = "association"
_STATUSES: Final = frozenset({"verified", "inferred"})


class ActorKind(StrEnum):
    """What kind of body an actor is."""

    FEDERATION = "federation"
    SHITEI = "shitei"
    """指定都市職員共済組合."""
    SHICHOSON = "shichoson"
    """市町村職員共済組合."""
    TOSHI = "toshi"
    """都市職員共済組合."""


class RefusalReason(StrEnum):
    """Why a use of a number was refused (what the pension system can act on)."""

    ACTOR_NOT_PERMITTED = "actor_not_permitted"
    """The actor may not do this 事務 (the seed's split between the federation and the 構成組合)."""
    ROLE_NOT_PERMITTED = "role_not_permitted"
    """The person holds no role this use serves (for example a 扶養控除対象者 only, asked about at J-LIS)."""
    BASIS_NOT_PERMITTED = "basis_not_permitted"
    """The person has a role the use serves, but the number was obtained under a basis that does not allow
    it."""
    NO_RECORDED_BASIS = "no_recorded_basis"
    """The vault records no basis for the person's number."""


@dataclass(frozen=True, slots=True)
class Law:
    """A statute or ordinance."""

    code: str
    name: str
    short: str
    url: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Basis:
    """One article (and table row) of a law, with its verification status and public source."""

    code: str
    law: Law
    article: str
    summary: str
    status: str
    source: str
    item: str | None = None
    legacy: str | None = None

    @property
    def text(self) -> str:
        """How the basis is cited: ``住基法 第30条の9 別表第一 19の項``."""
        return f"{self.law.short} {self.article}{' ' + self.item if self.item else ''}"

    @property
    def legal_basis(self) -> LegalBasis:
        """The basis as an envelope's :class:`LegalBasis` (the statute's full name)."""
        return LegalBasis(law=self.law.name, article=self.article, item=self.item)


@dataclass(frozen=True, slots=True)
class Actor:
    """The body on whose behalf a message runs."""

    code: str
    name: str
    kind: ActorKind

    @property
    def federation(self) -> bool:
        """Whether this is the federation itself."""
        return self.kind is ActorKind.FEDERATION


@dataclass(frozen=True, slots=True)
class Jimu:
    """One of the seed's ten 事務 and the kinds of actor that may do it."""

    no: int
    name: str
    federation: bool
    association: bool

    def allows(self, actor: Actor) -> bool:
        """Whether ``actor`` may do this 事務."""
        return self.federation if actor.federation else self.association

    @property
    def actors_text(self) -> str:
        """Who may do it, in words."""
        both = self.federation and self.association
        return "市町村連合会・構成組合" if both else "市町村連合会のみ" if self.federation else "構成組合のみ"


@dataclass(frozen=True, slots=True)
class Role:
    """A kind of person the seed's 利用番号 identify."""

    code: str
    name: str
    usage_kinds: frozenset[UsageNumberKind]


@dataclass(frozen=True, slots=True)
class HeldUnder:
    """How a number was obtained, and so under which basis it is held."""

    code: str
    name: str
    bases: tuple[Basis, ...]
    roles: frozenset[str]
    retention: str
    """The retention basis the vault keeps such a number with (``Retention.basis``)."""
    kept_under: tuple[Basis, ...]
    """The articles that say how long such a number is kept."""
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a use was refused: a reason code, the rule (the use) and a sentence naming both."""

    reason: RefusalReason
    use: str
    message: str

    @property
    def rule(self) -> str:
        """The rule that refused: ``purpose_table:<use>``."""
        return f"purpose_table:{self.use}"


@dataclass(frozen=True, slots=True)
class Use:
    """One outgoing use of a number."""

    code: str
    name: str
    jimu: Jimu
    destination: str
    message_type: str
    carries: str
    bases: tuple[Basis, ...]
    permits: Mapping[str, frozenset[str]]
    """role → the held-under codes (or :data:`ANY`) under which a number of that role may be used."""

    @property
    def purpose(self) -> Purpose:
        """The envelope purpose of this use: its code and every basis."""
        return Purpose(code=self.code, legal_basis=tuple(b.legal_basis for b in self.bases))

    def allows(self, role: str, held_under: str | None) -> bool:
        """Whether a number of a person in ``role``, held under ``held_under``, may be used so.

        ``held_under`` is ``None`` for a person the vault holds no number for yet.
        """
        allowed = self.permits.get(role, frozenset())
        return ANY in allowed or (held_under is not None and held_under in allowed)

    @property
    def laws(self) -> frozenset[str]:
        """The statutes of its bases (full names)."""
        return frozenset(b.law.name for b in self.bases)


def _text(entry: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"purpose table: {where} needs a text {key!r}")
    return value


def _req(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = _text(entry, key, where)
    assert value is not None
    return value


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigurationError(f"purpose table: [[{key}]] must be tables")
    return entries


def _strings(entry: Mapping[str, Any], key: str, where: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigurationError(f"purpose table: {where} {key!r} must be a list of texts")
    return value


def _unique(codes: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise ConfigurationError(f"purpose table: {what} {code!r} is listed twice")
        seen.add(code)


class PurposeTable:
    """The loaded table: laws, bases, actors, 事務, roles, held-under bases and uses, plus the raw document.

    Attributes:
        data: the parsed TOML document (the information-provision network's sections are read from it by the
            hub's legal-basis table).
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        laws = {}
        for i, e in enumerate(_tables(data, "law")):
            where = f"law[{i}]"
            laws[_req(e, "code", where)] = Law(
                _req(e, "code", where),
                _req(e, "name", where),
                _req(e, "short", where),
                _req(e, "url", where),
                _text(e, "note", where, optional=True),
            )
        self.laws: Mapping[str, Law] = laws
        self.bases: Mapping[str, Basis] = self._bases(data)
        self.actors: Mapping[str, Actor] = self._actors(data)
        self.jimu: Mapping[int, Jimu] = self._jimu(data)
        self.roles: Mapping[str, Role] = self._roles(data)
        self.held_under: Mapping[str, HeldUnder] = self._held(data)
        self.uses: Mapping[str, Use] = self._uses(data)
        self.requests: Mapping[str, tuple[Jimu, Purpose]] = self._requests(data)

    # -- loading ---------------------------------------------------------------------------------------------

    def _bases(self, data: Mapping[str, Any]) -> dict[str, Basis]:
        entries = _tables(data, "basis")
        _unique((str(e.get("code")) for e in entries), "basis")
        bases = {}
        for i, e in enumerate(entries):
            where = f"basis[{i}]"
            law = self.laws.get(_req(e, "law", where))
            if law is None:
                raise ConfigurationError(f"purpose table: {where} names an unknown law {e.get('law')!r}")
            status = _req(e, "status", where)
            if status not in _STATUSES:
                raise ConfigurationError(f"purpose table: {where} status is 'verified' or 'inferred'")
            basis = Basis(
                code=_req(e, "code", where),
                law=law,
                article=_req(e, "article", where),
                summary=_req(e, "summary", where),
                status=status,
                source=_req(e, "source", where),
                item=_text(e, "item", where, optional=True),
                legacy=_text(e, "legacy", where, optional=True),
            )
            bases[basis.code] = basis
        return bases

    @staticmethod
    def _actors(data: Mapping[str, Any]) -> dict[str, Actor]:
        entries = _tables(data, "actor")
        _unique((str(e.get("code")) for e in entries), "actor")
        actors = {}
        for i, e in enumerate(entries):
            where = f"actor[{i}]"
            code = _req(e, "code", where)
            if not re.fullmatch(ACTOR_PATTERN, code):
                raise ConfigurationError(f"purpose table: {where} code must match {ACTOR_PATTERN}")
            try:
                kind = ActorKind(_req(e, "kind", where))
            except ValueError:
                raise ConfigurationError(f"purpose table: {where} has an unknown kind") from None
            actors[code] = Actor(code, _req(e, "name", where), kind)
        federations = [a for a in actors.values() if a.federation]
        if [a.code for a in federations] != [FEDERATION]:
            raise ConfigurationError(
                f"purpose table: exactly one actor is the federation, coded {FEDERATION!r}"
            )
        return actors

    @staticmethod
    def _jimu(data: Mapping[str, Any]) -> dict[int, Jimu]:
        jimu = {}
        for i, e in enumerate(_tables(data, "jimu")):
            where = f"jimu[{i}]"
            no = e.get("no")
            if not isinstance(no, int) or isinstance(no, bool) or no in jimu:
                raise ConfigurationError(f"purpose table: {where} needs a distinct integer 'no'")
            actors = set(_strings(e, "actors", where))
            if not actors or actors - {FEDERATION, _ASSOCIATION}:
                raise ConfigurationError(
                    f"purpose table: {where} actors are 'federation' and/or 'association'"
                )
            jimu[no] = Jimu(no, _req(e, "name", where), FEDERATION in actors, _ASSOCIATION in actors)
        return jimu

    @staticmethod
    def _roles(data: Mapping[str, Any]) -> dict[str, Role]:
        roles = {}
        claimed: dict[UsageNumberKind, str] = {}
        for i, e in enumerate(_tables(data, "role")):
            where = f"role[{i}]"
            code = _req(e, "code", where)
            try:
                kinds = frozenset(UsageNumberKind(k) for k in _strings(e, "usage_kinds", where))
            except ValueError:
                raise ConfigurationError(f"purpose table: {where} names an unknown usage kind") from None
            for kind in kinds:
                if kind in claimed:
                    raise ConfigurationError(f"purpose table: usage kind {kind.value} names two roles")
                claimed[kind] = code
            roles[code] = Role(code, _req(e, "name", where), kinds)
        missing = set(UsageNumberKind) - set(claimed)
        if missing:
            names = ", ".join(sorted(k.value for k in missing))
            raise ConfigurationError(f"purpose table: usage kinds {names} name no role")
        return roles

    def _basis_list(self, entry: Mapping[str, Any], where: str, key: str = "bases") -> tuple[Basis, ...]:
        codes = _strings(entry, key, where)
        unknown = [c for c in codes if c not in self.bases]
        if unknown or not codes:
            raise ConfigurationError(f"purpose table: {where} {key} must be known and not empty ({unknown})")
        return tuple(self.bases[c] for c in codes)

    def _held(self, data: Mapping[str, Any]) -> dict[str, HeldUnder]:
        held = {}
        for i, e in enumerate(_tables(data, "held_under")):
            where = f"held_under[{i}]"
            roles = frozenset(_strings(e, "roles", where))
            if roles - set(self.roles):
                raise ConfigurationError(f"purpose table: {where} names an unknown role")
            code = _req(e, "code", where)
            if code == ANY:
                raise ConfigurationError(f"purpose table: {where} code {ANY!r} is reserved")
            held[code] = HeldUnder(
                code,
                _req(e, "name", where),
                self._basis_list(e, where),
                roles,
                _req(e, "retention", where),
                self._basis_list(e, where, key="kept_under"),
                _text(e, "note", where, optional=True),
            )
        return held

    def held_under_retention(self, retention: str) -> tuple[HeldUnder, ...]:
        """The ways of holding a number the vault keeps with retention basis ``retention`` (none: unknown)."""
        return tuple(h for h in self.held_under.values() if h.retention == retention)

    def _jimu_named(self, entry: Mapping[str, object]) -> Jimu | None:
        """The 事務 an entry's ``jimu`` names by its number, or None (not a whole number, or unknown)."""
        no = entry.get("jimu")
        return self.jimu.get(no) if isinstance(no, int) and not isinstance(no, bool) else None

    def _uses(self, data: Mapping[str, Any]) -> dict[str, Use]:
        uses = {}
        entries = _tables(data, "use")
        _unique((str(e.get("code")) for e in entries), "use")
        for i, e in enumerate(entries):
            where = f"use[{i}]"
            jimu = self._jimu_named(e)
            if jimu is None:
                raise ConfigurationError(f"purpose table: {where} names an unknown jimu")
            raw = e.get("permits")
            if not isinstance(raw, dict) or not raw:
                raise ConfigurationError(f"purpose table: {where} needs a table 'permits'")
            permits = {}
            for role, held in raw.items():
                if role not in self.roles:
                    raise ConfigurationError(f"purpose table: {where} permits an unknown role {role!r}")
                if not isinstance(held, list) or not held or set(held) - set(self.held_under) - {ANY}:
                    raise ConfigurationError(f"purpose table: {where} permits {role} under unknown bases")
                permits[role] = frozenset(str(h) for h in held)
            carries = _req(e, "carries", where)
            if carries not in {"number", "code", "basic_info", "none"}:
                raise ConfigurationError(f"purpose table: {where} carries number, code, basic_info or none")
            uses[_req(e, "code", where)] = Use(
                code=_req(e, "code", where),
                name=_req(e, "name", where),
                jimu=jimu,
                destination=_req(e, "destination", where),
                message_type=_req(e, "message_type", where),
                carries=carries,
                bases=self._basis_list(e, where),
                permits=permits,
            )
        return uses

    def _requests(self, data: Mapping[str, Any]) -> dict[str, tuple[Jimu, Purpose]]:
        requests = {}
        for i, e in enumerate(_tables(data, "request")):
            where = f"request[{i}]"
            message_type = _req(e, "message_type", where)
            jimu = self._jimu_named(e)
            if jimu is None or message_type in requests:
                raise ConfigurationError(f"purpose table: {where} needs a known jimu and a type listed once")
            bases = self._basis_list(e, where)
            purpose = Purpose(code=_req(e, "purpose", where), legal_basis=tuple(b.legal_basis for b in bases))
            requests[message_type] = (jimu, purpose)
        return requests

    # -- questions -------------------------------------------------------------------------------------------

    def request_jimu(self, message_type: str) -> Jimu | None:
        """The 事務 a request of the pension system serves (``None``: not a request the table knows)."""
        found = self.requests.get(message_type)
        return None if found is None else found[0]

    def request_purpose(self, message_type: str) -> Purpose:
        """The purpose a request of the pension system travels under.

        Raises:
            ConfigurationError: the table lists no such request.
        """
        found = self.requests.get(message_type)
        if found is None:
            raise ConfigurationError(f"the purpose table lists no request {message_type!r}")
        return found[1]

    def use(self, code: str) -> Use:
        """The use ``code``.

        Raises:
            ConfigurationError: the table has no such use (a code bug: fail closed).
        """
        try:
            return self.uses[code]
        except KeyError:
            raise ConfigurationError(f"the purpose table has no use {code!r}") from None

    def actor(self, code: str | None) -> Actor | None:
        """The actor ``code``, if the table knows it."""
        return None if code is None else self.actors.get(code)

    def actor_name(self, code: str | None) -> str:
        """The actor's name, or the code itself when unknown."""
        actor = self.actor(code)
        return actor.name if actor is not None else (code or "(unknown)")

    def role_of_kind(self, kind: UsageNumberKind) -> str:
        """The role a usage number of ``kind`` names when nothing else says which role the person has."""
        return next(r.code for r in self.roles.values() if kind in r.usage_kinds)

    def may_do(self, actor_code: str | None, jimu: int) -> Refusal | None:
        """``None`` when ``actor_code`` may do 事務 ``jimu``; otherwise why not."""
        actor = self.actor(actor_code)
        rule = self.jimu[jimu]
        if actor is None:
            return Refusal(
                RefusalReason.ACTOR_NOT_PERMITTED,
                f"jimu.{jimu}",
                f"事務({jimu}) needs a known actor; {actor_code or 'none'} is not in the actor list",
            )
        if not rule.allows(actor):
            return Refusal(
                RefusalReason.ACTOR_NOT_PERMITTED,
                f"jimu.{jimu}",
                f"事務({jimu}) {rule.name} is done by {rule.actors_text}; "
                f"{actor.name} ({actor.code}) may not",
            )
        return None

    def check(
        self, use_code: str, *, actor: str | None, grounds: Iterable[tuple[str, str | None]]
    ) -> Refusal | None:
        """``None`` when the use is allowed; otherwise the refusal.

        Args:
            use_code: the use.
            actor: the actor on whose behalf the message runs.
            grounds: the person's (role, held-under) pairs; held-under ``None`` for a number not yet obtained.
        """
        use = self.use(use_code)
        refused = self.may_do(actor, use.jimu.no)
        if refused is not None:
            return Refusal(refused.reason, use.code, refused.message)
        pairs = list(grounds)
        if not pairs:
            return Refusal(
                RefusalReason.NO_RECORDED_BASIS,
                use.code,
                f"{use.name}: the vault records no role or basis for this person's number",
            )
        if any(use.allows(role, held) for role, held in pairs):
            return None
        served = [r for r, _ in pairs if r in use.permits]
        had = ", ".join(sorted({self._ground_text(r, h) for r, h in pairs}))
        wanted = "; ".join(
            f"{self.roles[r].name} ({', '.join(self._held_text(h) for h in sorted(held))})"
            for r, held in use.permits.items()
        )
        reason = RefusalReason.BASIS_NOT_PERMITTED if served else RefusalReason.ROLE_NOT_PERMITTED
        return Refusal(reason, use.code, f"{use.name} serves {wanted}; the person is held as {had}")

    def _held_text(self, code: str | None) -> str:
        if code is None:
            return "番号未取得"
        if code == ANY:
            return "取得前を含む"
        held = self.held_under.get(code)
        return held.name if held else code

    def _ground_text(self, role: str, held: str | None) -> str:
        name = self.roles[role].name if role in self.roles else role
        return f"{name} ({self._held_text(held)})"

    def uses_of(self, message_type: str) -> list[Use]:
        """The uses of a message type (several for an information query: one per table item)."""
        return [u for u in self.uses.values() if u.message_type == message_type]

    def jimu_of_uses(self, codes: Sequence[str]) -> set[int]:
        """The 事務 of some uses."""
        return {self.use(c).jimu.no for c in codes}


def load_table(path: Path | None = None) -> PurposeTable:
    """Load the table from ``path`` or the one kept in the repository (``contracts/purpose_table.toml``).

    Raises:
        ConfigurationError: the file cannot be read, is not TOML, or breaks the table's rules.
    """
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path is not None
            else resources.files("contracts").joinpath("purpose_table.toml").read_text(encoding="utf-8")
        )
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"the purpose table cannot be read: {exc}") from exc
    return PurposeTable(data)


@functools.cache
def default_table() -> PurposeTable:
    """The table kept in the repository, loaded once per process."""
    return load_table()

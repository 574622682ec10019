"""The legal-basis table of the information-provision network: which query may leave the hub.

番号法 第19条第8号 and the 主務省令 table (令和6年デジタル庁・総務省令第9号 第2条) say which 情報照会者 may
ask which 情報提供者 for which 利用特定個人情報, for which 事務. The table is data, kept in the repository as
part of the purpose table (``contracts/purpose_table.toml``: ``[[spi]]``, ``[[provider]]``, ``[[query]]``,
``[[provide]]``) and loaded at start-up by the composition root; the hub core checks every query against it
before anything leaves. Which actor may query at all (事務(9): 構成組合 only) is the purpose table's use of
each query row, checked by :mod:`hub.core.flows.purpose`. Anything it does not allow is refused with
:class:`LegalBasisRefused` (a :class:`~contracts.errors.PolicyRefused`), whose message names codes and items,
never a person.

Every row carries both numberings, the current one (item of 第2条の表 and the article that details it) and
the legacy one (item of the old 別表第二), because 情報提供等の記録 keep both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.errors import ConfigurationError, PolicyRefused
from contracts.messages.intermediate_server import TableBasis

__all__ = [
    "MUNICIPALITY",
    "LegalBasisRefused",
    "LegalBasisTable",
    "ProvideRule",
    "QueryPermission",
    "QueryRule",
    "SpecificInfo",
    "current_text",
    "legacy_text",
]

MUNICIPALITY = "市町村長"
"""The provider kind of every six-digit organisation code (全国地方公共団体コード)."""


class LegalBasisRefused(PolicyRefused):
    """The legal-basis table does not allow this query (code ``policy_refused``: recorded as REFUSED)."""


@dataclass(frozen=True, slots=True)
class SpecificInfo:
    """A 特定個人情報名: its code (``TM`` + 14 digits), its name and, for queries, the info kind."""

    code: str
    name: str
    kind: str | None = None

    @property
    def text(self) -> str:
        """How the item appears in a 情報提供等の記録, e.g. ``TM00000000000021 地方税関係情報``."""
        return f"{self.code} {self.name}"


@dataclass(frozen=True, slots=True)
class QueryRule:
    """One row: ``requester`` may ask a ``provider_kind`` for ``spi_codes`` in task ``jimu_code``.

    ``use`` is the purpose table's use the row is (whose roles and actors the purpose check applies).
    """

    requester: str
    use: str
    jimu_code: str
    jimu_name: str
    current_item: int
    current_article: str
    legacy_item: int | None
    provider_kind: str
    spi_codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class ProvideRule:
    """One row where the federation (or a 構成組合) provides from its 副本 to a ``requester_kind``.

    Either numbering may be unknown (``None``): the seed names the legacy items only, and the current items
    of most rows are not mapped. ``dataset`` is the 副本's data set the row is served from; ``status`` says
    whether the row was read in a public text (``verified``) or inferred.
    """

    requester_kind: str
    jimu_name: str
    current_item: int | None
    current_article: str | None
    legacy_item: int | None
    spi_codes: frozenset[str]
    dataset: str | None = None
    status: str = "inferred"


def current_text(item: int, article: str) -> str:
    """The current numbering as recorded: ``命令第2条の表 84の項（第86条）``."""
    return f"令和6年デジタル庁・総務省令第9号 第2条の表 {item}の項（{article}）"


def legacy_text(item: int | None) -> str | None:
    """The legacy numbering as recorded: ``番号法 別表第二 59の項``, or ``None`` when the table has none."""
    return None if item is None else f"番号法 別表第二 {item}の項"


@dataclass(frozen=True, slots=True)
class QueryPermission:
    """What the table allowed: the row and the item, with the texts a 情報提供等の記録 keeps."""

    rule: QueryRule
    spi: SpecificInfo
    provider_kind: str

    @property
    def jimu_text(self) -> str:
        """The task, code and name."""
        return f"{self.rule.jimu_code} {self.rule.jimu_name}"

    @property
    def basis_current(self) -> str:
        """The current numbering."""
        return current_text(self.rule.current_item, self.rule.current_article)

    @property
    def basis_legacy(self) -> str | None:
        """The legacy numbering."""
        return legacy_text(self.rule.legacy_item)


def _str(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"legal-basis table: {where} needs a text {key!r}")
    return value


def _int(entry: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> int | None:
    value = entry.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 300:
        raise ConfigurationError(f"legal-basis table: {where} needs {key!r} between 1 and 300")
    return value


def _codes(entry: Mapping[str, Any], where: str, known: Mapping[str, SpecificInfo]) -> frozenset[str]:
    codes = entry.get("spi_codes")
    if not isinstance(codes, list) or not codes:
        raise ConfigurationError(f"legal-basis table: {where} needs a list 'spi_codes'")
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ConfigurationError(f"legal-basis table: {where} names unknown spi codes {unknown}")
    return frozenset(str(c) for c in codes)


def _list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConfigurationError(f"legal-basis table: [[{key}]] must be tables")
    return entries


def _provide(e: Mapping[str, Any], where: str, spis: Mapping[str, SpecificInfo]) -> ProvideRule:
    current = _int(e, "current_item", where, optional=True)
    legacy = _int(e, "legacy_item", where, optional=True)
    if current is None and legacy is None:
        raise ConfigurationError(f"legal-basis table: {where} needs current_item or legacy_item")
    article = e.get("current_article")
    if current is not None and (not isinstance(article, str) or not article):
        raise ConfigurationError(f"legal-basis table: {where} gives current_item without current_article")
    dataset = e.get("dataset")
    return ProvideRule(
        requester_kind=_str(e, "requester_kind", where),
        jimu_name=_str(e, "jimu_name", where),
        current_item=current,
        current_article=article if isinstance(article, str) and article else None,
        legacy_item=legacy,
        spi_codes=_codes(e, where, spis),
        dataset=str(dataset) if dataset else None,
        status=str(e.get("status", "inferred")),
    )


class LegalBasisTable:
    """The table; everything it does not allow is refused."""

    def __init__(
        self,
        requester: str,
        spis: Iterable[SpecificInfo],
        providers: Mapping[str, str],
        queries: Iterable[QueryRule],
        provides: Iterable[ProvideRule] = (),
    ) -> None:
        self.requester = requester
        self._spis = {s.code: s for s in spis}
        self._providers = dict(providers)
        self.queries = tuple(queries)
        self.provides = tuple(provides)

    @classmethod
    def empty(cls) -> LegalBasisTable:
        """A table that allows nothing (what a hub wired without a table does: fail closed)."""
        return cls("", (), {}, ())

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LegalBasisTable:
        """Build from the parsed TOML document.

        Raises:
            ConfigurationError: a row lacks a field, names an unknown spi code, or is malformed.
        """
        head = data.get("requester")
        if not isinstance(head, dict):
            raise ConfigurationError("legal-basis table: needs a [requester] table")
        requester = _str(head, "name", "[requester]")
        spis = {}
        for i, e in enumerate(_list(data, "spi")):
            code = _str(e, "code", f"spi[{i}]")
            if len(code) != 16 or not code.startswith("TM") or not code[2:].isdigit():
                raise ConfigurationError(f"legal-basis table: spi[{i}] code is not TM + 14 digits")
            kind = e.get("kind")
            spis[code] = SpecificInfo(code, _str(e, "name", f"spi[{i}]"), str(kind) if kind else None)
        providers = {
            _str(e, "code", f"provider[{i}]"): _str(e, "kind", f"provider[{i}]")
            for i, e in enumerate(_list(data, "provider"))
        }
        queries = [
            QueryRule(
                requester=_str(e, "requester", f"query[{i}]"),
                use=_str(e, "use", f"query[{i}]"),
                jimu_code=_str(e, "jimu_code", f"query[{i}]"),
                jimu_name=_str(e, "jimu_name", f"query[{i}]"),
                current_item=_int(e, "current_item", f"query[{i}]") or 0,
                current_article=_str(e, "current_article", f"query[{i}]"),
                legacy_item=_int(e, "legacy_item", f"query[{i}]", optional=True),
                provider_kind=_str(e, "provider_kind", f"query[{i}]"),
                spi_codes=_codes(e, f"query[{i}]", spis),
            )
            for i, e in enumerate(_list(data, "query"))
        ]
        provides = [_provide(e, f"provide[{i}]", spis) for i, e in enumerate(_list(data, "provide"))]
        return cls(requester, spis.values(), providers, queries, provides)

    def spi(self, code: str) -> SpecificInfo | None:
        """The 特定個人情報名 of ``code``, if the table knows it."""
        return self._spis.get(code)

    def provider_kind(self, org_code: str) -> str | None:
        """The kind of provider an organisation code names: six digits are a municipality (市町村長)."""
        if len(org_code) == 6 and org_code.isascii() and org_code.isdigit():
            return MUNICIPALITY
        return self._providers.get(org_code)

    def check_query(
        self, *, jimu_code: str, basis: TableBasis, provider_org_code: str, spi_code: str
    ) -> QueryPermission:
        """Allow a query of this hub's requester, or refuse it saying which condition failed.

        Raises:
            LegalBasisRefused: no row allows the task, item, article, legacy item, provider and item together.
        """
        spi = self._spis.get(spi_code)
        if spi is None:
            raise LegalBasisRefused(f"特定個人情報名 {spi_code} is not in the legal-basis table")
        kind = self.provider_kind(provider_org_code)
        if kind is None:
            raise LegalBasisRefused(f"provider {provider_org_code} is of no kind the table knows")
        rows = [r for r in self.queries if r.jimu_code == jimu_code and r.current_item == basis.current_item]
        if not rows:
            raise LegalBasisRefused(f"no row allows task {jimu_code} under item {basis.current_item}")
        rows = [r for r in rows if r.current_article == basis.current_article]
        if not rows:
            raise LegalBasisRefused(f"item {basis.current_item} is not detailed in {basis.current_article}")
        rows = [r for r in rows if r.legacy_item == basis.legacy_item]
        if not rows:
            raise LegalBasisRefused(
                f"item {basis.current_item} does not correspond to 別表第二 item {basis.legacy_item}"
            )
        rows = [r for r in rows if r.provider_kind == kind]
        if not rows:
            raise LegalBasisRefused(f"item {basis.current_item} does not allow asking a {kind}")
        for rule in rows:
            if spi_code in rule.spi_codes:
                return QueryPermission(rule, spi, kind)
        raise LegalBasisRefused(
            f"item {basis.current_item} does not allow asking a {kind} for {spi.code} ({spi.name})"
        )

    def provide_rule(self, current_item: int, spi_code: str) -> ProvideRule | None:
        """The row where the federation provides ``spi_code`` under ``current_item``, if any.

        Rows whose current item is not known never match.
        """
        return next(
            (r for r in self.provides if r.current_item == current_item and spi_code in r.spi_codes), None
        )

    def __len__(self) -> int:
        return len(self.queries)

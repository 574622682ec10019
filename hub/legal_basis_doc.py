"""``docs/legal-basis.md``: the purpose table printed for readers, generated (a test keeps the two equal).

``renkei contracts legal-basis --write docs/legal-basis.md`` writes it; :func:`render` is the whole document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from contracts.purpose_table import ANY, PurposeTable

__all__ = ["render"]

_STATUS = {"verified": "verified", "inferred": "**inferred**"}


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return [*lines, ""]


def _laws(t: PurposeTable) -> list[str]:
    rows = [(f"`{law.code}`", law.name, law.short, law.url, law.note or "") for law in t.laws.values()]
    return ["## Laws", "", *_table(("code", "name", "cited as", "e-Gov", "note"), rows)]


def _bases(t: PurposeTable) -> list[str]:
    rows = [
        (
            f"`{b.code}`",
            b.text,
            b.legacy or "",
            b.summary,
            _STATUS[b.status],
            b.source,
        )
        for b in t.bases.values()
    ]
    return [
        "## Legal bases",
        "",
        "Each basis is **verified** (read in the public text named in *source*: the e-Gov law text, or a "
        "public mirror of it) or **inferred** (named by the seed or taken from domain knowledge, not read in "
        "the "
        "official text). *Numbering then* is the 2019 numbering the seed cites, where it differs.",
        "",
        *_table(("code", "basis", "numbering then", "what it says", "status", "source"), rows),
    ]


def _actors(t: PurposeTable) -> list[str]:
    kinds = {
        "federation": "市町村連合会",
        "shitei": "指定都市職員共済組合",
        "shichoson": "市町村職員共済組合",
        "toshi": "都市職員共済組合",
    }
    rows = [(f"`{a.code}`", a.name, kinds[a.kind.value]) for a in t.actors.values()]
    return [
        "## Actors",
        "",
        "The body on whose behalf a message runs. **The list of 構成組合 is synthetic**: the seed does not "
        "name the members; the names follow the real naming of the three kinds, the codes are renkei's own "
        "(kind letter and the 全国地方公共団体コード of the prefecture or city). Replace it with the "
        "federation's "
        "own list before production.",
        "",
        *_table(("code", "name", "kind"), rows),
    ]


def _jimu(t: PurposeTable) -> list[str]:
    rows = [(f"({j.no})", j.name, j.actors_text) for j in t.jimu.values()]
    requests = [
        (
            f"`{mt}`",
            f"({jimu.no})",
            f"`{purpose.code}`",
            "; ".join(f"{b.law} {b.article} {b.item or ''}".strip() for b in purpose.legal_basis),
        )
        for mt, (jimu, purpose) in t.requests.items()
    ]
    return [
        "## 事務 and who does them",
        "",
        "The seed (Ⅰ基本情報 3): 「(2)(6)(9)は構成組合のみが、(4)(5)(7)は市町村連合会のみが行う事務」. A "
        "message whose "
        "actor may not do its 事務 is refused (`actor_not_permitted`), dead-lettered and recorded.",
        "",
        *_table(("事務", "what", "done by"), rows),
        "Requests of the pension system, the 事務 each serves and the purpose and bases it travels under:",
        "",
        *_table(("message type", "事務", "purpose", "bases"), requests),
    ]


def _roles(t: PurposeTable) -> list[str]:
    roles = [
        (
            f"`{r.code}`",
            r.name,
            ", ".join(f"`{k.value}`" for k in sorted(r.usage_kinds)) or "(named by a declaration)",
        )
        for r in t.roles.values()
    ]
    held = [
        (
            f"`{h.code}`",
            h.name,
            ", ".join(f"`{b.code}`" for b in h.bases),
            ", ".join(t.roles[r].name for r in sorted(h.roles)),
            f"`{h.retention}`: " + ", ".join(f"`{b.code}`" for b in h.kept_under),
            h.note or "",
        )
        for h in t.held_under.values()
    ]
    return [
        "## Roles and how a number is held",
        "",
        "The seed's 利用番号 identify four kinds of person (システム1). A usage number of a kind names its "
        "role when nothing else says which (a dependant key asked about at J-LIS is a 加給年金額対象配偶者; "
        "a person "
        "named on a 扶養親族等申告書 is a 扶養控除対象者).",
        "",
        *_table(("role", "name", "usage-number kinds"), roles),
        "Every number in the vault carries its grounds: the person's role and the basis it was obtained "
        "under "
        "(`number_grounds`). How long it is kept is stated here too, once: the vault's retention basis and "
        "the articles behind it; the retention model (`hub/core/rules/retention_model.py`, "
        "docs/retention.md) takes both from this table.",
        "",
        *_table(
            ("held under", "name", "bases", "roles obtained so", "kept (retention basis: under)", "note"),
            held,
        ),
        "Numbers stored before grounds existed got a default from how they were enrolled (migration "
        "`0010_purpose_and_actors`): a subject with a 年金証書記号番号 or 基礎年金番号 in force is "
        "`recipient` held under `jlis`; one with a dependant key in force and a number kept for the pension "
        "is `spouse` under `jlis`; one whose number is kept for a 扶養親族等申告書 is `dependant` under "
        "`declaration`. A number "
        "that fits none has no grounds, and every use of it is refused (`no_recorded_basis`).",
        "",
    ]


def _permits(t: PurposeTable, permits: Any) -> str:
    parts = []
    for role, held in permits.items():
        names = [
            "any (also before it is obtained)" if h == ANY else t.held_under[h].name for h in sorted(held)
        ]
        parts.append(f"{t.roles[role].name}: {', '.join(names)}")
    return "; ".join(parts)


def _uses(t: PurposeTable) -> list[str]:
    rows = [
        (
            f"`{u.code}`",
            u.name,
            f"({u.jimu.no}) {u.jimu.actors_text}",
            f"{u.destination} · `{u.message_type}`",
            u.carries,
            "<br>".join(f"{b.text} ({b.status})" for b in u.bases),
            _permits(t, u.permits),
        )
        for u in t.uses.values()
    ]
    held_codes = [*t.held_under, None]
    header = ["use", *(f"{t.roles[r].name}" for r in t.roles)]
    matrix = []
    for u in t.uses.values():
        cells = []
        for role in t.roles:
            allowed = [h for h in held_codes if u.allows(role, h)]
            cells.append(
                "—" if not allowed else ", ".join("取得前" if h is None else f"`{h}`" for h in allowed)
            )
        matrix.append((f"`{u.code}`", *cells))
    return [
        "## Uses of a number",
        "",
        "Every outgoing use, the 事務 it serves (and so who may do it), what travels, its bases, and the "
        "(role, held under) pairs that permit it. Before a number is sealed (or a code sent, or J-LIS "
        "asked), the hub checks the person's grounds and the message's actor against this table "
        "(`hub/core/flows/purpose.py`); a record that fails is not sent, an access record REFUSED names the "
        "rule "
        "(`purpose_table:<use>`), and the pension system is told `not_permitted` with the reason "
        "(`role_not_permitted`, `basis_not_permitted`, `actor_not_permitted`, `no_recorded_basis`).",
        "",
        *_table(("use", "name", "事務 (who)", "to · message", "carries", "bases", "permitted for"), rows),
        "Which grounds each use permits (role in the columns; `取得前`: a person not yet holding a number):",
        "",
        *_table(header, matrix),
    ]


def _network(t: PurposeTable) -> list[str]:
    data = t.data
    spis = {e["code"]: e["name"] for e in data.get("spi", [])}
    queries = [
        (
            f"{e['current_item']}（{e['current_article']}）",
            e.get("legacy_item") or "",
            f"`{e['use']}`",
            e["jimu_code"],
            e["jimu_name"],
            e["provider_kind"],
            ", ".join(f"{c} {spis[c]}" for c in e["spi_codes"]),
        )
        for e in data.get("query", [])
    ]
    provides = [
        (
            e.get("legacy_item") or "(不明)",
            f"{e['current_item']}（{e['current_article']}）" if e.get("current_item") else "(未対応付け)",
            e["requester_kind"],
            e["jimu_name"],
            ", ".join(f"{c} {spis[c]}" for c in e["spi_codes"]),
            e.get("dataset", ""),
            _STATUS.get(e.get("status", "inferred"), e.get("status")),
        )
        for e in data.get("provide", [])
    ]
    datasets = [
        (e["code"], e["name"], _STATUS.get(e.get("status", "inferred"))) for e in data.get("dataset", [])
    ]
    return [
        "## The information-provision network",
        "",
        "番号法 第19条第8号 (第7号 in the 2019 numbering) and the 命令 第2条の表, which replaced the "
        "別表第二. Every row keeps both numberings. The 特定個人情報名コード (TM + 14 digits), 事務コード "
        "and data-set codes "
        "are renkei's own placeholders: the intermediate server's code tables are not public (**inferred**).",
        "",
        "### 情報照会 (the seed: 別表第二 35, 59, 60)",
        "",
        *_table(("命令 第2条の表", "別表第二", "use", "事務コード", "事務", "provider", "items"), queries),
        "### 情報提供 from the 副本 (the seed: 別表第二 1, 2, 3, 4, 6, 9, 12, 15, 25, 26, 34, 39, 57, 58, "
        "62, 66, "
        "68, 72, 81, 85, 92, 94, 106, 110, 114, 120)",
        "",
        "Rows whose current item is known are served in provision notices; the others are kept with their "
        "legacy number until the mapping is confirmed. No public source names the requester, 事務 or data "
        "set "
        "of most rows: they are **inferred** and say so.",
        "",
        *_table(("別表第二", "命令 第2条の表", "requester", "事務", "items", "data set", "status"), provides),
        *_table(("data set", "what it holds", "status"), datasets),
    ]


def render(table: PurposeTable) -> str:
    """The whole of ``docs/legal-basis.md``."""
    lines = [
        "# Legal bases, purposes and actors",
        "",
        "<!-- Generated from contracts/purpose_table.toml by `renkei contracts legal-basis --write "
        "docs/legal-basis.md`; do not edit by hand: a test fails when the two differ. -->",
        "",
        "Why renkei holds each Individual Number, what it may use it for, and on whose behalf. The rules "
        "live once, as data, in `contracts/purpose_table.toml`; the hub's number policy, legal-basis table, "
        "purpose "
        "check and actor check, the adapters' purposes and this page are all made from it.",
        "",
        *_laws(table),
        *_bases(table),
        *_actors(table),
        *_jimu(table),
        *_roles(table),
        *_uses(table),
        *_network(table),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"

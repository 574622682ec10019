"""Each exchange's purpose code is declared once, in ``contracts.purposes``, agreeing with the purpose table.

The table (``contracts/purpose_table.toml``) holds the rules; code names a purpose through the constant and
never spells its string again, so that a renamed purpose cannot leave one side of an exchange behind.
"""

from __future__ import annotations

import ast
from pathlib import Path

import contracts.purposes as purposes
from contracts.purpose_table import default_table
from contracts.registry import registered

ROOT = Path(__file__).resolve().parents[2]
CODES = {name: getattr(purposes, name) for name in purposes.__all__}
USES = {
    "ELTAX_PAYMENT_REPORT",
    "ELTAX_TOKUCHO_NOTICE",
    "ELTAX_TOKUCHO_TARGET_NOTICE",
    "IS_CODE_ACQUISITION",
    "IS_DUPLICATE",
    "JLIS_NUMBER_ACQUISITION",
    "JLIS_SURVIVAL_CHANGE",
}


def test_every_use_constant_names_a_use_of_the_table():
    table = default_table()
    for name in USES:
        assert table.use(CODES[name]).code == CODES[name]
    assert {u for u in table.uses if u.startswith(purposes.IS_INFO_QUERY + ".")}, "no info-query rows"


def test_every_request_of_the_table_travels_under_a_declared_purpose():
    table = default_table()
    declared = set(CODES.values())
    for message_type in table.requests:
        assert table.request_purpose(message_type).code in declared, message_type


def test_the_constants_are_distinct():
    assert len(set(CODES.values())) == len(CODES)


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def test_no_code_restates_a_purpose_code():
    # A code that is also a message type's name (eltax.tokucho.notice) is left to the message registry.
    message_types = {message_type for (message_type, _), _ in registered()}
    codes = set(CODES.values()) - message_types
    found = []
    for package in ("hub", "adapters", "contracts"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "contracts" / "purposes.py" or "migrations" in path.parts:
                continue
            found += [
                f"{path.relative_to(ROOT)}:{line}: {value}"
                for line, value in _string_constants(path)
                if value in codes
            ]
    assert found == [], "use contracts.purposes instead:\n" + "\n".join(found)
